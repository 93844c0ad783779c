using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace FactoryEdge.Training;

/// <summary>A normal recording to learn from, with the provenance recorded in the manifest.</summary>
public sealed record TrainingInput(Recording Recording, string File, string Sha256)
{
    /// <summary>Overrides the recording's bearing (enables the defect features).</summary>
    public BearingGeometry? Bearing { get; init; }

    /// <summary>Overrides the recording's nominal shaft speed, Hz.</summary>
    public double? ShaftHz { get; init; }

    /// <summary>Only windows starting before this sample are used (the rest is held out for testing); null = all.</summary>
    public long? EndSample { get; init; }

    /// <summary>Feature rows a gateway computed (training batches, in time order): used as they are instead of replaying <see cref="Recording"/>.</summary>
    public IReadOnlyList<float[]>? PrecomputedFeatures { get; init; }
}

/// <summary>Training settings (the CLI maps its options onto these).</summary>
public sealed record ModelTrainingOptions
{
    public string ModelId { get; init; } = "anomaly";

    /// <summary>Version; null = seconds since the Unix epoch at creation (monotonic for retrains).</summary>
    public long? Version { get; init; }

    public int WindowSize { get; init; } = 4096;

    public double Overlap { get; init; } = 0.5;

    /// <summary>KMeans clusters; 0 = automatic (one per 25 training windows, 1 to 4).</summary>
    public int Clusters { get; init; }

    /// <summary>Share of each recording's usable windows (the last ones) held back for threshold calibration.</summary>
    public double HoldBackFraction { get; init; } = 0.2;

    /// <summary>Threshold = largest held-back score × margin.</summary>
    public double ThresholdMargin { get; init; } = DefaultMargin;

    /// <summary>
    /// Default <see cref="ThresholdMargin"/>. 1.5 (the first release) let a normal generator window
    /// reach 1.06 × the threshold in 234 simulated hours (docs/models.md, false alerts over 30 days).
    /// </summary>
    public const double DefaultMargin = 2.0;

    /// <summary>Model inputs by feature name; null = <see cref="ModelTrainer.DefaultInputs"/>.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Deviation floor of log10 inputs, decades (0.05 = 12 %).</summary>
    public double LogDeviationFloor { get; init; } = 0.05;

    /// <summary>Deviation floor of linear inputs, as a fraction of |mean|.</summary>
    public double LinearDeviationFloor { get; init; } = 0.05;

    public int Seed { get; init; } = 1;

    /// <summary>Adds the defect-line detector (band-search prominences) beside the KMeans distance.</summary>
    public bool LineDetector { get; init; } = true;

    /// <summary>Smallest z (training deviations of log10 prominence) at which one defect line alone alarms.</summary>
    public double LineMinZ { get; init; } = ModelTrainer.DefaultLineMinZ;

    /// <summary>The first problem, naming the option and the allowed range, or null.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelId) || ModelId.AsSpan().IndexOfAny(['/', '\\', '@', ' ']) >= 0)
        {
            return $"--model-id must be non-empty without '/', '\\', '@' or spaces (was '{ModelId}')";
        }

        if (WindowSize is < 1024 or > 65536 || (WindowSize & (WindowSize - 1)) != 0)
        {
            return $"--window must be a power of two in [1024, 65536] (was {WindowSize})";
        }

        if (!(Overlap >= 0 && Overlap <= 0.9))
        {
            return $"--overlap must be in [0, 0.9] (was {Overlap})";
        }

        if (Clusters is < 0 or > 64)
        {
            return $"--clusters must be in [0, 64] (0 = automatic) (was {Clusters})";
        }

        if (!(HoldBackFraction >= 0.05 && HoldBackFraction <= 0.5))
        {
            return $"--holdback must be in [0.05, 0.5] (was {HoldBackFraction})";
        }

        if (!(ThresholdMargin >= 1 && ThresholdMargin <= 10))
        {
            return $"--margin must be in [1, 10] (was {ThresholdMargin})";
        }

        if (!(LineMinZ >= 2 && LineMinZ <= 100))
        {
            return $"--line-z must be in [2, 100] (was {LineMinZ})";
        }

        return Version is < 0 ? $"--version must be zero or positive (was {Version})" : null;
    }
}

/// <summary>Progress of a training run.</summary>
public readonly record struct TrainingProgress(string Stage, double Fraction);

