using System.Globalization;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Telemetry;

/// <summary>
/// Telemetry settings (section <see cref="SectionName"/>). With no <see cref="InfluxOptions.Url"/>
/// the spool is the embedded store (kept for <see cref="SpoolOptions.RetentionHours"/>, shown by
/// <c>factoryedge telemetry tail/query</c>). Strings are used for enumerations so that a bad value
/// is reported with its key and the allowed values (<see cref="TelemetryOptionsValidator"/>).
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "FactoryEdge:Telemetry";

    /// <summary>False turns telemetry off (no sink, no notifier, no reporter).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>WriteBehind</c> (default): records go from a bounded memory buffer straight to the server
    /// and spill to the spool only when it is unreachable or behind. <c>Durable</c>: every record is
    /// committed to the spool first.
    /// </summary>
    public string Mode { get; set; } = "WriteBehind";

    /// <summary>Write every Nth window of a channel (1 = all). Anomalous and unhealthy windows are always written.</summary>
    public int Decimation { get; set; } = 1;

    /// <summary>Feature names to write (empty = every feature of the pipeline's schema).</summary>
    public List<string> Features { get; set; } = [];

    /// <summary>Seconds between channel-health and gateway-metrics points (0 = off).</summary>
    public double HealthIntervalSeconds { get; set; } = 10;

    /// <summary>Timestamp precision written: ns (default), us, ms or s.</summary>
    public string Precision { get; set; } = "ns";

    /// <summary>Lines per write request at most.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>
    /// Longest time a record waits in memory before it is sent (or, in the embedded store, committed):
    /// the in-memory window a crash can lose in write-behind mode.
    /// </summary>
    public int FlushIntervalMs { get; set; } = 1000;

    /// <summary>Write-behind: lines held in memory while the server is slow before the oldest spill to the spool.</summary>
    public int MemoryBufferLines { get; set; } = 20000;

    public InfluxOptions Influx { get; set; } = new();

    public SpoolOptions Spool { get; set; } = new();

    internal bool IsDurable => string.Equals(Mode, "Durable", StringComparison.OrdinalIgnoreCase);

    internal bool HasServer => !string.IsNullOrWhiteSpace(Influx.Url);

    internal TimestampPrecision TimestampPrecision => Precision.ToLowerInvariant() switch
    {
        "us" or "u" => TimestampPrecision.Microseconds,
        "ms" => TimestampPrecision.Milliseconds,
        "s" => TimestampPrecision.Seconds,
        _ => TimestampPrecision.Nanoseconds,
    };
}

/// <summary>The InfluxDB server (section <c>FactoryEdge:Telemetry:Influx</c>).</summary>
public sealed class InfluxOptions
{
    /// <summary>Base URL (http://host:8086 or https://...). Empty: no server, the spool is the store.</summary>
    public string Url { get; set; } = "";

    /// <summary><c>v2</c> (InfluxDB 2.x/3.x/Cloud, 1.8+ with org/bucket/token, VictoriaMetrics) or <c>v1</c> (the /write endpoint of InfluxDB 1.x).</summary>
    public string Api { get; set; } = "v2";

    /// <summary>v2: organisation.</summary>
    public string Org { get; set; } = "";

    /// <summary>v2: bucket (for 1.8+: database/retention-policy).</summary>
    public string Bucket { get; set; } = "";

    /// <summary>v1: database.</summary>
    public string Database { get; set; } = "";

    /// <summary>v1: retention policy (empty: the database's default).</summary>
    public string RetentionPolicy { get; set; } = "";

    /// <summary>v1: user name (the password comes from <see cref="PasswordEnv"/> or <see cref="PasswordFile"/>).</summary>
    public string Username { get; set; } = "";

    /// <summary>Environment variable holding the v2 token (never logged).</summary>
    public string TokenEnv { get; set; } = "FACTORYEDGE_INFLUX_TOKEN";

    /// <summary>File holding the v2 token (takes precedence over <see cref="TokenEnv"/>; never logged).</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>Environment variable holding the v1 password.</summary>
    public string PasswordEnv { get; set; } = "FACTORYEDGE_INFLUX_PASSWORD";

    /// <summary>File holding the v1 password (takes precedence over <see cref="PasswordEnv"/>).</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>Compress request bodies with gzip.</summary>
    public bool Gzip { get; set; } = true;

    public int TimeoutMs { get; set; } = 10_000;

    /// <summary>PEM file of the CA (or self-signed certificate) to trust for this server, besides the system store.</summary>
    public string CaFile { get; set; } = "";

    /// <summary>Accepts any server certificate. For commissioning only: logged as a warning at start.</summary>
    public bool AllowInvalidCertificates { get; set; }

    /// <summary>Longest wait between retries while the server is unreachable.</summary>
    public int MaxRetryDelayMs { get; set; } = 30_000;

