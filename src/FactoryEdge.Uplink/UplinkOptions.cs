using System.Globalization;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Uplink;

/// <summary>What starts a capture around an event.</summary>
public enum UplinkTrigger
{
    /// <summary>An alert raised or escalated by the pipeline's alert rules.</summary>
    Alert,

    /// <summary>Every anomalous window (score over threshold), even when no alert follows.</summary>
    Anomalous,
}

/// <summary>Where batches go.</summary>
public enum UplinkTargetKind
{
    /// <summary>POST to a generic HTTPS ingestion endpoint (the reference receiver speaks it).</summary>
    Http,

    /// <summary>PUT Object to S3-compatible storage through AWSSDK.S3.</summary>
    S3,
}

/// <summary><c>FactoryEdge:Uplink</c>: training windows to the cloud (docs/uplink.md).</summary>
public sealed class UplinkOptions
{
    public const string SectionName = "FactoryEdge:Uplink";

    /// <summary>Off by default: nothing is captured, written or sent.</summary>
    public bool Enabled { get; set; }

    public CaptureOptions Capture { get; set; } = new();

    public BatchOptions Batch { get; set; } = new();

    public UplinkSpoolOptions Spool { get; set; } = new();

    public EncryptionOptions Encryption { get; set; } = new();

    public UploadOptions Upload { get; set; } = new();
}

public sealed class CaptureOptions
{
    public UplinkTrigger Trigger { get; set; } = UplinkTrigger.Alert;

    /// <summary>Windows before the trigger kept in each channel's ring and sent with it.</summary>
    public int PreTriggerWindows { get; set; } = 8;

    /// <summary>Windows after the trigger window.</summary>
    public int PostTriggerWindows { get; set; } = 8;

    /// <summary>One normal window per channel every this many seconds (0 = no periodic samples).</summary>
    public double SampleIntervalSeconds { get; set; } = 600;

    /// <summary>Windows in a row per periodic sample (consecutive windows keep the lead-up of slow features).</summary>
    public int SampleWindows { get; set; } = 1;

    /// <summary>Per channel, bytes of raw samples per UTC day (0 = no per-channel limit).</summary>
    public long ChannelBytesPerDay { get; set; } = 64L * 1024 * 1024;

    /// <summary>All channels together, bytes of raw samples per UTC day (0 = no limit).</summary>
    public long TotalBytesPerDay { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Share of each budget periodic samples may use, so that alerts late in the day still fit.</summary>
    public double SampleShareOfBudget { get; set; } = 0.5;

    /// <summary>Extra ring slots that absorb the delay between a window and its alert notification (memory: (pre + slack + 1) windows per channel).</summary>
    public int TriggerSlackWindows { get; set; } = 8;
}

public sealed class BatchOptions
{
    /// <summary>A batch is sealed when its raw samples reach this size.</summary>
    public int MaxBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>… or when its oldest window is this old (a crash loses at most this much).</summary>
    public double MaxAgeSeconds { get; set; } = 60;

    /// <summary>gzip level: Fastest, Optimal, SmallestSize.</summary>
    public string Compression { get; set; } = "Optimal";

    /// <summary>
    /// Sample encoding before gzip: <c>Plain</c> float32, <c>ByteSplit</c> (four byte planes per run),
    /// or <c>Auto</c>: both, the smaller kept (twice the compression work, on the writer thread).
    /// Quantised ADC data repeat whole floats and favour Plain (CWRU: 2.5–3.3× against 2.2×);
    /// high-resolution noise favours ByteSplit. See docs/uplink.md.
    /// </summary>
    public string Encoding { get; set; } = "Auto";
}

public sealed class UplinkSpoolOptions
{
    /// <summary>Folder of sealed batches (pending/, quarantine/); default $STATE_DIRECTORY/uplink or ~/.local/share/FactoryEdge/uplink.</summary>
    public string Path { get; set; } = "";

    /// <summary>Cap of pending batches on disk; past it new captures are refused (counted), nothing stored is deleted.</summary>
    public long MaxMegabytes { get; set; } = 4096;
}

public sealed class EncryptionOptions
{
    /// <summary>AES-256-GCM at rest. Off only for development.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>File with the 32-byte key (raw, base64 or hex). Wins over <see cref="KeyEnv"/>.</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>Environment variable with the key (base64 or hex).</summary>
    public string KeyEnv { get; set; } = "FACTORYEDGE_UPLINK_KEY";
}

public sealed class UploadOptions
{
    public UplinkTargetKind Target { get; set; } = UplinkTargetKind.Http;