/// <summary>A trained, exported model: the ONNX bytes and the manifest, not yet written.</summary>
public sealed class TrainedModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _transformer;

    internal TrainedModel(byte[] onnx, ModelManifest manifest, IReadOnlyList<float> calibrationScores, MLContext ml, ITransformer transformer)
    {
        Onnx = onnx;
        Manifest = manifest;
        CalibrationScores = calibrationScores;
        _ml = ml;
        _transformer = transformer;
    }

    public byte[] Onnx { get; }

    public ModelManifest Manifest { get; }

    /// <summary>Scores of the held-back normal windows.</summary>
    public IReadOnlyList<float> CalibrationScores { get; }

    /// <summary>
    /// The ML.NET reference: squared distances to every centroid for raw pipeline feature vectors
    /// (schema order), through the same pre-step. For export checks and the PredictionEngine benchmark.
    /// </summary>
    public float[][] ScoreWithMlNet(IEnumerable<float[]> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var data = _ml.Data.LoadFromEnumerable(features.Select(f => new ModelTrainer.VectorRow { Features = ModelTrainer.PreStep(f, Manifest) }).ToList(), ModelTrainer.Schema(Manifest.Inputs.Count));
        return [.. _transformer.Transform(data).GetColumn<float[]>("Score")];
    }

    /// <summary>An ML.NET PredictionEngine over the pre-stepped inputs (benchmark reference).</summary>
    public PredictionEngine<ModelTrainer.VectorRow, ModelTrainer.ClusterPrediction> CreatePredictionEngine() =>
        _ml.Model.CreatePredictionEngine<ModelTrainer.VectorRow, ModelTrainer.ClusterPrediction>(_transformer, inputSchemaDefinition: ModelTrainer.Schema(Manifest.Inputs.Count));

    /// <summary>Writes MODEL.onnx and MODEL.onnx.manifest.json (the manifest names the file it was saved as).</summary>
    public ModelManifest Save(string modelPath)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (Path.GetDirectoryName(Path.GetFullPath(modelPath)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        var manifest = Manifest with { ModelFile = Path.GetFileName(modelPath) };
        File.WriteAllBytes(modelPath, Onnx);
        File.WriteAllBytes(ModelFiles.ManifestPath(modelPath), manifest.ToJsonBytes());
        var stale = ModelFiles.SignaturePath(modelPath);
        if (File.Exists(stale))
        {
            File.Delete(stale); // a signature of a previous model would only be refused
        }

        return manifest;
    }
}

/// <summary>
/// Trains the unsupervised anomaly model from normal recordings.
/// <list type="number">
/// <item>Every recording is replayed through the live pipeline (<see cref="FeatureReplay"/>): same
/// windows, health checks, features. Windows with health flags, a stopped machine or a history
/// still filling are left out.</item>
/// <item>The last <see cref="ModelTrainingOptions.HoldBackFraction"/> of each recording's windows is
/// held back; the rest is fitted.</item>
/// <item>Pre-step (C#, documented in the manifest): log10 of amplitudes and energies, deviation floor.</item>
/// <item>ML.NET: NormalizeMeanVariance → KMeans (k-means++), exported with OnnxConverter; the graph
/// outputs the squared distance to every centroid.</item>
/// <item>Post-step: score = distance to the nearest centroid (in training standard deviations).</item>
/// <item>Threshold = largest held-back score × margin. The export is checked: ONNX Runtime against
/// ML.NET on every window.</item>
/// </list>
/// </summary>
public static class ModelTrainer
{
    /// <summary>Candidate inputs when none are given: amplitude, shape, band and envelope features.</summary>
    public static IReadOnlyList<string> DefaultInputs { get; } =
    [
        "rms", "peak", "crest_factor", "kurtosis", "spectral_centroid_hz",
        "band_*",
        "env_rms", "env_bpfo", "env_bpfi", "env_bsf", "env_ftf",
    ];

    /// <summary>Inputs that are ratios or levels taken as is (the others in log10).</summary>
    private static readonly string[] LinearInputs = ["skewness", "shaft_hz", "iso_zone", "dominant_hz", "env_peak_hz"];

    private static readonly string[] BearingInputs = ["env_bpfo", "env_bpfi", "env_bsf", "env_ftf"];

    private static readonly string[] LowRateInputs = ["order_0_5x", "order_1x", "order_2x", "order_3x", "velocity_rms_mm_s", "iso_zone"];

    public const double ExportTolerance = 2e-5;

    /// <summary>Default <see cref="ModelTrainingOptions.LineMinZ"/>.</summary>
    public const double DefaultLineMinZ = 8;

