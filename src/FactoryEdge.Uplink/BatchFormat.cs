using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FactoryEdge.Uplink;

/// <summary>
/// The training batch file (<c>.feb</c>), version 1 — self-describing, documented in docs/uplink.md:
/// <code>
/// "FEB1" | u32 LE manifest length M | M bytes UTF-8 JSON manifest | gzip(payload)
/// </code>
/// The payload is runs of float32 little-endian samples (each run optionally split into its four byte
/// planes); a window points into a run, and overlapping windows of a channel share their samples. The SHA-256 of the whole file is the batch's
/// content hash: its name, its idempotency key, what the receiver verifies.
/// </summary>
public static class BatchFormat
{
    public const string FormatName = "factoryedge-training-batch";
    public const int Version = 1;
    public const string FileExtension = ".feb";
    public const string MediaType = "application/vnd.factoryedge.training-batch";
    public const string EncodingPlain = "float32-le";
    public const string EncodingByteSplit = "float32-le-byte-split";

    /// <summary>A manifest larger than this is refused when reading (a corrupt length).</summary>
    public const int MaxManifestBytes = 64 * 1024 * 1024;

    internal static ReadOnlySpan<byte> Magic => "FEB1"u8;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Parses and checks a batch: magic, manifest, payload length and hash. Throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static TrainingBatch Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 8 || !file[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a FactoryEdge training batch (magic 'FEB1' missing)");
        }

        var manifestLength = BinaryPrimitives.ReadUInt32LittleEndian(file[4..8]);
        if (manifestLength > MaxManifestBytes || 8 + manifestLength > (uint)file.Length)
        {
            throw new InvalidDataException($"manifest length {manifestLength} runs past the end of the {file.Length}-byte file (truncated?)");
        }

        BatchManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BatchManifest>(file.Slice(8, (int)manifestLength), Json)
                ?? throw new InvalidDataException("empty manifest");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("manifest is not valid JSON: " + ex.Message, ex);
        }

        if (manifest.Format != FormatName || manifest.Version != Version)
        {
            throw new InvalidDataException($"unsupported batch format '{manifest.Format}' version {manifest.Version} (expected '{FormatName}' version {Version})");
        }

        if (manifest.PayloadBytes is < 0 or > int.MaxValue)
        {
            throw new InvalidDataException($"payload size {manifest.PayloadBytes} out of range");
        }

        var payload = new byte[manifest.PayloadBytes];
        try
        {
            using var input = new MemoryStream(file[(8 + (int)manifestLength)..].ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            gzip.ReadExactly(payload);
            if (gzip.ReadByte() >= 0)
            {
                throw new InvalidDataException($"payload is longer than the manifest's {manifest.PayloadBytes} bytes");
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"payload is shorter than the manifest's {manifest.PayloadBytes} bytes (truncated?)", ex);
        }

        var hash = Sha256Hex(payload);
        if (!string.Equals(hash, manifest.PayloadSha256, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"payload SHA-256 {hash} differs from the manifest's {manifest.PayloadSha256}");
        }

        long expected = 0;
        foreach (var r in manifest.Runs)
        {
            if (r.Offset != expected || r.Bytes < 0 || r.Bytes % 4 != 0)
            {
                throw new InvalidDataException($"run at {r.Offset} does not follow the previous one (expected {expected})");
            }

            expected += r.Bytes;
        }

        if (expected != manifest.PayloadBytes)
        {
            throw new InvalidDataException($"runs cover {expected} bytes, the payload has {manifest.PayloadBytes}");
        }

        foreach (var w in manifest.Windows)
        {
            var inRun = manifest.Runs.Exists(r => w.Offset >= r.Offset && w.Offset + ((long)w.Samples * 4) <= r.Offset + r.Bytes);
            if (w.Channel < 0 || w.Channel >= manifest.Channels.Count || w.Samples < 0 || !inRun)
            {
                throw new InvalidDataException($"window {w.WindowNumber} has a bad channel index or lies outside the payload's runs");
            }
        }

        if (manifest.SampleEncoding == EncodingByteSplit)
        {
            var joined = new byte[payload.Length];
            foreach (var r in manifest.Runs)
            {
                JoinBytes(payload.AsSpan((int)r.Offset, (int)r.Bytes), joined.AsSpan((int)r.Offset, (int)r.Bytes));
            }

            payload = joined;
        }
        else if (manifest.SampleEncoding != EncodingPlain)
        {
            throw new InvalidDataException($"unknown sample encoding '{manifest.SampleEncoding}'");
        }

        return new TrainingBatch(manifest, payload);
    }

    /// <summary>Reads the manifest only (no payload check), e.g. to list a folder.</summary>
    public static BatchManifest ReadManifest(ReadOnlySpan<byte> file)
    {
        if (file.Length < 8 || !file[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a FactoryEdge training batch (magic 'FEB1' missing)");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(file[4..8]);
        if (length > MaxManifestBytes || 8 + length > (uint)file.Length)
        {
            throw new InvalidDataException("manifest runs past the end of the file");
        }

        return JsonSerializer.Deserialize<BatchManifest>(file.Slice(8, (int)length), Json) ?? throw new InvalidDataException("empty manifest");
    }

    /// <summary>Splits float32 samples into four byte planes (all first bytes, then all second bytes…).</summary>
    internal static void SplitBytes(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var n = source.Length / 4;
        for (var i = 0; i < n; i++)
        {
            destination[i] = source[(4 * i) + 0];
            destination[n + i] = source[(4 * i) + 1];
            destination[(2 * n) + i] = source[(4 * i) + 2];
            destination[(3 * n) + i] = source[(4 * i) + 3];
        }
    }

    internal static void JoinBytes(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var n = source.Length / 4;
        for (var i = 0; i < n; i++)
        {
            destination[(4 * i) + 0] = source[i];
            destination[(4 * i) + 1] = source[n + i];
            destination[(4 * i) + 2] = source[(2 * n) + i];
            destination[(4 * i) + 3] = source[(3 * n) + i];
        }
    }
}

/// <summary>A parsed, verified batch: the manifest and the decoded payload (float32 LE, runs joined back from byte planes).</summary>
public sealed class TrainingBatch(BatchManifest manifest, byte[] payload)
{
    public BatchManifest Manifest { get; } = manifest;

    /// <summary>The samples of window <paramref name="index"/>.</summary>
    public float[] Samples(int index)
    {
        var w = Manifest.Windows[index];
        var bytes = payload.AsSpan((int)w.Offset, w.Samples * 4);
        var result = new float[w.Samples];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        }

        return result;
    }
}

