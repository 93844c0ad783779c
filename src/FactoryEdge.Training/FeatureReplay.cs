using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Recordings;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Training;

/// <summary>
/// Runs a recording through the live <see cref="SignalPipeline"/> (rings, window assembly, health,
/// features, machine state, the given scorer) with lossless sinks and returns a copy of every
/// window's result. Training uses it so that a model learns from exactly the features it will be
/// scored on; tests use it to evaluate models the way <c>analyze</c> does.
/// </summary>
public static class FeatureReplay
{
    /// <summary>Channel descriptors as <c>analyze</c> builds them, with optional bearing and speed overrides.</summary>
    public static IReadOnlyList<ChannelDescriptor> Describe(Recording recording, BearingGeometry? bearing = null, double? shaftHz = null)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var machine = Slug(Path.GetFileNameWithoutExtension(recording.Name));
        return [.. recording.ToChannelDescriptors("recording", "replay", machine).Select(d => d with
        {
            Bearing = bearing ?? d.Bearing,
            NominalShaftHz = shaftHz ?? d.NominalShaftHz,
        })];
    }

    /// <summary>Replays <paramref name="recording"/>; <paramref name="onWindow"/> is called (on a sink thread) with the running count.</summary>
    public static async Task<IReadOnlyList<WindowResult>> RunAsync(
        Recording recording,
        IReadOnlyList<ChannelDescriptor> channels,
        int windowSize,
        double overlap,
        IAnomalyScorer? scorer = null,
        Action<long>? onWindow = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        var options = new PipelineOptions { WindowSize = windowSize, Overlap = overlap };
        var (results, _) = await RunWithStatisticsAsync(recording, channels, options, scorer, onWindow, loggerFactory, cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// Replays <paramref name="recording"/> through a pipeline with <paramref name="options"/> (made
    /// lossless: one worker, sinks that wait) and returns every result and the pipeline's counters.
    /// Throws what the scorer's <see cref="IAnomalyScorer.Initialize"/> throws for channels it cannot score.
    /// </summary>
    public static async Task<(IReadOnlyList<WindowResult> Results, PipelineStatistics Statistics)> RunWithStatisticsAsync(
        Recording recording,
        IReadOnlyList<ChannelDescriptor> channels,
        PipelineOptions options,
        IAnomalyScorer? scorer = null,
        Action<long>? onWindow = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(options);
        options.Workers = 1;
        options.SinkFullMode = SinkFullMode.Wait;
        var sink = new CollectingSink(onWindow);
        var pipeline = new SignalPipeline(options, channels, scorer ?? new UnscoredScorer(), telemetry: [sink], loggerFactory: loggerFactory);
        pipeline.Start();
        try
        {
            var source = new RecordingSource(recording, channels, new RecordingSourceOptions { Pacing = ReplayPacing.AsFastAsPossible });
            await source.RunAsync(pipeline.Writers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pipeline.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return (sink.Results, pipeline.GetStatistics());
    }

    /// <summary>Number of windows a recording of <paramref name="samples"/> samples gives per channel.</summary>
    public static int WindowCount(long samples, int windowSize, double overlap)
    {
        var hop = Math.Max(1, (int)Math.Round(windowSize * (1.0 - overlap)));
        return samples < windowSize ? 0 : (int)(((samples - windowSize) / hop) + 1);
    }

    /// <summary>A machine name from free text: lower case, letters and digits, '-' for the rest.</summary>
    public static string Slug(string text)
    {
        var chars = text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray();
        return new string(chars).Trim('-') is { Length: > 0 } s ? s : "machine";
    }

    /// <summary>Keeps a copy of every result (the pipeline runs with lossless sinks).</summary>
    private sealed class CollectingSink(Action<long>? onWindow) : ITelemetrySink
    {
        private readonly List<WindowResult> _results = [];

        public string Name => "training";

        public IReadOnlyList<WindowResult> Results => _results;

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            var copy = new WindowResult(result.Features.Length);
            result.CopyTo(copy);
            _results.Add(copy);
            onWindow?.Invoke(_results.Count);
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>Feature extraction only: every window is left unscored.</summary>
    private sealed class UnscoredScorer : IAnomalyScorer
    {
        public string ModelId => "none (training)";

        public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
        {
        }

        public void Score(ScoringBatch batch)
        {
        }
    }
}
