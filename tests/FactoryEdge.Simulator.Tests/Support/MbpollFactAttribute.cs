
namespace FactoryEdge.Simulator.Tests.Support;

/// <summary>
/// A test that needs Debian's mbpoll (installed by tests/peers/modbus/install.sh). Skipped, with the
/// reason, when mbpoll is missing; under CI=true it runs and fails, so a missing install step cannot hide.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class MbpollFactAttribute : FactAttribute
{
    public MbpollFactAttribute()
    {
        if (Mbpoll.Path is null && !TestData.IsCi)
        {
            Skip = "mbpoll is not installed (run tests/peers/modbus/install.sh as root)";
        }
    }
}

/// <summary>Where mbpoll is.</summary>
internal static class Mbpoll
{
    public static string? Path { get; } = Find();

    /// <summary>The path, or a failure that says how to install it (CI=true runs the test anyway).</summary>
    public static string Require() =>
        Path ?? throw new InvalidOperationException("mbpoll is not installed: run tests/peers/modbus/install.sh (as root) first.");

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "mbpoll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