    /// <summary>Inputs of the defect-line detector (band-search prominences, schema version 2).</summary>
    public static IReadOnlyList<string> LineInputs { get; } = [.. Enumerable.Range(0, Signal.FeatureSchema.BandSlots).Select(b => string.Create(CultureInfo.InvariantCulture, $"env_prom_b{b:00}"))];

    public static async Task<TrainedModel> TrainAsync(IReadOnlyList<TrainingInput> inputs, ModelTrainingOptions options, TimeProvider timeProvider, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        if (inputs.Count == 0)
        {
            throw new ArgumentException("at least one --input recording is needed", nameof(inputs));
        }

        // 1. Features through the live pipeline.
        var totalWindows = inputs.Sum(i => (long)FeatureReplay.WindowCount(i.Recording.SampleCount, options.WindowSize, options.Overlap) * i.Recording.Channels.Count);
        long doneBefore = 0;
        string[]? schema = null;
        var perSource = new List<(TrainingInput Input, List<float[]> Rows)>();
        foreach (var input in inputs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (input.PrecomputedFeatures is { } precomputed)
            {
                perSource.Add((input, [.. precomputed]));
                continue;
            }

            var channels = FeatureReplay.Describe(input.Recording, input.Bearing, input.ShaftHz);
            var before = doneBefore;
            var results = await FeatureReplay.RunAsync(
                input.Recording, channels, options.WindowSize, options.Overlap,
                onWindow: n => progress?.Report(new TrainingProgress("features", Math.Min(1, (double)(before + n) / Math.Max(1, totalWindows)))),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            doneBefore += results.Count;
            schema ??= Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands);
            var rows = new List<float[]>();
            foreach (var channelRows in results.GroupBy(r => r.ChannelIndex))
            {
                foreach (var r in channelRows.OrderBy(r => r.FirstSampleIndex))
                {
                    if (r.Health.ExcludesWindow() || r.MachineState == MachineState.Stopped || (input.EndSample is { } end && r.FirstSampleIndex + r.WindowSize > end))
                    {
                        continue;
                    }

                    rows.Add(r.Features);
                }
            }

            perSource.Add((input, rows));
        }

        progress?.Report(new TrainingProgress("features", 1));
        schema ??= Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands);

        // 2. Inputs, warm-up gating, split.
        var selected = SelectInputs(options.Features ?? DefaultInputs, schema);
        var warmup = new List<string>();
        if (selected.Any(n => n.StartsWith("env_", StringComparison.Ordinal)))
        {
            warmup.Add("env_rms");
        }

        if (selected.Any(n => Array.IndexOf(LowRateInputs, n) >= 0))
        {
            warmup.Add("velocity_rms_mm_s");
        }

        var warmupIndex = warmup.Select(n => Array.IndexOf(schema, n)).ToArray();
        var fit = new List<float[]>();
        var calibration = new List<float[]>();
        var sources = new List<TrainingSource>();
        foreach (var (input, rows) in perSource)
        {
            var usable = rows.Where(f => warmupIndex.All(i => f[i] > 0 && float.IsFinite(f[i]))).ToList();
            var held = usable.Count < 2 ? 0 : Math.Max(1, (int)Math.Round(usable.Count * options.HoldBackFraction));
            fit.AddRange(usable.Take(usable.Count - held));
            calibration.AddRange(usable.Skip(usable.Count - held));
            sources.Add(new TrainingSource
            {
                File = Path.GetFileName(input.File),
                Sha256 = input.Sha256,
                SampleRateHz = input.Recording.SampleRateHz,
                Samples = input.EndSample is { } end ? Math.Min(end, input.Recording.SampleCount) : input.Recording.SampleCount,
                Windows = usable.Count,
            });
        }

        if (fit.Count < 8 || calibration.Count < 2)
        {
            throw new TrainingException($"only {fit.Count + calibration.Count} usable normal windows (healthy, running, histories full); at least 10 are needed — give longer normal recordings or a smaller --window");
        }

        // Inputs that never move in training (e.g. defect lines without a bearing) are dropped.
        selected = [.. selected.Where(name =>
        {
            var index = Array.IndexOf(schema, name);
            return fit.Any(f => f[index] != 0) && fit.Any(f => f[index] != fit[0][index]);
        })];
        if (selected.Count == 0)
        {
            throw new TrainingException("none of the requested features varies in the training windows");
        }

