using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Recordings;
using FactoryEdge.Training;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Gateway.Cli;

/// <summary>Settings of one <c>analyze</c> run.</summary>
public sealed record AnalyzeSettings
{
    public required string Input { get; init; }

    public string? Model { get; init; }

    public string? Baseline { get; init; }

    public string? MachineFile { get; init; }

    public string? Bearing { get; init; }

    public double? Rpm { get; init; }

    /// <summary>Window size; null = the model's (with <see cref="Model"/>) or 4096.</summary>
    public int? WindowSize { get; init; }

    /// <summary>Window overlap; null = the model's (with <see cref="Model"/>) or 0.5.</summary>
    public double? Overlap { get; init; }

    public int? WarmupWindows { get; init; }

    public double? Threshold { get; init; }

    public bool Json { get; init; }
}

/// <summary>
/// Runs a recording through exactly the pipeline that live data takes (same rings, assembler,
/// features, scorer and alert rules; sinks in lossless mode) and prints one line per window.
/// </summary>
public static class AnalyzeCommand
{
    public static async Task<int> RunAsync(AnalyzeSettings settings, TextWriter stdout, TextWriter stderr, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (settings.Model is not null)
        {
            // The ONNX model scores every channel; it carries its own threshold and warm-up rule.
            if (settings.Baseline is not null || settings.WarmupWindows is not null || settings.Threshold is not null)
            {
                await stderr.WriteLineAsync("error: --model cannot be combined with --baseline, --warmup or --threshold (the model carries its own threshold)").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            Recording modelInput;
            IReadOnlyList<ChannelDescriptor> modelChannels;
            try
            {
                modelInput = RecordingReader.Load(settings.Input);
                modelChannels = Describe(modelInput, settings);
            }
            catch (Exception ex) when (ex is RecordingFormatException or MachineProfileException or IOException or UnauthorizedAccessException or KeyNotFoundException)
            {
                await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            // Without --window / --overlap the model's own window and hop are used.
            Scoring.OnnxAnomalyScorer onnx;
            PipelineOptions modelOptions;
            try
            {
                Scoring.ModelManifest manifest;
                (onnx, manifest) = Scoring.ModelAnalysis.Open(settings.Model, settings.WindowSize);
                modelOptions = new PipelineOptions
                {
                    WindowSize = manifest.WindowSize,
                    Overlap = settings.Overlap ?? Scoring.ModelAnalysis.Overlap(manifest),
                    Workers = 1,
                    SinkFullMode = SinkFullMode.Wait,
                };
            }
            catch (Scoring.ModelLoadException ex)
            {
                await stderr.WriteLineAsync("error: --model: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            using (onnx)
            {
                var modelValidation = new PipelineOptionsValidator().Validate(null, modelOptions);
                if (modelValidation.Failed)
                {
                    await stderr.WriteLineAsync("error: " + modelValidation.FailureMessage).ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                IReadOnlyList<WindowResult> modelResults;
                PipelineStatistics modelStats;
                try
                {
                    (modelResults, modelStats) = await FeatureReplay.RunWithStatisticsAsync(modelInput, modelChannels, modelOptions, onnx, loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (Scoring.ModelLoadException ex)
                {
                    // The model does not fit these channels (schema, sample rate, no bearing for its defect features).
                    await stderr.WriteLineAsync("error: --model: " + ex.Message).ConfigureAwait(false);
                    return ExitCodes.BadInput;
                }

                if (settings.Json)
                {
                    WriteJson(modelResults, onnx.ModelId, stdout);
                }
                else
                {
                    WriteSummary(modelInput, modelChannels, modelResults, modelStats, stdout);
                }

                await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
        }

        Recording recording;
        Recording? baseline = null;
        IReadOnlyList<ChannelDescriptor> channels;
        try
        {
            recording = RecordingReader.Load(settings.Input);
            if (settings.Baseline is not null)
            {
                baseline = RecordingReader.Load(settings.Baseline);
                if (baseline.Channels.Count != recording.Channels.Count)
                {
                    await stderr.WriteLineAsync($"error: --baseline {settings.Baseline} has {baseline.Channels.Count} channel(s), the input {recording.Channels.Count}: they must match.").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
            }

            channels = Describe(recording, settings);
        }
        catch (Exception ex) when (ex is RecordingFormatException or MachineProfileException or IOException or UnauthorizedAccessException or KeyNotFoundException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        var pipelineOptions = new PipelineOptions
        {
            WindowSize = settings.WindowSize ?? 4096,
            Overlap = settings.Overlap ?? 0.5,
            Workers = 1,
            SinkFullMode = SinkFullMode.Wait,
        };
        pipelineOptions.Baseline.WarmupWindows = settings.WarmupWindows
            ?? (baseline is not null ? WindowCount(baseline.SampleCount, pipelineOptions) : Math.Clamp(WindowCount(recording.SampleCount, pipelineOptions) / 4, 5, 100));
        if (settings.Threshold is { } threshold)
        {
            pipelineOptions.Baseline.Threshold = threshold;
        }

        var validation = new PipelineOptionsValidator().Validate(null, pipelineOptions);
        if (validation.Failed)
        {
            await stderr.WriteLineAsync("error: " + validation.FailureMessage).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var scorer = new StatisticalBaselineScorer(pipelineOptions.Baseline);
        if (baseline is not null)
        {
            // Learn from the normal recording first: same pipeline, results discarded.
            await FeatureReplay.RunWithStatisticsAsync(baseline, Describe(baseline, settings), pipelineOptions, scorer, loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var (results, stats) = await FeatureReplay.RunWithStatisticsAsync(recording, channels, pipelineOptions, scorer, loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            WriteJson(results, scorer.ModelId, stdout);
        }
        else
        {
            WriteSummary(recording, channels, results, stats, stdout);
        }

        await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static int WindowCount(int samples, PipelineOptions options) => FeatureReplay.WindowCount(samples, options.WindowSize, options.Overlap);

    private static IReadOnlyList<ChannelDescriptor> Describe(Recording recording, AnalyzeSettings settings)
    {
        var profile = settings.MachineFile is null ? null : MachineProfile.Load(settings.MachineFile);
        var machine = FeatureReplay.Slug(profile?.Name is { Length: > 0 } n ? n : Path.GetFileNameWithoutExtension(recording.Name));
        var descriptors = recording.ToChannelDescriptors("recording", "replay", machine);
        var bearing = settings.Bearing is not null
            ? Signal.BearingCatalog.Get(settings.Bearing)
            : profile?.ResolveBearing(settings.MachineFile!);
        var shaftHz = settings.Rpm is { } rpm ? rpm / 60.0 : profile?.NominalRpm is { } prpm ? prpm / 60.0 : (double?)null;
        if (settings.Rpm is { } r && !(r > 0))
        {
            throw new MachineProfileException($"--rpm must be a positive number (was {r}).");
        }

        return [.. descriptors.Select(d => d with
        {
            Bearing = bearing ?? d.Bearing,
            NominalShaftHz = shaftHz ?? d.NominalShaftHz,
            MachineGroup = profile?.MachineGroup ?? d.MachineGroup,
            Support = profile?.Support ?? d.Support,
        })];
    }

    private static void WriteJson(IReadOnlyList<WindowResult> results, string modelId, TextWriter stdout)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        string[]? names = null;
        foreach (var r in results)
        {
            names ??= Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands);
            writer.Reset();
            buffer.ResetWrittenCount();
            writer.WriteStartObject();
            writer.WriteNumber("start_s", Math.Round(r.FirstSampleIndex / r.SampleRateHz, 6));
            writer.WriteNumber("score", float.IsFinite(r.Score) ? r.Score : 0f);
            writer.WriteBoolean("anomalous", r.Anomalous);
            writer.WriteNumber("threshold", float.IsFinite(r.Threshold) ? r.Threshold : 0f);
            writer.WriteBoolean("scored", float.IsFinite(r.Score) && !r.WarmingUp);
            writer.WriteBoolean("warming_up", r.WarmingUp);
            writer.WriteString("channel", $"{r.Channel.Sensor}/{r.Channel.Axis}");
            writer.WriteNumber("window", r.WindowNumber);
            writer.WriteString("machine_state", r.MachineState.ToString().ToLowerInvariant());
            writer.WriteStartArray("health");
            foreach (var flag in Enum.GetValues<ChannelHealthFlags>())
            {
                if (flag != ChannelHealthFlags.None && r.Health.HasFlag(flag))
                {
                    writer.WriteStringValue(flag.ToString());
                }
            }

            writer.WriteEndArray();
            writer.WriteString("model", modelId);
            for (var i = 0; i < names.Length; i++)
            {
                var v = r.Features[i];
                if (float.IsFinite(v))
                {
                    writer.WriteNumber(names[i], v);
                }
                else
                {
                    writer.WriteNull(names[i]);
                }
            }

            writer.WriteEndObject();
            writer.Flush();
            stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    private static void WriteSummary(Recording recording, IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<WindowResult> results, PipelineStatistics stats, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var names = Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands);
        stdout.WriteLine(string.Create(inv, $"{recording.Name}: {recording.SampleCount} samples at {recording.SampleRateHz} Hz ({recording.Duration.TotalSeconds:0.00} s), {channels.Count} channel(s), {results.Count} windows"));
        foreach (var channel in channels)
        {
            var mine = results.Where(r => r.Channel == channel.Id).ToList();
            var scored = mine.Where(r => float.IsFinite(r.Score) && !r.WarmingUp).ToList();
            stdout.WriteLine(string.Create(inv, $"  {channel.Id.Sensor}/{channel.Id.Axis} [{channel.Unit.Symbol()}], bearing {channel.Bearing?.Name ?? "none"}, nominal {channel.NominalShaftHz * 60:0} rpm"));
            stdout.WriteLine(string.Create(inv, $"    windows {mine.Count}, scored {scored.Count}, anomalous {scored.Count(r => r.Anomalous)}, health-flagged {mine.Count(r => r.Health.ExcludesWindow())}"));
            foreach (var feature in (string[])["shaft_hz", "rms", "kurtosis", "velocity_rms_mm_s", "env_peak_hz", "env_bpfo_hz", "env_bpfo", "env_bpfi_hz", "env_bpfi", "env_bsf_hz", "env_bsf", "env_ftf_hz", "env_ftf"])
            {
                var index = Array.IndexOf(names, feature);
                var values = mine.Select(r => r.Features[index]).Where(float.IsFinite).OrderBy(v => v).ToList();
                if (values.Count > 0)
                {
                    stdout.WriteLine(string.Create(inv, $"    {feature,-20} median {values[values.Count / 2],12:0.#####}"));
                }
            }
        }

        stdout.WriteLine(string.Create(inv, $"  gaps {stats.Channels.Sum(c => c.Gaps)}, dropped windows {stats.DroppedWindows}"));
    }
}

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int BadInput = 3;
    public const int BadConfig = 4;
}
