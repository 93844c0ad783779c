using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

public sealed class SignalPipelineTests
{
    private const double Rate = 10240;

    private static PipelineOptions Options(int window = 1024, double overlap = 0.5) => new()
    {
        WindowSize = window,
        Overlap = overlap,
        Workers = 2,
        SinkFullMode = SinkFullMode.Wait,
    };

    private static void WriteSignal(IChannelWriter writer, long first, int count, int block = 512, Func<long, int, float[]>? make = null, bool paced = false)
    {
        for (var offset = 0; offset < count; offset += block)
        {
            if (paced)
            {
                Thread.Sleep(1); // ~50× real time: a live sensor, not a file dump
            }

            var n = Math.Min(block, count - offset);
            var data = make?.Invoke(first + offset, n) ?? Channels.Signal(first + offset, n, Rate);
            writer.Write(new SampleBlock(data, first + offset, (first + offset) * TimeSpan.TicksPerSecond / (long)Rate), CancellationToken.None);
        }
    }

    [Fact]
    public async Task Run_FourChannels_EveryWindowDeliveredInOrderPerChannel()
    {
        var channels = Enumerable.Range(0, 4).Select(i => Channels.Make(i, Rate)).ToArray();
        var sink = new CollectingTelemetry();
        var scorer = new RuleScorer((_, _) => 0f);
        var pipeline = new SignalPipeline(Options(), channels, scorer, telemetry: [sink]);
        pipeline.Start();
        var producers = pipeline.Writers.Select(w => Task.Run(() => WriteSignal(w, 0, 20480))).ToArray();
        await Task.WhenAll(producers);
        await pipeline.StopAsync();

        var expected = ((20480 - 1024) / 512) + 1;
        foreach (var channel in channels)
        {
            var mine = sink.Results.Where(r => r.Channel == channel.Id).ToList();
            Assert.Equal(expected, mine.Count);
            Assert.Equal(Enumerable.Range(0, expected).Select(i => (long)i * 512), mine.Select(r => r.FirstSampleIndex));
            Assert.All(mine, r => Assert.Equal(0f, r.Score));
            Assert.All(mine, r => Assert.True(r.Timestamps.CompleteTicks <= r.Timestamps.FeaturesDoneTicks && r.Timestamps.FeaturesDoneTicks <= r.Timestamps.ScoredTicks && r.Timestamps.ScoredTicks <= r.Timestamps.AlertDispatchedTicks));
        }

        Assert.Equal(expected * 4, pipeline.WindowsProcessed);
        Assert.True(scorer.Calls > 0);
    }

    [Fact]
    public async Task Run_GapMarkedBySource_NextWindowFlaggedAndNoWindowSpansIt()
    {
        var channel = Channels.Make(0, Rate);
        var sink = new CollectingTelemetry();
        var pipeline = new SignalPipeline(Options(), [channel], new RuleScorer((_, _) => 0f), telemetry: [sink]);
        pipeline.Start();
        var writer = pipeline.Writers[0];
        WriteSignal(writer, 0, 3000);
        writer.MarkGap();
        WriteSignal(writer, 5000, 3000);
        await pipeline.StopAsync();

        var results = sink.Results.ToList();
        Assert.DoesNotContain(results, r => r.FirstSampleIndex < 5000 && r.FirstSampleIndex + 1024 > 3000);
        var first = results.First(r => r.FirstSampleIndex >= 5000);
        Assert.Equal(5000, first.FirstSampleIndex);
        Assert.True(first.Health.HasFlag(ChannelHealthFlags.GapBefore));
        Assert.False(first.Health.ExcludesWindow());
        Assert.Equal(1, pipeline.GetStatistics().Channels[0].Gaps);
    }

    [Fact]
    public async Task Run_NaNSamples_ReportedAsChannelHealthAndNotScored()
    {
        var channel = Channels.Make(0, Rate);
        var sink = new CollectingTelemetry();
        var notifier = new CollectingNotifier();
        var scorer = new RuleScorer((_, _) => 100f); // everything it sees is anomalous
        var options = Options(overlap: 0);
        var pipeline = new SignalPipeline(options, [channel], scorer, [notifier], [sink]);
        pipeline.Start();
        WriteSignal(pipeline.Writers[0], 0, 8192, make: (first, n) =>
        {
            var d = Channels.Signal(first, n, Rate);
            Array.Fill(d, float.NaN, 10, 5);
            return d;
        });
        await pipeline.StopAsync();

        var results = sink.Results.ToList();
        Assert.Equal(8, results.Count);
        Assert.All(results, r => Assert.True(r.Health.HasFlag(ChannelHealthFlags.NonFinite)));
        Assert.All(results, r => Assert.True(float.IsNaN(r.Score)));
        Assert.Equal(0, scorer.Calls);
        Assert.Empty(notifier.Alerts);
    }

