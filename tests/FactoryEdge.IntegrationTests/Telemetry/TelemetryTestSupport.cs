using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Telemetry;

namespace FactoryEdge.IntegrationTests.Telemetry;

/// <summary>Deterministic windows (20 features) whose values can be recomputed from channel and number.</summary>
internal static class Synthetic
{
    public static readonly string[] FeatureNames = [.. Enumerable.Range(0, 20).Select(i => i switch
    {
        0 => "rms",
        1 => "peak",
        2 => "kurtosis",
        3 => "crest_factor",
        _ => string.Create(CultureInfo.InvariantCulture, $"f{i:00}"),
    })];

    public static ChannelId Channel(int index) => new("plant", "line-1", string.Create(CultureInfo.InvariantCulture, $"m{index:00}"), "de", "x");

    public static float Feature(int channel, long number, int feature) =>
        (float)((channel * 10.0) + (number * 0.137) + (feature * 1.01) + (feature % 3 == 0 ? 1e-5 : 0.001));

    /// <summary>Source time of window <paramref name="number"/>: 40 ms apart from <paramref name="baseTicks"/>.</summary>
    public static long Ticks(long baseTicks, long number) => baseTicks + (number * 40 * TimeSpan.TicksPerMillisecond);

    public static WindowResult Window(int channel, long number, long baseTicks)
    {
        var r = new WindowResult(FeatureNames.Length)
        {
            ChannelIndex = channel,
            Channel = Channel(channel),
            WindowNumber = number,
            FirstSampleIndex = number * 512,
            WindowSize = 1024,
            SampleRateHz = 25600,
            Score = 1 + (number % 5),
            Threshold = 6,
            MachineState = MachineState.Running,
        };
        for (var i = 0; i < r.Features.Length; i++)
        {
            r.Features[i] = Feature(channel, number, i);
        }

        r.Timestamps.SourceStartTicks = Ticks(baseTicks, number);
        return r;
    }

    public static Alert Alert(int channel, int n, long baseTicks) => new()
    {
        AlertId = string.Create(CultureInfo.InvariantCulture, $"{channel:x8}{n:x24}"),
        Channel = Channel(channel),
        State = AlertState.Raised,
        Severity = AlertSeverity.Critical,
        SourceTime = new DateTimeOffset(Ticks(baseTicks, n * 10) + 1, TimeSpan.Zero),
        Score = 20 + n,
        Threshold = 6,
        ModelId = "baseline",
        Message = string.Create(CultureInfo.InvariantCulture, $"m{channel:00}: anomalous vibration, alert {n}"),
    };

    /// <summary>A base time well in the past (so tests never collide with each other's series), aligned to a second.</summary>
    public static long BaseTicks(int day) => new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(day).Ticks;

    public static TelemetryOptions Options(string spoolPath, string url, bool v1, string database, string mode = "WriteBehind", Action<TelemetryOptions>? configure = null)
    {
        var options = new TelemetryOptions
        {
            Mode = mode,
            FlushIntervalMs = 100,
            BatchSize = 2000,
            HealthIntervalSeconds = 0,
            Influx = new InfluxOptions
            {
                Url = url,
                Api = v1 ? "v1" : "v2",
                Database = v1 ? database : "",
                Bucket = v1 ? "" : database,
                Org = "factoryedge",
                TokenEnv = "",
                MaxRetryDelayMs = 1000,
                TimeoutMs = 5000,
            },
            Spool = new SpoolOptions { Path = spoolPath, DrainLinesPerSecond = 0 },
        };
        configure?.Invoke(options);
        return options;
    }

    public static async Task WaitDelivered(TelemetryService service, long expectedSent, TimeSpan guard)
    {
        await TelemetryPeers.WaitUntil(
            () =>
            {
                var s = service.GetStatistics();
                return Task.FromResult(s.SentLines >= expectedSent && s.MemoryLines == 0 && s.Spool.Lines == 0);
            },
            guard,
            "telemetry delivered: " + service.GetStatistics());
    }

    public static string TempFile(string name) => Path.Combine(Path.GetTempPath(), "fe-telemetry-it-" + Guid.NewGuid().ToString("N"), name);

    public static void DeleteTempFile(string path)
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Tests that run servers and gateways in real time (outages, SIGKILL cycles) run alone, not beside
/// the other integration tests, so that their timing bounds do not depend on what else shares the cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetrySerialCollection
{
    public const string Name = "Telemetry real-time (serial)";
}
