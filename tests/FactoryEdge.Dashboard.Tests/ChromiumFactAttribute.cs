using FactoryEdge.Tests.Shared;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// A browser test: runs when Debian's chromium is installed (tests/peers/chromium/install.sh); under
/// CI=true it always runs, so a missing chromium fails the run instead of skipping.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable("FACTORYEDGE_CHROMIUM") is { Length: > 0 } p ? p : ExecutablePath;
        if (!File.Exists(path) && !TestData.IsCi)
        {
            Skip = $"chromium not found at {path} (run tests/peers/chromium/install.sh as root, or set FACTORYEDGE_CHROMIUM)";
        }
    }

    public static string Path => Environment.GetEnvironmentVariable("FACTORYEDGE_CHROMIUM") is { Length: > 0 } p ? p : ExecutablePath;
}
