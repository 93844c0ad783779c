using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Scoring;

/// <summary>One entry of <c>FactoryEdge:Scoring:Assignments</c>.</summary>
public sealed class ModelAssignmentOptions
{
    /// <summary>Channel pattern: <c>site/line/machine/sensor/axis</c>, <c>*</c> for one segment, fewer segments = everything below.</summary>
    public string Channels { get; set; } = string.Empty;

    /// <summary>The model line (manifest <c>model_id</c>) that scores them.</summary>
    public string Model { get; set; } = string.Empty;
}

/// <summary>
/// Settings of ONNX model scoring (section <c>FactoryEdge:Scoring</c>). With no assignment the
/// statistical baseline scores every channel and nothing here is used.
/// </summary>
public sealed class ScoringOptions
{
    public const string SectionName = "FactoryEdge:Scoring";

    /// <summary>Folder watched for <c>*.onnx</c> models with their manifest and signature.</summary>
    public string ModelsDirectory { get; set; } = string.Empty;

    public List<ModelAssignmentOptions> Assignments { get; set; } = [];

    /// <summary>Trusted ECDSA P-256 public keys: PEM file paths (relative to the content root) or inline PEM. Several, so keys can rotate.</summary>
    public List<string> TrustedKeys { get; set; } = [];

    /// <summary>Development only: load models without a valid signature by a trusted key (tampered models are refused anyway).</summary>
    public bool AllowUnsignedModels { get; set; }

    /// <summary>New versions found in the folder run in shadow beside the active model until promoted, instead of replacing it.</summary>
    public bool ShadowNewModels { get; set; }

    /// <summary>How often the folder is scanned, seconds.</summary>
    public double PollSeconds { get; set; } = 5;

    /// <summary>Largest batch per ONNX run.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>ONNX Runtime threads per run (1: the pipeline parallelises across channels).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Channels without a model (or before it loads) are scored by the statistical baseline; false leaves them unscored.</summary>
    public bool FallbackToBaseline { get; set; } = true;

    public bool Enabled => Assignments.Count > 0;
}

/// <summary>Validates <see cref="ScoringOptions"/>, naming the key and what is allowed.</summary>
public sealed class ScoringOptionsValidator : IValidateOptions<ScoringOptions>
{
    private const string Prefix = ScoringOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ScoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        for (var i = 0; i < options.Assignments.Count; i++)
        {
            var a = options.Assignments[i];
            if (string.IsNullOrWhiteSpace(a.Channels) || a.Channels.Split('/').Length > 5 || a.Channels.Split('/').Any(string.IsNullOrWhiteSpace))
            {
                failures.Add($"{Prefix}Assignments:{i}:Channels must be a channel pattern 'site/line/machine/sensor/axis' (1 to 5 non-empty segments, '*' = any), was '{a.Channels}'");
            }

            if (string.IsNullOrWhiteSpace(a.Model) || a.Model.AsSpan().IndexOfAny(['/', '\\', '@', ' ']) >= 0)
            {
                failures.Add($"{Prefix}Assignments:{i}:Model must name a model line (a manifest model_id, no '/', '\\', '@' or spaces), was '{a.Model}'");
            }
        }

        if (options.Enabled)
        {
            if (string.IsNullOrWhiteSpace(options.ModelsDirectory))
            {
                failures.Add($"{Prefix}ModelsDirectory is required when Assignments are configured (the folder the models are dropped into)");
            }

            if (options.TrustedKeys.Count == 0 && !options.AllowUnsignedModels)
            {
                failures.Add($"{Prefix}TrustedKeys must list at least one ECDSA P-256 public key (PEM file or inline PEM), or set {Prefix}AllowUnsignedModels to true (development only)");
            }
        }

        for (var i = 0; i < options.TrustedKeys.Count; i++)
        {
            var entry = options.TrustedKeys[i];
            try
            {
                using var ring = new TrustedKeyRing([entry], AppContext.BaseDirectory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                failures.Add($"{Prefix}TrustedKeys:{i} is not a readable P-256 public key: {ex.Message}");
            }
        }

        if (!(options.PollSeconds >= 0.1 && options.PollSeconds <= 3600))
        {
            failures.Add($"{Prefix}PollSeconds must be in [0.1, 3600], was {options.PollSeconds}");
        }

        if (options.MaxBatch is < 1 or > 4096)
        {
            failures.Add($"{Prefix}MaxBatch must be in [1, 4096], was {options.MaxBatch}");
        }

        if (options.IntraOpThreads is < 1 or > 64)
        {
            failures.Add($"{Prefix}IntraOpThreads must be in [1, 64], was {options.IntraOpThreads}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
