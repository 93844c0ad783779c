using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline;

namespace FactoryEdge.Gateway.Cli;

public sealed record BenchSettings
{
    public int Channels { get; init; } = 100;

    public double SampleRateHz { get; init; } = 25600;

    public double Seconds { get; init; } = 20;

    public double WarmupSeconds { get; init; } = 5;

    public int WindowSize { get; init; } = 4096;

    public double Overlap { get; init; } = 0.5;

    public double PublishMilliseconds { get; init; } = 100;

    public int Workers { get; init; }
}

/// <summary>
/// End-to-end pipeline benchmark: N simulated channels published together every publishing
/// interval (as one OPC UA publish response carries every channel), in real time, through the whole
/// pipeline (rings, assembly, features, batched scoring, alert rules, sinks). Prints latency
/// percentiles, throughput, CPU and memory.
/// </summary>
public static class BenchCommand
{
    public static async Task<int> RunAsync(BenchSettings settings, TextWriter stdout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        if (settings.Channels < 1 || !(settings.SampleRateHz >= 1000) || !(settings.Seconds > 0) || !(settings.PublishMilliseconds >= 1))
        {
            await Console.Error.WriteLineAsync("error: need --channels ≥ 1, --rate ≥ 1000, --seconds > 0, --publish-ms ≥ 1.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var inv = CultureInfo.InvariantCulture;
        var options = new PipelineOptions
        {
            WindowSize = settings.WindowSize,
            Overlap = settings.Overlap,
            Workers = settings.Workers,
            SinkFullMode = SinkFullMode.DropNewest,
        };
        options.Baseline.WarmupWindows = 20;
        var validation = new PipelineOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            await Console.Error.WriteLineAsync("error: " + validation.FailureMessage).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Signals: the physics generator, a few seconds per channel, replayed in a loop.
        var blockSize = (int)Math.Round(settings.SampleRateHz * settings.PublishMilliseconds / 1000.0);
        var loopSamples = Math.Max(blockSize * 4, (int)(settings.SampleRateHz * 2 / blockSize) * blockSize);
        var channels = new ChannelDescriptor[settings.Channels];
        var signals = new float[settings.Channels][];
        for (var i = 0; i < settings.Channels; i++)
        {
            var config = new SimulatedMachineConfig
            {
                Machine = "m" + i.ToString("000", inv),
                SampleRateHz = settings.SampleRateHz,
                ShaftRpm = 1200 + (i % 7 * 150),
                Seed = i + 1,
            };
            (channels[i], signals[i]) = SimulatedSources.Generate(config, "bench", "line", loopSamples);
        }

        var notifier = new CountingNotifier();
        var sink = new CountingSink();
        await using var pipeline = new SignalPipeline(options, channels, new StatisticalBaselineScorer(options.Baseline), [notifier], [sink]);
        pipeline.Start();

        stdout.WriteLine(string.Create(inv, $"bench: {settings.Channels} channels × {settings.SampleRateHz} Hz, window {settings.WindowSize} overlap {settings.Overlap:0.##}, every channel's block of {blockSize} samples published together every {settings.PublishMilliseconds} ms, {options.EffectiveWorkers} workers"));
        stdout.WriteLine(string.Create(inv, $"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}"));

        var process = Process.GetCurrentProcess();
        long windowsAtStart = 0, allocatedAtStart = 0, publishedAtStart = 0;
        var allocationAtStart = new AllocationStatistics(0, 0, 0);
        TimeSpan cpuAtStart = default;
        var wall = Stopwatch.StartNew();
        var measuring = false;
        var measureStart = TimeSpan.Zero;
        var period = Stopwatch.Frequency * settings.PublishMilliseconds / 1000.0;
        var next = (double)Stopwatch.GetTimestamp();
        long published = 0;
        long sampleIndex = 0;
        var total = TimeSpan.FromSeconds(settings.WarmupSeconds + settings.Seconds);
        var baseTicks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        var lateTicks = 0L;
        while (wall.Elapsed < total && !cancellationToken.IsCancellationRequested)
        {
            if (!measuring && wall.Elapsed.TotalSeconds >= settings.WarmupSeconds)
            {
                measuring = true;
                measureStart = wall.Elapsed;
                pipeline.CompleteToDispatched.Reset();
                pipeline.ReceivedToDispatched.Reset();
                pipeline.FeatureLatency.Reset();
                windowsAtStart = pipeline.WindowsProcessed;
                allocatedAtStart = GC.GetTotalAllocatedBytes(precise: false);
                allocationAtStart = pipeline.GetStatistics().Allocation;
                publishedAtStart = published;
                process.Refresh();
                cpuAtStart = process.TotalProcessorTime;
            }

            // Wait for the next publishing instant (sleep, then spin the last stretch).
            while (true)
            {
                var remaining = (next - Stopwatch.GetTimestamp()) / Stopwatch.Frequency;
                if (remaining <= 0)
                {
                    break;
                }

                if (remaining > 0.002)
                {
                    Thread.Sleep(1);
                }
                else
                {
                    Thread.SpinWait(50);
                }
            }

            lateTicks = Math.Max(lateTicks, Stopwatch.GetTimestamp() - (long)next);
            next += period;
            var offset = (int)(sampleIndex % loopSamples);
            var ticks = baseTicks + (long)(sampleIndex * TimeSpan.TicksPerSecond / settings.SampleRateHz);
            for (var c = 0; c < channels.Length; c++)
            {
                pipeline.Writers[c].TryWrite(new SampleBlock(signals[c].AsSpan(offset, blockSize), sampleIndex, ticks));
            }

            sampleIndex += blockSize;
            published++;
        }

        var measured = wall.Elapsed - measureStart;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuAtStart;
        var windows = pipeline.WindowsProcessed - windowsAtStart;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedAtStart;
        var stats = pipeline.GetStatistics();
        var c2d = pipeline.CompleteToDispatched;
        var r2d = pipeline.ReceivedToDispatched;
        var feat = pipeline.FeatureLatency;
        stdout.WriteLine(string.Create(inv, $"measured {measured.TotalSeconds:0.0} s after {settings.WarmupSeconds:0} s warm-up: {windows} windows, {windows / measured.TotalSeconds:0.0} windows/s, {(published - publishedAtStart) / measured.TotalSeconds:0.0} publishes/s"));
        stdout.WriteLine(string.Create(inv, $"latency window complete → alert stage done: p50 {c2d.Percentile(0.5):0} µs, p99 {c2d.Percentile(0.99):0} µs, max {c2d.MaxMicroseconds:0} µs"));
        stdout.WriteLine(string.Create(inv, $"latency last sample received → alert stage done: p50 {r2d.Percentile(0.5):0} µs, p99 {r2d.Percentile(0.99):0} µs, max {r2d.MaxMicroseconds:0} µs"));
        stdout.WriteLine(string.Create(inv, $"feature extraction per window (complete → features done, incl. queueing): p50 {feat.Percentile(0.5):0} µs, p99 {feat.Percentile(0.99):0} µs"));
        var perWindow = Math.Max(1.0, windows);
        stdout.WriteLine(string.Create(inv, $"CPU {cpu.TotalSeconds / measured.TotalSeconds * 100:0}% of one core ({cpu.TotalSeconds / measured.TotalSeconds / Environment.ProcessorCount * 100:0}% of the machine), peak working set {process.PeakWorkingSet64 / (1024.0 * 1024):0} MiB, GC gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
        stdout.WriteLine(string.Create(inv, $"allocated per window: pipeline threads outside feature extraction {Math.Max(0, stats.Allocation.PipelineBytes - allocationAtStart.PipelineBytes) / perWindow:0.00} B, inside feature extraction (MathNet FFT) {(stats.Allocation.ExtractorBytes - allocationAtStart.ExtractorBytes) / perWindow:0} B, whole process {allocated / perWindow:0} B"));
        stdout.WriteLine(string.Create(inv, $"drops: ring blocks {stats.Channels.Sum(c => c.DroppedBlocks)}, windows {stats.DroppedWindows}, sinks {stats.Sinks.Sum(s => s.Dropped)}; gaps {stats.Channels.Sum(c => c.Gaps)}; alerts {notifier.Count}; publisher max lateness {lateTicks * 1000.0 / Stopwatch.Frequency:0.0} ms"));
        return ExitCodes.Ok;
    }

    private sealed class CountingNotifier : IAlertNotifier
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public string Name => "count";

        public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class CountingSink : ITelemetrySink
    {
        private long _count;

        public string Name => "count";

        public long Count => Interlocked.Read(ref _count);

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
