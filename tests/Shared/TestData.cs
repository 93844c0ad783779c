namespace FactoryEdge.Tests.Shared;

/// <summary>Locates the repository and the CWRU recordings (never committed; see ../shared/data/cwru).</summary>
internal static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The CWRU folder: FACTORYEDGE_CWRU_DIR, else ../shared/data/cwru beside the checkout.</summary>
    public static string CwruDirectory { get; } =
        Environment.GetEnvironmentVariable("FACTORYEDGE_CWRU_DIR") is { Length: > 0 } dir
            ? dir
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data", "cwru"));

    public static bool CwruAvailable => Directory.Exists(CwruDirectory);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string Cwru(string fileName)
    {
        var path = Path.Combine(CwruDirectory, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CWRU recording '{fileName}' not found in {CwruDirectory}.", path);
        }

        return path;
    }

    public const string Normal = "cwru_48k_normal_0hp_97.csv";
    public const string InnerRace = "cwru_48k_inner_race_007_0hp_109.csv";
    public const string OuterRace = "cwru_48k_outer_race_007_at6_0hp_135.csv";
    public const string Ball = "cwru_48k_ball_007_0hp_122.csv";

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FactoryEdge.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("FactoryEdge.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// A fact that needs the CWRU recordings: skipped (visibly) when they are absent outside CI; under
/// CI=true it runs and fails on the missing files.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CwruFactAttribute : FactAttribute
{
    public CwruFactAttribute()
    {
        if (!TestData.CwruAvailable && !TestData.IsCi)
        {
            Skip = $"CWRU recordings not found at {TestData.CwruDirectory} (set FACTORYEDGE_CWRU_DIR)";
        }
    }
}

/// <inheritdoc cref="CwruFactAttribute"/>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class CwruTheoryAttribute : TheoryAttribute
{
    public CwruTheoryAttribute()
    {
        if (!TestData.CwruAvailable && !TestData.IsCi)
        {
            Skip = $"CWRU recordings not found at {TestData.CwruDirectory} (set FACTORYEDGE_CWRU_DIR)";
        }
    }
}
