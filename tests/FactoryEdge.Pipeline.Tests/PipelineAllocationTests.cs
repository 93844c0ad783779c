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
        var options = new PipelineOptions { WindowSize = 1024, Overlap = 0.5, Workers = 2, SinkFullMode = SinkFullMode.Wait };
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

        async Task WaitFor(long windows)
        {
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (pipeline.WindowsProcessed < windows && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(5);
            }
        }

        Produce(0, 400); // warm-up: pools fill, JIT settles
        await WaitFor(4 * 399);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var windowsBefore = pipeline.WindowsProcessed;
        await Task.Run(() => Produce(400, 2400));
        await WaitFor(4 * 2399);
        var after = GC.GetTotalAllocatedBytes(precise: true);
        var windows = pipeline.WindowsProcessed - windowsBefore;
        await pipeline.StopAsync();

        // Reference: the same extractor work alone.
        var extractor = new Signal.FeatureExtractor(Signal.FeatureExtractorOptions.For(channels[0], 1024, 512));
        var window = Channels.Signal(0, 1024, Rate);
        var features = new float[extractor.FeatureCount];
        for (var i = 0; i < 50; i++)
        {
            extractor.Extract(window, features);
        }

        var refBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 500; i++)
        {
            extractor.Extract(window, features);
        }

        var extractorPerWindow = (GC.GetAllocatedBytesForCurrentThread() - refBefore) / 500.0;
        var pipelinePerWindow = ((after - before) / (double)windows) - extractorPerWindow;
        output.WriteLine($"{windows} windows: pipeline {pipelinePerWindow:0.0} B/window beyond the extractor's {extractorPerWindow:0.0} B/window (MathNet FFT)");
        Assert.True(windows >= 4 * 1900, $"only {windows} windows processed");
        // Allow for the test's own awaits and timer noise spread over thousands of windows.
        Assert.True(pipelinePerWindow < 48, $"pipeline allocates {pipelinePerWindow:0.0} B per window beyond the extractor's {extractorPerWindow:0.0} B");
    }

    private sealed class CollectingCountSink : ITelemetrySink
    {
        public long Count;

        public string Name => "count";

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            Count++;
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