    /// <summary>HTTP: the ingestion URL batches are POSTed to. S3: the service URL (e.g. https://s3.eu-central-1.amazonaws.com, or MinIO's).</summary>
    public string Url { get; set; } = "";

    /// <summary>S3: bucket.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>S3: key prefix; keys are PREFIX/GATEWAY/yyyy/MM/dd/HASH.feb.</summary>
    public string Prefix { get; set; } = "factoryedge";

    /// <summary>S3: signing region.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>S3: path-style addressing (MinIO, Ceph, most on-premises stores).</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>S3: access key id, from this environment variable.</summary>
    public string AccessKeyEnv { get; set; } = "FACTORYEDGE_UPLINK_ACCESS_KEY";

    /// <summary>S3: secret key from a file (wins) or this environment variable.</summary>
    public string SecretKeyFile { get; set; } = "";

    public string SecretKeyEnv { get; set; } = "FACTORYEDGE_UPLINK_SECRET_KEY";

    /// <summary>HTTP: bearer token from a file (wins) or an environment variable; none when both are empty/unset.</summary>
    public string TokenFile { get; set; } = "";

    public string TokenEnv { get; set; } = "FACTORYEDGE_UPLINK_TOKEN";

    /// <summary>Client certificate (PEM certificate, with <see cref="ClientKeyFile"/>; or a PKCS#12 file).</summary>
    public string ClientCertificateFile { get; set; } = "";

    public string ClientKeyFile { get; set; } = "";

    /// <summary>PKCS#12 password from this environment variable.</summary>
    public string ClientCertificatePasswordEnv { get; set; } = "FACTORYEDGE_UPLINK_CERT_PASSWORD";

    /// <summary>CA (or self-signed server certificate) trusted besides the system store, PEM.</summary>
    public string CaFile { get; set; } = "";

    public double TimeoutSeconds { get; set; } = 60;

    /// <summary>Bytes per second on the wire (0 = unlimited).</summary>
    public long MaxBytesPerSecond { get; set; }

    /// <summary>Local-time windows when uploads may run, e.g. "22:00-06:00"; empty = always.</summary>
    public List<string> Windows { get; set; } = [];

    /// <summary>Batches holding alert captures go out at once, outside the windows.</summary>
    public bool AlertBatchesAnytime { get; set; } = true;

    public double InitialRetryDelaySeconds { get; set; } = 1;

    public double MaxRetryDelaySeconds { get; set; } = 300;

    /// <summary>How often the spool folder is scanned for batches when idle.</summary>
    public double PollSeconds { get; set; } = 5;
}

/// <summary>Checks <see cref="UplinkOptions"/>; each message names the key.</summary>
public sealed class UplinkOptionsValidator : IValidateOptions<UplinkOptions>
{
    private const string P = UplinkOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, UplinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        var c = options.Capture;
        Range(errors, "Capture:PreTriggerWindows", c.PreTriggerWindows, 0, 1024);
        Range(errors, "Capture:PostTriggerWindows", c.PostTriggerWindows, 0, 1024);
        Range(errors, "Capture:SampleIntervalSeconds", c.SampleIntervalSeconds, 0, 7 * 86400);
        Range(errors, "Capture:SampleWindows", c.SampleWindows, 1, 1024);
        Range(errors, "Capture:ChannelBytesPerDay", c.ChannelBytesPerDay, 0, long.MaxValue);
        Range(errors, "Capture:TotalBytesPerDay", c.TotalBytesPerDay, 0, long.MaxValue);
        Range(errors, "Capture:SampleShareOfBudget", c.SampleShareOfBudget, 0, 1);
        Range(errors, "Capture:TriggerSlackWindows", c.TriggerSlackWindows, 0, 4096);
        var b = options.Batch;
        Range(errors, "Batch:MaxBytes", b.MaxBytes, 64 * 1024, 256 * 1024 * 1024);
        Range(errors, "Batch:MaxAgeSeconds", b.MaxAgeSeconds, 0.01, 86400);
        if (!BatchWriter.TryParseLevel(b.Compression, out _))
        {
            errors.Add($"{P}Batch:Compression must be Fastest, Optimal or SmallestSize (was '{b.Compression}').");
        }