        warmup.RemoveAll(w => (w == "env_rms" && !selected.Any(n => n.StartsWith("env_", StringComparison.Ordinal)))
            || (w == "velocity_rms_mm_s" && !selected.Any(n => Array.IndexOf(LowRateInputs, n) >= 0)));
        var modelInputs = BuildInputs(selected, schema, fit, options);
        var inputIndex = modelInputs.Select(i => Array.IndexOf(schema, i.Name)).ToArray();
        cancellationToken.ThrowIfCancellationRequested();

        // 3. ML.NET fit.
        progress?.Report(new TrainingProgress("fit", 0));
        var width = modelInputs.Count;
        var clusters = options.Clusters > 0 ? options.Clusters : Math.Clamp(fit.Count / 25, 1, 4);
        clusters = Math.Min(clusters, fit.Count);
        var ml = new MLContext(options.Seed);
        var schemaDefinition = Schema(width);
        var fitData = ml.Data.LoadFromEnumerable(fit.Select(f => new VectorRow { Features = PreStep(f, modelInputs, inputIndex) }).ToList(), schemaDefinition);

        // The normaliser is fitted on two synthetic rows, mean ± max(σ, floor), so that it holds exactly
        // the training mean and the floored deviation (population deviation of ±d is d).
        var plus = new float[width];
        var minus = new float[width];
        for (var j = 0; j < width; j++)
        {
            plus[j] = (float)(modelInputs[j].Mean + modelInputs[j].Scale);
            minus[j] = (float)(modelInputs[j].Mean - modelInputs[j].Scale);
        }

