using System.Text.Json;
using System.Text.Json.Serialization;

namespace FactoryEdge.Scoring;

/// <summary>How one model input is derived from a pipeline feature (the documented pre-step).</summary>
public enum InputTransform
{
    /// <summary>The feature as is.</summary>
    Linear,

    /// <summary><c>log10(max(x, Floor))</c>: amplitudes and energies, so that "twice as large" weighs the same at any level.</summary>
    Log10,
}

/// <summary>
/// One model input: which pipeline feature and its pre-step <c>T(x)</c> (log10 or as is). The graph
/// then standardises <c>(T(x) − Mean) / max(Deviation, DeviationFloor)</c> (its NormalizeMeanVariance
/// holds exactly these two numbers) before KMeans; the floor keeps a feature that hardly varied in
/// training from turning noise into alarms. Mean and deviations are repeated here for explanations.
/// </summary>
public sealed record ModelInput
{
    public required string Name { get; init; }

    public InputTransform Transform { get; init; }

    /// <summary>Values below this are raised to it before the log (amplitudes of exactly 0).</summary>
    public double Floor { get; init; }

    /// <summary>Mean of T(x) over the training windows.</summary>
    public double Mean { get; init; }

    /// <summary>Standard deviation of T(x) over the training windows.</summary>
    public double Deviation { get; init; }

    /// <summary>Smallest deviation the model assumes for this input.</summary>
    public double DeviationFloor { get; init; }

    /// <summary>max(Deviation, DeviationFloor): what the graph divides by.</summary>
    [JsonIgnore]
    public double Scale => Math.Max(Deviation, DeviationFloor);
}

/// <summary>A recording the model was trained on (hash of the exact bytes read).</summary>
public sealed record TrainingSource
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public double SampleRateHz { get; init; }

    public long Samples { get; init; }

    public int Windows { get; init; }
}

/// <summary>Threshold calibration on normal windows held back from training.</summary>
public sealed record Calibration
{
    public int Windows { get; init; }

    public double P50 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    /// <summary>Threshold = max(held-back score) × margin.</summary>
    public double Margin { get; init; }
}

/// <summary>
/// The defect-line detector beside the KMeans distance (documented post-step): for each input (a
/// defect-line prominence from the band search) its standardised deviation
/// <c>z = (log10(x) − Mean) / max(Deviation, DeviationFloor)</c>; the line score is
/// <c>Scale × max(z)</c> and the window's score is <c>max(KMeans distance, line score)</c>. Scale is
/// <c>threshold / ZThreshold</c>, so a line alone alarms when its z exceeds ZThreshold. One line
/// rising many deviations is what an incipient bearing fault looks like; in the KMeans distance it
/// would be diluted by every other input.
/// </summary>
public sealed record LineDetector
{
    /// <summary>Line features (log10), with their training mean and (floored) deviation; zeros (not yet computed) were left out.</summary>
    public required IReadOnlyList<ModelInput> Inputs { get; init; }

    /// <summary>z at which one line alone reaches the threshold: max(minimum, largest held-back z × margin).</summary>
    public required double ZThreshold { get; init; }

    /// <summary>Largest z seen on the held-back windows.</summary>
    public double CalibrationMaxZ { get; init; }

    /// <summary>Score units per deviation: threshold / <see cref="ZThreshold"/>.</summary>
    public required double Scale { get; init; }

    /// <summary>
    /// <see cref="Signal.FeatureSchema.BandSearchVersion"/> the baselines were measured with (absent in
    /// manifests of the first release: 1). A gateway computing another version refuses the model.
    /// </summary>
    public int BandSearch { get; init; } = 1;
}

/// <summary>One raw feature vector and the score ML.NET gave it: the loader checks ONNX Runtime against it.</summary>
public sealed record SelfTest
{
    /// <summary>All pipeline features (schema order).</summary>
    public required float[] Features { get; init; }

    public required double ExpectedScore { get; init; }
}

