using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Scoring;
using Spectre.Console;

namespace FactoryEdge.Training;

/// <summary>Settings of <c>factoryedge train --input FILE [--input FILE …] --out MODEL.onnx [--window 4096 --overlap 0.5]</c>.</summary>
public sealed record TrainSettings
{
    public required IReadOnlyList<string> Inputs { get; init; }

    public required string Out { get; init; }

    public int WindowSize { get; init; } = 4096;

    public double Overlap { get; init; } = 0.5;

    /// <summary>Model line; default: the output file name without extension.</summary>
    public string? ModelId { get; init; }

    /// <summary>Default: seconds since the Unix epoch.</summary>
    public long? Version { get; init; }

    /// <summary>0 = automatic.</summary>
    public int Clusters { get; init; }

    public double HoldBack { get; init; } = 0.2;

    public double Margin { get; init; } = ModelTrainingOptions.DefaultMargin;

    /// <summary>Model inputs by feature name (<c>band_*</c> = every band); default: amplitude, shape, band and envelope features.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Bearing catalogue name (overrides the recordings' headers; enables the defect features).</summary>
    public string? Bearing { get; init; }

    /// <summary>Nominal speed (overrides the recordings' headers).</summary>
    public double? Rpm { get; init; }

    /// <summary>No progress bar (it goes to stderr; stdout carries only the summary).</summary>
    public bool NoProgress { get; init; }

    /// <summary>Folders of received training batches (docs/uplink.md): their normal samples are trained on, beside or instead of recordings.</summary>
    public IReadOnlyList<string> InputBatches { get; init; } = [];
}