        if (b.Encoding is not ("Auto" or "Plain" or "ByteSplit"))
        {
            errors.Add($"{P}Batch:Encoding must be Auto, Plain or ByteSplit (was '{b.Encoding}').");
        }

        Range(errors, "Spool:MaxMegabytes", options.Spool.MaxMegabytes, 1, long.MaxValue);
        var e = options.Encryption;
        if (e.Enabled && string.IsNullOrWhiteSpace(e.KeyFile) && string.IsNullOrWhiteSpace(e.KeyEnv))
        {
            errors.Add($"{P}Encryption:KeyFile or {P}Encryption:KeyEnv must name the 32-byte key (or set {P}Encryption:Enabled = false for development).");
        }
        else if (e.Enabled && !string.IsNullOrWhiteSpace(e.KeyFile))
        {
            FileMustExist(errors, "Encryption:KeyFile", e.KeyFile);
        }
        else if (e.Enabled && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(e.KeyEnv)))
        {
            errors.Add($"{P}Encryption:KeyEnv: environment variable {e.KeyEnv} is not set (and {P}Encryption:KeyFile is empty): no key to encrypt batches at rest.");
        }

        var u = options.Upload;
        if (!Uri.TryCreate(u.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{P}Upload:Url must be an absolute http(s) URL (was '{u.Url}').");
        }

        if (u.Target == UplinkTargetKind.S3 && string.IsNullOrWhiteSpace(u.Bucket))
        {
            errors.Add($"{P}Upload:Bucket is required with Target = S3.");
        }

        if (!string.IsNullOrEmpty(u.ClientKeyFile) && string.IsNullOrEmpty(u.ClientCertificateFile))
        {
            errors.Add($"{P}Upload:ClientKeyFile needs {P}Upload:ClientCertificateFile.");
        }

        FileMustExist(errors, "Upload:TokenFile", u.TokenFile);
        FileMustExist(errors, "Upload:ClientCertificateFile", u.ClientCertificateFile);
        FileMustExist(errors, "Upload:ClientKeyFile", u.ClientKeyFile);
        FileMustExist(errors, "Upload:CaFile", u.CaFile);
        if (u.Target == UplinkTargetKind.S3)
        {
            if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(u.AccessKeyEnv)))
            {
                errors.Add($"{P}Upload:AccessKeyEnv: environment variable {u.AccessKeyEnv} (the S3 access key id) is not set.");
            }

            if (!string.IsNullOrWhiteSpace(u.SecretKeyFile))
            {
                FileMustExist(errors, "Upload:SecretKeyFile", u.SecretKeyFile);
            }
            else if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(u.SecretKeyEnv)))
            {
                errors.Add($"{P}Upload:SecretKeyEnv: environment variable {u.SecretKeyEnv} (the S3 secret key) is not set and {P}Upload:SecretKeyFile is empty.");
            }
        }

        Range(errors, "Upload:TimeoutSeconds", u.TimeoutSeconds, 0.1, 3600);
        Range(errors, "Upload:MaxBytesPerSecond", u.MaxBytesPerSecond, 0, long.MaxValue);
        Range(errors, "Upload:InitialRetryDelaySeconds", u.InitialRetryDelaySeconds, 0.001, 3600);
        Range(errors, "Upload:MaxRetryDelaySeconds", u.MaxRetryDelaySeconds, u.InitialRetryDelaySeconds, 86400);
        Range(errors, "Upload:PollSeconds", u.PollSeconds, 0.01, 3600);
        for (var i = 0; i < u.Windows.Count; i++)
        {
            if (!UploadSchedule.TryParseWindow(u.Windows[i], out _, out _))
            {
                errors.Add($"{P}Upload:Windows:{i} must be HH:mm-HH:mm in local time (was '{u.Windows[i]}').");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void FileMustExist(List<string> errors, string key, string path)
    {
        if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
        {
            errors.Add($"{P}{key}: file '{path}' not found.");
        }
    }

    private static void Range(List<string> errors, string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{P}{key} must be in [{min}, {max}] (was {value})."));
        }
    }
}