    [Fact]
    public async Task Run_AnomalousStretch_RaisesOnceAfterNWindowsAndClearsAfterM()
    {
        var channel = Channels.Make(0, Rate);
        var notifier = new CollectingNotifier();
        var sink = new CollectingTelemetry();
        // Features[0] is RMS; the rule makes windows from index 20480 to 40960 anomalous by amplitude.
        var scorer = new RuleScorer((_, _) => 0f);
        var options = Options(overlap: 0);
        options.Alerts.RaiseAfter = 3;
        options.Alerts.ClearAfter = 4;
        options.Alerts.AlarmRatio = 2;
        options.Alerts.CriticalRatio = 4;
        var amplitudeScorer = new AmplitudeScorer();
        var pipeline = new SignalPipeline(options, [channel], amplitudeScorer, [notifier], [sink]);
        pipeline.Start();
        WriteSignal(pipeline.Writers[0], 0, 61440, block: 1024, make: (first, n) => Channels.Signal(first, n, Rate, amplitude: first is >= 20480 and < 40960 ? 1.0 : 0.1));
        await pipeline.StopAsync();

        var alerts = notifier.Alerts.ToList();
        Assert.Equal(2, alerts.Count);
        Assert.Equal(AlertState.Raised, alerts[0].State);
        Assert.Equal(AlertState.Cleared, alerts[1].State);
        Assert.Equal(alerts[0].AlertId, alerts[1].AlertId);
        // Raised at the third anomalous window (windows of 1024 from sample 20480), cleared at the fourth normal one.
        Assert.Equal(channel.Id, alerts[0].Channel);
        Assert.Equal(new DateTimeOffset((20480 + (2 * 1024)) * TimeSpan.TicksPerSecond / (long)Rate, TimeSpan.Zero), alerts[0].SourceTime);
        Assert.Equal(new DateTimeOffset((40960 + (3 * 1024)) * TimeSpan.TicksPerSecond / (long)Rate, TimeSpan.Zero), alerts[1].SourceTime);
        Assert.Equal(AlertSeverity.Critical, alerts[0].Severity);
        Assert.Equal(1, pipeline.AlertsRaised);
    }

    [Fact]
    public async Task Run_StalledSink_DropsAndCountsWhilePipelineKeepsGoing()
    {
        var channel = Channels.Make(0, Rate);
        var stalled = new BlockingTelemetry();
        var healthy = new CollectingTelemetry();
        var options = Options();
        options.SinkFullMode = SinkFullMode.DropNewest;
        options.SinkQueueCapacity = 16;
        var pipeline = new SignalPipeline(options, [channel], new RuleScorer((_, _) => 0f), telemetry: [stalled, healthy]);
        pipeline.Start();
        WriteSignal(pipeline.Writers[0], 0, 102400, paced: true);
        // All windows are processed although one sink does not move at all.
        var expected = ((102400 - 1024) / 512) + 1;
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (pipeline.WindowsProcessed < expected && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        Assert.Equal(expected, pipeline.WindowsProcessed);
        var stats = pipeline.GetStatistics();
        var stalledStats = stats.Sinks.Single(s => s.Name == "telemetry-blocking");
        Assert.True(stalledStats.Dropped > 0);
        Assert.Equal(expected, stalledStats.Posted + stalledStats.Dropped);
        stalled.Gate.Set();
        await pipeline.StopAsync();
        // Every window is accounted for at each sink: delivered or counted as dropped, never lost silently.
        var healthyStats = pipeline.GetStatistics().Sinks.Single(s => s.Name == "telemetry-collect");
        Assert.Equal(expected, healthyStats.Posted + healthyStats.Dropped);
        Assert.Equal(healthyStats.Posted, healthy.Results.Count);
        Assert.True(healthy.Results.Count > stalledStats.Posted, "the moving sink received more than the stalled one");
        Assert.Equal(stalledStats.Posted, stalled.Count);
    }

    [Fact]
    public async Task Run_NotifierThrows_FailureCountedAndPipelineContinues()
    {
        var channel = Channels.Make(0, Rate);
        var throwing = new ThrowingNotifier();
        var good = new CollectingNotifier();
        var options = Options(overlap: 0);
        options.Alerts.RaiseAfter = 1;
        options.Alerts.ClearAfter = 1;
        var pipeline = new SignalPipeline(options, [channel], new AmplitudeScorer(), [throwing, good]);
        pipeline.Start();
        WriteSignal(pipeline.Writers[0], 0, 20480, make: (first, n) => Channels.Signal(first, n, Rate, amplitude: (first / 2048) % 2 == 0 ? 0.1 : 1.0));
        await pipeline.StopAsync();
        Assert.True(good.Alerts.Count >= 4);
        Assert.Equal(good.Alerts.Count, throwing.Calls);
        Assert.Equal(throwing.Calls, pipeline.GetStatistics().Sinks.Single(s => s.Name == "alert-throws").Failed);
    }

    [Fact]
    public async Task Run_StoppedMachine_NotScoredAndNoAlert()
    {
        var channel = Channels.Make(0, Rate);
        var notifier = new CollectingNotifier();
        var sink = new CollectingTelemetry();
        var options = Options(overlap: 0);
        options.Alerts.RaiseAfter = 1;
        options.MachineState.StoppedRms = 0.05;
        var scorer = new RuleScorer((_, _) => 100f);
        var pipeline = new SignalPipeline(options, [channel], scorer, [notifier], [sink]);
        pipeline.Start();
        WriteSignal(pipeline.Writers[0], 0, 16384, make: (first, n) => Channels.Signal(first, n, Rate, amplitude: 0.01));
        await pipeline.StopAsync();
        Assert.All(sink.Results, r => Assert.Equal(MachineState.Stopped, r.MachineState));
        Assert.All(sink.Results, r => Assert.True(float.IsNaN(r.Score)));
        Assert.Empty(notifier.Alerts);
    }

    /// <summary>Scores by RMS (feature 0): 0.5 g RMS = 10× the threshold of 0.05 g.</summary>
    private sealed class AmplitudeScorer : IAnomalyScorer
    {
        public string ModelId => "amplitude";

        public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
        {
        }

        public void Score(ScoringBatch batch)
        {
            for (var r = 0; r < batch.Count; r++)
            {
                batch.Scores[r] = batch.Features(r)[0];
                batch.Thresholds[r] = 0.15f;
            }
        }
    }
}