/// <summary>
/// The <c>train</c> verb. Exit codes: 0 ok, 1 training failed (the message says why), 2 bad usage,
/// 3 unreadable or corrupt recording.
/// </summary>
public static class TrainCommand
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int BadInput = 3;

    public static Task<int> RunAsync(TrainSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(settings, stdout, stderr, TimeProvider.System, cancellationToken);

    public static async Task<int> RunAsync(TrainSettings settings, TextWriter stdout, TextWriter stderr, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (settings.Inputs.Count == 0 && settings.InputBatches.Count == 0)
        {
            await stderr.WriteLineAsync("error: at least one --input recording (or --input-batches folder) is needed").ConfigureAwait(false);
            return Usage;
        }

        if (string.IsNullOrWhiteSpace(settings.Out) || !settings.Out.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            await stderr.WriteLineAsync($"error: --out must name the model file, ending in .onnx (was '{settings.Out}')").ConfigureAwait(false);
            return Usage;
        }

        if (settings.Rpm is { } rpm && !(rpm > 0 && double.IsFinite(rpm)))
        {
            await stderr.WriteLineAsync($"error: --rpm must be a positive number (was {rpm.ToString(CultureInfo.InvariantCulture)})").ConfigureAwait(false);
            return Usage;
        }

        var options = new ModelTrainingOptions
        {
            ModelId = settings.ModelId ?? Path.GetFileNameWithoutExtension(settings.Out).Replace(' ', '-'),
            Version = settings.Version,
            WindowSize = settings.WindowSize,
            Overlap = settings.Overlap,
            Clusters = settings.Clusters,
            HoldBackFraction = settings.HoldBack,
            ThresholdMargin = settings.Margin,
            Features = settings.Features,
        };
        if (options.Validate() is { } problem)
        {
            await stderr.WriteLineAsync("error: " + problem).ConfigureAwait(false);
            return Usage;
        }

        BearingGeometry? bearing = null;
        var inputs = new List<TrainingInput>();
        try
        {
            bearing = settings.Bearing is null ? null : Signal.BearingCatalog.Get(settings.Bearing);
            foreach (var file in settings.Inputs)
            {
                var recording = RecordingReader.Load(file);
                inputs.Add(new TrainingInput(recording, file, ModelFiles.Sha256HexOfFile(file))
                {
                    Bearing = bearing,
                    ShaftHz = settings.Rpm / 60.0,
                });
            }

            if (settings.InputBatches.Count > 0 && await LoadBatchesAsync(settings, inputs, stderr).ConfigureAwait(false) is { } batchProblem)
            {
                return batchProblem;
            }
        }
        catch (KeyNotFoundException ex)
        {
            await stderr.WriteLineAsync("error: --bearing: " + ex.Message).ConfigureAwait(false);
            return Usage;
        }
        catch (Exception ex) when (ex is RecordingFormatException or IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return BadInput;
        }

        TrainedModel trained;
        try
        {
            trained = settings.NoProgress
                ? await ModelTrainer.TrainAsync(inputs, options, timeProvider, null, cancellationToken).ConfigureAwait(false)
                : await TrainWithProgressAsync(inputs, options, timeProvider, stderr, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TrainingException or ArgumentException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ex is ArgumentException ? Usage : Failure;
        }

        ModelManifest manifest;
        try
        {
            manifest = trained.Save(settings.Out);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync("error: cannot write the model: " + ex.Message).ConfigureAwait(false);
            return Failure;
        }

        var inv = CultureInfo.InvariantCulture;
        var c = manifest.Calibration!;
        await stdout.WriteLineAsync($"model {manifest.DisplayId} written to {settings.Out} (manifest {ModelFiles.ManifestPath(settings.Out)})").ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(inv, $"  {manifest.TrainingWindows} training windows from {inputs.Count} recording(s), {c.Windows} held back; {manifest.Clusters} cluster(s); {manifest.Inputs.Count} inputs: {string.Join(", ", manifest.Inputs.Select(i => i.Name))}")).ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(inv, $"  threshold {manifest.Threshold:0.###} = held-back max {c.Max:0.###} × {c.Margin} (held-back median {c.P50:0.###})")).ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(inv, $"  export check: ONNX Runtime vs ML.NET, largest difference {manifest.ExportMaxDifference:G3} over {manifest.TrainingWindows + c.Windows} windows")).ConfigureAwait(false);
        await stdout.WriteLineAsync($"  next: factoryedge analyze --model {settings.Out} --input FILE --json; factoryedge model sign --key KEY.key.pem {settings.Out}").ConfigureAwait(false);
        await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        return Ok;
    }

    /// <summary>Adds one input per channel from the batch folders; returns an exit code when they cannot be used.</summary>
    private static async Task<int?> LoadBatchesAsync(TrainSettings settings, List<TrainingInput> inputs, TextWriter stderr)
    {
        var loaded = BatchTrainingInputs.Load(settings.InputBatches, Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands));
        foreach (var problem in loaded.Problems)
        {
            await stderr.WriteLineAsync("warning: skipped batch " + problem).ConfigureAwait(false);
        }

        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"train: {loaded.Files} batch file(s), {loaded.Windows} windows, {loaded.Used} normal samples on {loaded.Inputs.Count} channel(s)")).ConfigureAwait(false);
        if (loaded.Inputs.Count == 0)
        {
            await stderr.WriteLineAsync("error: --input-batches: no usable normal samples (healthy, running, not anomalous) in " + string.Join(", ", settings.InputBatches)).ConfigureAwait(false);
            return BadInput;
        }

        if (loaded.WindowSizes.Any(size => size != settings.WindowSize))
        {
            await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"error: --input-batches: the batches hold {string.Join(", ", loaded.WindowSizes.Order())}-sample windows, --window is {settings.WindowSize}: pass the gateway's window size")).ConfigureAwait(false);
            return Usage;
        }

        inputs.AddRange(loaded.Inputs);
        return null;
    }

    private static async Task<TrainedModel> TrainWithProgressAsync(IReadOnlyList<TrainingInput> inputs, ModelTrainingOptions options, TimeProvider timeProvider, TextWriter stderr, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stderr),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        if (!console.Profile.Capabilities.Interactive)
        {
            // Redirected (a log, CI): plain lines at every quarter of each stage instead of redrawing a bar.
            var next = new Dictionary<string, double>(StringComparer.Ordinal);
            var lines = new SynchronousProgress(p =>
            {
                var due = next.GetValueOrDefault(p.Stage);
                if (p.Fraction + 1e-9 >= due)
                {
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train: {p.Stage} {Math.Floor(p.Fraction * 4) * 25:0} %"));
                    next[p.Stage] = (Math.Floor(p.Fraction * 4) + 1) / 4;
                }
            });
            return await ModelTrainer.TrainAsync(inputs, options, timeProvider, lines, cancellationToken).ConfigureAwait(false);
        }

        TrainedModel? result = null;
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var features = context.AddTask("features", maxValue: 1.0);
                var fit = context.AddTask("fit (ML.NET)", maxValue: 1.0, autoStart: false);
                var export = context.AddTask("export + check (ONNX)", maxValue: 1.0, autoStart: false);
                var progress = new SynchronousProgress(p =>
                {
                    var task = p.Stage switch
                    {
                        "features" => features,
                        "fit" => fit,
                        _ => export,
                    };
                    if (!task.IsStarted)
                    {
                        task.StartTask();
                    }

                    task.Value = p.Fraction;
                });
                result = await ModelTrainer.TrainAsync(inputs, options, timeProvider, progress, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result!;
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        private readonly Lock _gate = new();

        public void Report(TrainingProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