/// <summary>The JSON manifest at the head of a batch file (snake_case keys; see docs/uplink.md).</summary>
public sealed class BatchManifest
{
    public string Format { get; set; } = BatchFormat.FormatName;

    public int Version { get; set; } = BatchFormat.Version;

    public string GatewayId { get; set; } = "";

    /// <summary>Scoring model at capture time (<c>id@vN</c>, or the baseline's name).</summary>
    public string ModelId { get; set; } = "";

    public DateTimeOffset CreatedUtc { get; set; }

    /// <summary>Source time of the first sample of the earliest window.</summary>
    public DateTimeOffset StartUtc { get; set; }

    /// <summary>Source time just after the last sample of the latest window.</summary>
    public DateTimeOffset EndUtc { get; set; }

    public string Compression { get; set; } = "gzip";

    public string SampleEncoding { get; set; } = BatchFormat.EncodingByteSplit;

    /// <summary>Uncompressed payload size and SHA-256.</summary>
    public long PayloadBytes { get; set; }

    public string PayloadSha256 { get; set; } = "";

    /// <summary>Names of the feature values every window carries, in order.</summary>
    public List<string> FeatureNames { get; set; } = [];

    public List<BatchChannel> Channels { get; set; } = [];

    public List<BatchWindow> Windows { get; set; } = [];

    /// <summary>Contiguous sample runs tiling the payload; byte planes are split per run.</summary>
    public List<BatchRun> Runs { get; set; } = [];
}

/// <summary>A run of contiguous samples of one channel in the payload (windows point into it; overlapping windows share it).</summary>
public sealed class BatchRun
{
    public long Offset { get; set; }

    public long Bytes { get; set; }
}

/// <summary>Channel metadata: identity, rate, unit, machine data.</summary>
public sealed class BatchChannel
{
    /// <summary>site/line/machine/sensor/axis.</summary>
    public string Id { get; set; } = "";

    public double SampleRateHz { get; set; }

    public string Unit { get; set; } = "";

    public double NominalShaftHz { get; set; }

    public double FullScale { get; set; }

    public BatchBearing? Bearing { get; set; }
}

public sealed class BatchBearing
{
    public string Name { get; set; } = "";

    public int BallCount { get; set; }

    public double BallDiameter { get; set; }

    public double PitchDiameter { get; set; }

    public double ContactAngleDegrees { get; set; }
}

/// <summary>Why a window was captured.</summary>
public enum CaptureReason
{
    /// <summary>Before a trigger (from the ring).</summary>
    PreTrigger,

    /// <summary>The window that triggered (raised the alert, or was anomalous).</summary>
    Trigger,

    /// <summary>After a trigger.</summary>
    PostTrigger,

    /// <summary>Periodic sample of normal operation.</summary>
    Sample,
}

/// <summary>One window: where its samples are, and what the pipeline computed for it.</summary>
public sealed class BatchWindow
{
    /// <summary>Index into <see cref="BatchManifest.Channels"/>.</summary>
    public int Channel { get; set; }

    public CaptureReason Reason { get; set; }

    /// <summary>Alert id (or, for an anomalous-window trigger, the trigger window's number) the capture belongs to.</summary>
    public string? TriggerId { get; set; }

    public long WindowNumber { get; set; }

    public long FirstSampleIndex { get; set; }

    /// <summary>Source time of the first sample.</summary>
    public DateTimeOffset SourceStartUtc { get; set; }

    /// <summary>synchronized, unsynchronized, relative.</summary>
    public string Clock { get; set; } = "";

    public float Score { get; set; }

    public float Threshold { get; set; }

    public bool Anomalous { get; set; }

    public bool WarmingUp { get; set; }

    /// <summary>Channel-health flags (as in telemetry: 1 flat line … 64 gap before).</summary>
    public int Health { get; set; }

    /// <summary>0 unknown, 1 running, 2 stopped.</summary>
    public int MachineState { get; set; }

    public float[] Features { get; set; } = [];

    /// <summary>Byte offset of the window's samples in the (decoded) payload; overlapping windows overlap here too.</summary>
    public long Offset { get; set; }

    public int Samples { get; set; }
}