/// <summary>
/// Everything a gateway needs to decide whether it may run a model and how: identity and version,
/// the feature schema the model was trained on, the pre- and post-steps, the threshold, the data it
/// was trained on. Stored beside the model as <c>MODEL.onnx.manifest.json</c> and covered by the signature.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentFormat = 1;

    /// <summary>The only post-step implemented: score = √(min over clusters of the squared distance).</summary>
    public const string KMeansDistance = "kmeans-nearest-centroid-distance";

    public int Format { get; init; } = CurrentFormat;

    /// <summary>Stable name of the model line (e.g. <c>pump-3-bearing</c>); versions of one line replace each other.</summary>
    public required string ModelId { get; init; }

    /// <summary>Monotonic version within <see cref="ModelId"/>; an older version is refused unless rolling back explicitly.</summary>
    public required long Version { get; init; }

    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>File name of the ONNX graph, beside the manifest.</summary>
    public required string ModelFile { get; init; }

    /// <summary>SHA-256 (hex) of the ONNX file.</summary>
    public required string ModelSha256 { get; init; }

    public required string OnnxInput { get; init; }

    public required string OnnxOutput { get; init; }

    /// <summary>How the graph's output becomes a score (<see cref="KMeansDistance"/>).</summary>
    public string ScoreKind { get; init; } = KMeansDistance;

    public int Clusters { get; init; }

    public required int WindowSize { get; init; }

    public required int Hop { get; init; }

    public required double SampleRateMinHz { get; init; }

    public required double SampleRateMaxHz { get; init; }

    /// <summary>The full pipeline feature list at training time; the live schema must start with it.</summary>
    public required IReadOnlyList<string> FeatureSchema { get; init; }

    /// <summary>The inputs of the graph, in order.</summary>
    public required IReadOnlyList<ModelInput> Inputs { get; init; }

    /// <summary>
    /// Features that read 0 until the extractor's multi-window history is full: a row where any of
    /// them is 0 (or not finite) is warming up and not scored.
    /// </summary>
    public IReadOnlyList<string> WarmupFeatures { get; init; } = [];

    /// <summary>
    /// Baselines (log10 mean and deviation over the training windows) of the diagnostic features —
    /// defect lines and shaft orders — whether or not they are model inputs: alerts are explained
    /// against them (<see cref="FaultDiagnoser"/>).
    /// </summary>
    public IReadOnlyList<ModelInput> Diagnostics { get; init; } = [];

    /// <summary>Optional defect-line detector (post-step, see <see cref="Scoring.LineDetector"/>); absent in older manifests.</summary>
    public LineDetector? LineDetector { get; init; }

    /// <summary>The model uses bearing-defect features: every assigned channel must declare a bearing.</summary>
    public bool RequiresBearing { get; init; }

    public required double Threshold { get; init; }

    public Calibration? Calibration { get; init; }

    public SelfTest? SelfTest { get; init; }

    public IReadOnlyList<TrainingSource> TrainingData { get; init; } = [];

    public int TrainingWindows { get; init; }

    /// <summary>Largest |ONNX Runtime − ML.NET| seen on the training and held-back rows at export (relative above 1).</summary>
    public double ExportMaxDifference { get; init; }

    public string Trainer { get; init; } = string.Empty;

    /// <summary><c>ModelId@vVersion</c>, the id alerts carry.</summary>
    [JsonIgnore]
    public string DisplayId => $"{ModelId}@v{Version}";

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Parses a manifest; throws <see cref="ModelLoadException"/> naming the problem.</summary>
    public static ModelManifest Parse(ReadOnlySpan<byte> json, string source)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{source}: not a valid model manifest ({ex.Message})", ex);
        }

        if (manifest is null)
        {
            throw new ModelLoadException($"{source}: empty model manifest");
        }

        if (manifest.Validate() is { } problem)
        {
            throw new ModelLoadException($"{source}: {problem}");
        }

        return manifest;
    }

    /// <summary>The first structural problem, or null.</summary>
    public string? Validate()
    {
        if (Format != CurrentFormat)
        {
            return $"manifest format {Format} is not supported (this gateway reads format {CurrentFormat})";
        }

        if (string.IsNullOrWhiteSpace(ModelId) || ModelId.AsSpan().IndexOfAny(['/', '\\', '@', ' ']) >= 0)
        {
            return $"model_id '{ModelId}' must be non-empty without '/', '\\', '@' or spaces";
        }

        if (Version < 0)
        {
            return $"version must be zero or positive (was {Version})";
        }

        if (ScoreKind != KMeansDistance)
        {
            return $"score_kind '{ScoreKind}' is not supported (only '{KMeansDistance}')";
        }

        if (Clusters < 1)
        {
            return $"clusters must be at least 1 (was {Clusters})";
        }

        if (Inputs is null || Inputs.Count == 0)
        {
            return "inputs must list at least one feature";
        }

        if (FeatureSchema is null || FeatureSchema.Count == 0)
        {
            return "feature_schema must list the pipeline's features";
        }

        foreach (var input in Inputs)
        {
            if (!FeatureSchema.Contains(input.Name))
            {
                return $"input '{input.Name}' is not in the manifest's feature_schema";
            }

            if (!double.IsFinite(input.Mean) || !(input.Scale > 0) || !double.IsFinite(input.Scale))
            {
                return $"input '{input.Name}': mean must be finite and deviation (or its floor) positive";
            }

            if (input.Transform == InputTransform.Log10 && !(input.Floor > 0))
            {
                return $"input '{input.Name}': a log10 input needs a positive floor";
            }
        }

        if (!(Threshold > 0) || !double.IsFinite(Threshold))
        {
            return $"threshold must be a positive number (was {Threshold})";
        }

        if (LineDetector is { } line)
        {
            if (line.Inputs is null || line.Inputs.Count == 0 || !(line.Scale > 0) || !double.IsFinite(line.Scale))
            {
                return "line_detector needs inputs and a positive scale";
            }

            if (line.BandSearch != Signal.FeatureSchema.BandSearchVersion)
            {
                return $"line_detector was calibrated on band-search version {line.BandSearch}, this gateway computes version {Signal.FeatureSchema.BandSearchVersion} (stationary tones suppressed): retrain the model with this release";
            }

            foreach (var input in line.Inputs)
            {
                if (!FeatureSchema.Contains(input.Name) || input.Transform != InputTransform.Log10 || !(input.Floor > 0)
                    || !double.IsFinite(input.Mean) || !(input.Scale > 0) || !double.IsFinite(input.Scale))
                {
                    return $"line_detector input '{input.Name}' must be a log10 feature of the schema with a positive floor and deviation";
                }
            }
        }

        if (!(SampleRateMinHz > 0) || SampleRateMaxHz < SampleRateMinHz)
        {
            return $"sample_rate_min_hz/max_hz must be positive and ordered (were {SampleRateMinHz}/{SampleRateMaxHz})";
        }

        if (WindowSize < 1 || Hop < 1)
        {
            return "window_size and hop must be positive";
        }

        if (string.IsNullOrEmpty(ModelFile) || ModelFile.AsSpan().IndexOfAny(['/', '\\']) >= 0)
        {
            return $"model_file '{ModelFile}' must be a plain file name beside the manifest";
        }

        return null;
    }
}

/// <summary>A model that may not be loaded: the message says which file and why.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException()
    {
    }

    public ModelLoadException(string message)
        : base(message)
    {
    }

    public ModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