        var normaliserData = ml.Data.LoadFromEnumerable(new List<VectorRow> { new() { Features = plus }, new() { Features = minus } }, schemaDefinition);
        var normaliser = ml.Transforms.NormalizeMeanVariance(nameof(VectorRow.Features), fixZero: false).Fit(normaliserData);
        var kmeans = ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
            {
                FeatureColumnName = nameof(VectorRow.Features),
                NumberOfClusters = clusters,
                InitializationAlgorithm = KMeansTrainer.InitializationAlgorithm.KMeansPlusPlus,
                NumberOfThreads = 1,
                MaximumNumberOfIterations = 1000,
                OptimizationTolerance = 1e-7f,
            }).Fit(normaliser.Transform(fitData));
        var transformer = new TransformerChain<ITransformer>(normaliser, kmeans);
        progress?.Report(new TrainingProgress("fit", 1));

        // 4. ONNX export.
        progress?.Report(new TrainingProgress("export", 0));
        byte[] onnx;
        using (var stream = new MemoryStream())
        {
            ml.Model.ConvertToOnnx(transformer, fitData, stream, "Score");
            onnx = stream.ToArray();
        }

        // 5. Scores by ML.NET (the reference) on every window; ONNX Runtime must agree.
        var all = fit.Concat(calibration).ToList();
        var allData = ml.Data.LoadFromEnumerable(all.Select(f => new VectorRow { Features = PreStep(f, modelInputs, inputIndex) }).ToList(), schemaDefinition);
        var mlScores = transformer.Transform(allData).GetColumn<float[]>("Score").ToArray();
        var (inputName, outputName, maxDifference) = CheckExport(onnx, all, mlScores, modelInputs, inputIndex, clusters);
        if (!(maxDifference <= ExportTolerance))
        {
            throw new TrainingException(string.Create(CultureInfo.InvariantCulture, $"the ONNX export disagrees with ML.NET by {maxDifference:G3} (tolerance {ExportTolerance:G3}); not writing a model that would score differently"));
        }

        progress?.Report(new TrainingProgress("export", 1));

        // 6. Threshold on the held-back windows.
        var distances = mlScores.Skip(fit.Count).Select(s => FeatureTransforms.NearestCentroidDistance(s)).ToArray();
        var threshold = Math.Max(distances.Max() * options.ThresholdMargin, 1e-3);

        // 7. Defect-line detector: one line alone alarms at max(LineMinZ, largest held-back z × margin).
        var lineDetector = options.LineDetector ? BuildLineDetector(schema, fit, calibration, threshold, options) : null;
        var calibrationScores = calibration.Select((f, i) => FeatureTransforms.Combine(distances[i], FeatureTransforms.LineScore(lineDetector, schema, f))).ToArray();
        var sorted = calibrationScores.Order().ToArray();
        var max = sorted[^1];
        var created = timeProvider.GetUtcNow();
        var selfTestIndex = fit.Count; // the first held-back window
        var manifest = new ModelManifest
        {
            ModelId = options.ModelId,
            Version = options.Version ?? created.ToUnixTimeSeconds(),
            CreatedUtc = created,
            ModelFile = "model.onnx",
            ModelSha256 = ModelFiles.Sha256Hex(onnx),
            OnnxInput = inputName,
            OnnxOutput = outputName,
            Clusters = clusters,
            WindowSize = options.WindowSize,
            Hop = Math.Max(1, (int)Math.Round(options.WindowSize * (1.0 - options.Overlap))),
            SampleRateMinHz = inputs.Min(i => i.Recording.SampleRateHz),
            SampleRateMaxHz = inputs.Max(i => i.Recording.SampleRateHz),
            FeatureSchema = schema,
            Inputs = modelInputs,
            WarmupFeatures = warmup,
            RequiresBearing = modelInputs.Any(i => Array.IndexOf(BearingInputs, i.Name) >= 0) || lineDetector is not null,
            LineDetector = lineDetector,
            Threshold = threshold,
            Calibration = new Calibration
            {
                Windows = calibrationScores.Length,
                P50 = sorted[sorted.Length / 2],
                P99 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)],
                Max = max,
                Margin = options.ThresholdMargin,
            },
            SelfTest = new SelfTest { Features = all[selfTestIndex], ExpectedScore = FeatureTransforms.Combine(FeatureTransforms.NearestCentroidDistance(mlScores[selfTestIndex]), FeatureTransforms.LineScore(lineDetector, schema, all[selfTestIndex])) },
            Diagnostics = BuildDiagnostics(schema, fit, options),
            TrainingData = sources,
            TrainingWindows = fit.Count,
            ExportMaxDifference = maxDifference,
            Trainer = "FactoryEdge.Training (ML.NET 5.0.1 NormalizeMeanVariance + KMeans, OnnxConverter 0.23.1)",
        };
        return new TrainedModel(onnx, manifest, calibrationScores, ml, transformer);
    }

    /// <summary>Expands <c>band_*</c> and keeps the names the schema has, in schema order.</summary>
    internal static List<string> SelectInputs(IReadOnlyList<string> requested, IReadOnlyList<string> schema)
    {
        var unknown = requested.Where(r => r != "band_*" && !schema.Contains(r)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"unknown feature(s): {string.Join(", ", unknown)} (known: {string.Join(", ", schema)})");
        }

        return [.. schema.Where(name => requested.Contains(name) || (requested.Contains("band_*") && name.StartsWith("band_", StringComparison.Ordinal)))];
    }

    private static List<ModelInput> BuildInputs(List<string> selected, string[] schema, List<float[]> fit, ModelTrainingOptions options)
    {
        var inputs = new List<ModelInput>();
        foreach (var name in selected)
        {
            var index = Array.IndexOf(schema, name);
            var linear = Array.IndexOf(LinearInputs, name) >= 0;
            var transform = linear ? InputTransform.Linear : InputTransform.Log10;
            var floor = name.StartsWith("band_", StringComparison.Ordinal) ? 1e-12 : 1e-9;
            var values = fit.Select(f => FeatureTransforms.Transform(f[index], transform, floor)).ToArray();
            var mean = values.Average();
            var deviation = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length - 1));
            var deviationFloor = linear ? Math.Max(1e-6, options.LinearDeviationFloor * Math.Abs(mean)) : options.LogDeviationFloor;
            inputs.Add(new ModelInput
            {
                Name = name,
                Transform = transform,
                Floor = linear ? 0 : floor,
                Mean = mean,
                Deviation = deviation,
                DeviationFloor = deviationFloor,
            });
        }

        return inputs;
    }

    /// <summary>
    /// The line detector's inputs (log10 prominences; windows where a line is not computed yet, 0, are
    /// left out of its statistics) and scale; null when no line input varies in training.
    /// </summary>
    private static LineDetector? BuildLineDetector(string[] schema, List<float[]> fit, List<float[]> calibration, double threshold, ModelTrainingOptions options)
    {
        var inputs = BuildLog10Inputs(LineInputs, schema, fit, minimumWindows: 8, options);
        if (inputs.Count == 0)
        {
            return null;
        }

        var probe = new LineDetector { Inputs = inputs, ZThreshold = 1, Scale = 1 };
        var heldMax = calibration.Select(f => FeatureTransforms.LineScore(probe, schema, f)).Where(float.IsFinite).DefaultIfEmpty(0f).Max();
        var z = Math.Max(options.LineMinZ, heldMax * options.ThresholdMargin);
        return new LineDetector { Inputs = inputs, ZThreshold = z, CalibrationMaxZ = heldMax, Scale = threshold / z, BandSearch = Signal.FeatureSchema.BandSearchVersion };
    }

    private static List<ModelInput> BuildDiagnostics(string[] schema, List<float[]> fit, ModelTrainingOptions options) =>
        BuildLog10Inputs(FaultDiagnoser.IndicatorFeatures, schema, fit, minimumWindows: 3, options);

    /// <summary>
    /// Log10 inputs (mean and sample deviation of log10 values) for the named features present in the
    /// schema; only windows where a feature is available (positive and finite: order lines need the
    /// low-rate history) count, and a feature with fewer than <paramref name="minimumWindows"/> is left out.
    /// </summary>
    private static List<ModelInput> BuildLog10Inputs(IEnumerable<string> names, string[] schema, List<float[]> fit, int minimumWindows, ModelTrainingOptions options)
    {
        var result = new List<ModelInput>();
        foreach (var name in names)
        {
            var index = Array.IndexOf(schema, name);
            if (index < 0)
            {
                continue;
            }

            var values = fit.Where(f => f[index] > 0 && float.IsFinite(f[index])).Select(f => Math.Log10(f[index])).ToArray();
            if (values.Length < minimumWindows)
            {
                continue;
            }

            var mean = values.Average();
            result.Add(new ModelInput
            {
                Name = name,
                Transform = InputTransform.Log10,
                Floor = 1e-9,
                Mean = mean,
                Deviation = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length - 1)),
                DeviationFloor = options.LogDeviationFloor,
            });
        }

        return result;
    }

    internal static SchemaDefinition Schema(int width)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[nameof(VectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    /// <summary>Pre-step of a raw feature vector (schema order) into the model's inputs.</summary>
    public static float[] PreStep(float[] features, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(manifest);
        var row = new float[manifest.Inputs.Count];
        for (var j = 0; j < row.Length; j++)
        {
            var index = manifest.FeatureSchema.ToList().IndexOf(manifest.Inputs[j].Name);
            row[j] = FeatureTransforms.PreStep(features[index], manifest.Inputs[j]);
        }

        return row;
    }

    private static float[] PreStep(float[] features, List<ModelInput> inputs, int[] index)
    {
        var row = new float[inputs.Count];
        for (var j = 0; j < row.Length; j++)
        {
            row[j] = FeatureTransforms.PreStep(features[index[j]], inputs[j]);
        }

        return row;
    }

    /// <summary>Runs the exported graph in ONNX Runtime on every window and compares with ML.NET's squared distances.</summary>
    private static (string Input, string Output, double MaxDifference) CheckExport(byte[] onnx, List<float[]> rows, float[][] mlScores, List<ModelInput> inputs, int[] index, int clusters)
    {
        using var probe = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
        var inputName = probe.InputNames[0];
        var outputName = probe.OutputNames[0];
        using var session = new OrtModelSession(onnx, inputName, outputName, inputs.Count, clusters, new ModelSessionOptions { MaxBatch = 64 });
        var max = 0.0;
        for (var start = 0; start < rows.Count; start += session.MaxBatch)
        {
            var n = Math.Min(session.MaxBatch, rows.Count - start);
            for (var r = 0; r < n; r++)
            {
                PreStep(rows[start + r], inputs, index).CopyTo(session.Input.Slice(r * inputs.Count, inputs.Count));
            }

            session.Run(n);
            for (var r = 0; r < n; r++)
            {
                var expected = mlScores[start + r];
                for (var k = 0; k < clusters; k++)
                {
                    double got = session.Output[(r * clusters) + k];
                    var difference = Math.Abs(got - expected[k]) / Math.Max(1.0, Math.Abs(expected[k]));
                    max = Math.Max(max, difference);
                }
            }
        }

        return (inputName, outputName, max);
    }

    /// <summary>ML.NET input row: the pre-stepped model inputs.</summary>
    public sealed class VectorRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>ML.NET output row of the KMeans model.</summary>
    public sealed class ClusterPrediction
    {
        [ColumnName("Score")]
        public float[] Distances { get; set; } = [];

        [ColumnName("PredictedLabel")]
        public uint Cluster { get; set; }
    }
}

/// <summary>Training cannot produce a usable model; the message says why.</summary>
public sealed class TrainingException : Exception
{
    public TrainingException()
    {
    }

    public TrainingException(string message)
        : base(message)
    {
    }

    public TrainingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