    internal bool IsV1 => string.Equals(Api, "v1", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The SQLite spool (section <c>FactoryEdge:Telemetry:Spool</c>).</summary>
public sealed class SpoolOptions
{
    /// <summary>Spool file. Empty: <c>$STATE_DIRECTORY/telemetry.db</c> under systemd, else the user's local application data folder (FactoryEdge/telemetry.db).</summary>
    public string Path { get; set; } = "";

    /// <summary>Cap of the spooled data; when reached the oldest telemetry is evicted (alerts never are).</summary>
    public int MaxMegabytes { get; set; } = 1024;

    /// <summary>SQLite's <c>synchronous</c>: <c>Normal</c> (default; a power cut can roll back the last commits) or <c>Full</c> (each commit reaches the disk).</summary>
    public string Synchronous { get; set; } = "Normal";

    /// <summary>Durable mode: 0 commits every record (nothing acknowledged is lost); N > 0 groups the records of N ms in one commit (far fewer disk writes).</summary>
    public int CommitIntervalMs { get; set; }

    /// <summary>Write-behind: backlog lines drained per second at most after an outage, beside live data (0 = unbounded).</summary>
    public int DrainLinesPerSecond { get; set; } = 20_000;

    /// <summary>Embedded store: hours of data kept (0 = until the cap).</summary>
    public double RetentionHours { get; set; } = 168;

    /// <summary>Compress spooled batches (gzip) to save disk writes.</summary>
    public bool Compress { get; set; } = true;

    /// <summary>Runs SQLite's quick_check at start; a corrupt spool is moved aside and a new one created.</summary>
    public bool CheckAtStart { get; set; } = true;

    /// <summary>The spool file this configuration uses.</summary>
    public string ResolvePath()
    {
        if (!string.IsNullOrWhiteSpace(Path))
        {
            return System.IO.Path.GetFullPath(Path);
        }

        return DefaultPath();
    }

    /// <summary>Default spool location: systemd's state directory, else local application data.</summary>
    public static string DefaultPath()
    {
        var state = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        if (!string.IsNullOrWhiteSpace(state))
        {
            // systemd may list several directories separated by ':'; the first is ours.
            return System.IO.Path.Combine(state.Split(':')[0], "telemetry.db");
        }

        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(local))
        {
            local = System.IO.Path.GetTempPath();
        }

        return System.IO.Path.Combine(local, "FactoryEdge", "telemetry.db");
    }
}

/// <summary>Validates telemetry options; every failure names the key and the allowed values.</summary>
public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    private const string S = TelemetryOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        OneOf(failures, "Mode", options.Mode, ["WriteBehind", "Durable"]);
        OneOf(failures, "Precision", options.Precision, ["ns", "us", "ms", "s"]);
        Range(failures, "Decimation", options.Decimation, 1, 1_000_000);
        Range(failures, "HealthIntervalSeconds", options.HealthIntervalSeconds, 0, 86_400);
        Range(failures, "BatchSize", options.BatchSize, 1, 1_000_000);
        Range(failures, "FlushIntervalMs", options.FlushIntervalMs, 10, 600_000);
        Range(failures, "MemoryBufferLines", options.MemoryBufferLines, 100, 100_000_000);
        for (var i = 0; i < options.Features.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.Features[i]))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{S}:Features:{i} is empty: use a feature name (see docs/telemetry.md) or remove it."));
            }
        }

        var influx = options.Influx ?? new InfluxOptions();
        if (!string.IsNullOrWhiteSpace(influx.Url))
        {
            if (!Uri.TryCreate(influx.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{S}:Influx:Url = '{influx.Url}' is not allowed: use an absolute http:// or https:// URL, or leave it empty for the embedded store.");
            }

            OneOf(failures, "Influx:Api", influx.Api, ["v2", "v1"]);
            if (influx.IsV1)
            {
                if (string.IsNullOrWhiteSpace(influx.Database))
                {
                    failures.Add($"{S}:Influx:Database is required with Influx:Api = v1: use the InfluxDB 1.x database name.");
                }
            }
            else if (string.Equals(influx.Api, "v2", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(influx.Bucket))
            {
                failures.Add($"{S}:Influx:Bucket is required with Influx:Api = v2: use the bucket name (database/retention-policy for InfluxDB 1.8).");
            }

            Range(failures, "Influx:TimeoutMs", influx.TimeoutMs, 100, 600_000);
            Range(failures, "Influx:MaxRetryDelayMs", influx.MaxRetryDelayMs, 100, 3_600_000);
            FileKey(failures, "Influx:TokenFile", influx.TokenFile);
            FileKey(failures, "Influx:PasswordFile", influx.PasswordFile);
            FileKey(failures, "Influx:CaFile", influx.CaFile);
            if (!string.IsNullOrEmpty(influx.CaFile) && File.Exists(influx.CaFile))
            {
                try
                {
                    TlsValidation.LoadCertificates(influx.CaFile);
                }
                catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or InvalidDataException)
                {
                    failures.Add($"{S}:Influx:CaFile = '{influx.CaFile}' cannot be read as PEM certificates: {ex.Message}");
                }
            }
        }

        var spool = options.Spool ?? new SpoolOptions();
        Range(failures, "Spool:MaxMegabytes", spool.MaxMegabytes, 1, 1_000_000);
        OneOf(failures, "Spool:Synchronous", spool.Synchronous, ["Normal", "Full"]);
        Range(failures, "Spool:CommitIntervalMs", spool.CommitIntervalMs, 0, 60_000);
        Range(failures, "Spool:DrainLinesPerSecond", spool.DrainLinesPerSecond, 0, 100_000_000);
        Range(failures, "Spool:RetentionHours", spool.RetentionHours, 0, 24 * 3650);
        if (!string.IsNullOrWhiteSpace(spool.Path) && spool.Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"{S}:Spool:Path = '{spool.Path}' is not a valid path.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void OneOf(List<string> failures, string key, string? value, string[] allowed)
    {
        foreach (var a in allowed)
        {
            if (string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        failures.Add($"{S}:{key} = '{value}' is not allowed: use {string.Join(", ", allowed)}.");
    }

    private static void Range(List<string> failures, string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{S}:{key} = {value} is not allowed: use a value from {min} to {max}."));
        }
    }

    private static void FileKey(List<string> failures, string key, string? path)
    {
        if (!string.IsNullOrEmpty(path) && !File.Exists(path))
        {
            failures.Add($"{S}:{key} = '{path}': file not found.");
        }
    }
}
