using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

/// <summary>Allocation is measured process-wide, so nothing else may run at the same time.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection
{
}

[Collection(nameof(AllocationCollection))]
public sealed class PipelineAllocationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double Rate = 10240;

    [Fact]
    [Trait("Category", "Allocation")]
    public async Task Run_SteadyState_AllocatesNothingPerWindowBeyondFeatureExtraction()
    {
        // Measure the pipeline's own allocations: total bytes over many windows, minus what the
        // feature extractor alone allocates for the same windows (MathNet's FFT allocates).
        var channels = Enumerable.Range(0, 4).Select(i => Channels.Make(i, Rate)).ToArray();
        var options = new PipelineOptions { WindowSize = 1024, Overlap = 0.5, Workers = 2, SinkFullMode = SinkFullMode.Wait, SinkQueueCapacity = 64 };
        var sink = new CollectingCountSink();
        var pipeline = new SignalPipeline(options, channels, new RuleScorer((_, _) => 0f), telemetry: [sink]);
        pipeline.Start();
        var blocks = Enumerable.Range(0, 64).Select(b => Channels.Signal(b * 512L, 512, Rate)).ToArray();
        void Produce(long fromBlock, long toBlock)
        {
            var writers = pipeline.Writers;
            for (var b = fromBlock; b < toBlock; b++)
            {
                for (var w = 0; w < writers.Count; w++)
                {
                    writers[w].Write(new SampleBlock(blocks[b % blocks.Length], b * 512, b * 512), CancellationToken.None);
                }
            }
        }

        // Block (no polling loop, whose own allocations would land in the process-wide figure) until
        // the sink has seen the target number of windows.
        void WaitFor(long windows)
        {
            sink.Arm(windows);
            Assert.True(sink.Reached.Wait(TimeSpan.FromSeconds(120)), $"the sink saw {Volatile.Read(ref sink.Count)} of {windows} windows");
        }

        Produce(0, 800); // warm-up: pools fill, JIT settles
        WaitFor(4 * 799);
        var statsBefore = pipeline.GetStatistics();
        var totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        await Task.Run(() => Produce(800, 2800));
        WaitFor(4 * 2799);
        var totalAfter = GC.GetTotalAllocatedBytes(precise: true);
        var statsAfter = pipeline.GetStatistics();
        await pipeline.StopAsync();

        var windows = statsAfter.Windows - statsBefore.Windows;
        var pipelinePerWindow = (statsAfter.Allocation.PipelineBytes - statsBefore.Allocation.PipelineBytes) / (double)windows;
        var extractorPerWindow = (statsAfter.Allocation.ExtractorBytes - statsBefore.Allocation.ExtractorBytes) / (double)windows;
        var processPerWindow = (totalAfter - totalBefore) / (double)windows;
        output.WriteLine($"pool growth {statsBefore.PoolGrowth} -> {statsAfter.PoolGrowth}, dropped windows {statsAfter.DroppedWindows}; workers {statsAfter.Allocation.WorkerBytes - statsBefore.Allocation.WorkerBytes} B, scoring {statsAfter.Allocation.ScoringBytes - statsBefore.Allocation.ScoringBytes} B");
        output.WriteLine($"{windows} windows: pipeline threads {pipelinePerWindow:0.00} B/window outside feature extraction; extraction (MathNet FFT) {extractorPerWindow:0.0} B/window; whole process {processPerWindow:0.0} B/window");
        Assert.True(windows >= 4 * 1900, $"only {windows} windows processed");
        Assert.True(pipelinePerWindow < 4, $"the pipeline's own threads allocate {pipelinePerWindow:0.00} B per window outside feature extraction");
        // Cross-check from outside: the whole process (test thread, sources, sinks included) stays
        // within a small margin of what extraction itself allocates.
        Assert.True(processPerWindow < extractorPerWindow + 256, $"process allocates {processPerWindow:0.0} B/window against extraction's {extractorPerWindow:0.0}");
        // Since the allocation-free RadixTwoFftEngine replaced MathNet's FFT behind IFftEngine, extraction allocates nothing either.
        Assert.True(extractorPerWindow < 4, $"feature extraction allocates {extractorPerWindow:0.0} B per window");
    }

    private sealed class CollectingCountSink : ITelemetrySink
    {
        public long Count;
        private long _target = long.MaxValue;

        public ManualResetEventSlim Reached { get; } = new(false);

        public string Name => "count";

        public void Arm(long target)
        {
            Reached.Reset();
            Volatile.Write(ref _target, target);
            if (Volatile.Read(ref Count) >= target)
            {
                Reached.Set();
            }
        }

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref Count) >= Volatile.Read(ref _target))
            {
                Reached.Set();
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
