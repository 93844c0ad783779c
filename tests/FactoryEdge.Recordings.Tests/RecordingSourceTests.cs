using FactoryEdge.Core;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Recordings.Tests;

public sealed class RecordingSourceTests
{
    private static readonly DateTimeOffset FakeNow = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static Recording TwoChannels(int length, double rate)
    {
        var a = new float[length];
        var b = new float[length];
        for (var i = 0; i < length; i++)
        {
            a[i] = i;
            b[i] = -i - 0.5f;
        }

        return new Recording("mem.csv", rate,
        [
            new RecordingChannel("sensor", "x", SignalUnit.G, a),
            new RecordingChannel("sensor", "y", SignalUnit.G, b),
        ]);
    }

    private static FakeChannelWriter[] Writers(RecordingSource source) =>
        [.. source.Channels.Select(c => new FakeChannelWriter(c))];

    private static long ExpectedTicks(DateTimeOffset start, long index, double rate) =>
        start.UtcTicks + (long)Math.Round((decimal)index * TimeSpan.TicksPerSecond / (decimal)rate);

    private static void AssertContiguous(IReadOnlyList<ReceivedBlock> blocks, long firstIndex = 0)
    {
        var expected = firstIndex;
        foreach (var block in blocks)
        {
            Assert.Equal(expected, block.FirstSampleIndex);
            expected += block.Samples.Length;
        }
    }

    [Fact]
    public async Task RunAsync_AsFastAsPossible_DeliversEverySampleContiguouslyWithRelativeTimestamps()
    {
        const double Rate = 48000;
        var recording = TwoChannels(10_000, Rate);
        var time = new FakeTimeProvider(FakeNow);
        var source = new RecordingSource(recording, "s", "l", "m", new RecordingSourceOptions { BlockSize = 1024 }, time);
        var writers = Writers(source);

        await source.RunAsync(writers, CancellationToken.None);

        for (var c = 0; c < 2; c++)
        {
            var blocks = writers[c].Blocks;
            Assert.Equal(10, blocks.Count);
            Assert.Equal(10_000 - (9 * 1024), blocks[^1].Samples.Length);
            AssertContiguous(blocks);
            Assert.Equal(recording.Channels[c].Samples.ToArray(), writers[c].AllSamples());
            Assert.All(blocks, b =>
            {
                Assert.False(b.ViaTryWrite);
                Assert.Equal(ClockQuality.Relative, b.Clock);
                Assert.Equal(ExpectedTicks(FakeNow, b.FirstSampleIndex, Rate), b.SourceTimestampTicks);
            });
        }

        Assert.Equal(20, source.BlocksWritten);
        Assert.Equal(0, source.DroppedBlocks);
        Assert.Equal(10_000, source.SamplesReplayed);
    }

    [Fact]
    public async Task RunAsync_StartTimeGiven_TimestampsAreSynchronizedFromThatTime()
    {
        const double Rate = 25600;
        var start = new DateTimeOffset(2023, 6, 1, 12, 0, 0, TimeSpan.FromHours(2));
        var source = new RecordingSource(TwoChannels(5000, Rate), "s", "l", "m", new RecordingSourceOptions { BlockSize = 700, StartTime = start });
        var writers = Writers(source);

        await source.RunAsync(writers, CancellationToken.None);

        Assert.All(writers[0].Blocks, b =>
        {
            Assert.Equal(ClockQuality.Synchronized, b.Clock);
            Assert.Equal(ExpectedTicks(start, b.FirstSampleIndex, Rate), b.SourceTimestampTicks);
        });
    }

    [Fact]
    public async Task RunAsync_Looping_IndicesKeepIncreasingAndSeamsAreMarked()
    {
        const int Length = 1000;
        var recording = TwoChannels(Length, 1000);
        var source = new RecordingSource(recording, "s", "l", "m", new RecordingSourceOptions { BlockSize = 300, Loop = true });
        var writers = Writers(source);
        using var cts = new CancellationTokenSource();
        writers[1].AfterBlock = w =>
        {
            if (w.SampleCount >= 3500)
            {
                cts.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.RunAsync(writers, cts.Token));

        foreach (var writer in writers)
        {
            var blocks = writer.Blocks;
            AssertContiguous(blocks);
            var samples = writer.AllSamples();
            Assert.True(samples.Length >= 3500);
            var original = recording.Channels[writer == writers[0] ? 0 : 1].Samples.Span;
            for (var i = 0; i < samples.Length; i++)
            {
                Assert.Equal(original[i % Length], samples[i]);
            }

            // No block spans the seam: every block starting a loop begins at a multiple of the length.
            Assert.All(blocks, b => Assert.Equal(b.FirstSampleIndex / Length, (b.FirstSampleIndex + b.Samples.Length - 1) / Length));
            Assert.All(blocks, b => Assert.Equal(b.FirstSampleIndex / Length, b.GapsBefore));
            Assert.Equal(3, writer.Gaps);
        }

        Assert.Equal(3, source.CompletedLoops);
    }

    [Fact]
    public async Task RunAsync_LoopingWithoutSeamGaps_DoesNotMarkGaps()
    {
        var source = new RecordingSource(TwoChannels(100, 1000), "s", "l", "m", new RecordingSourceOptions { Loop = true, MarkGapAtLoopSeam = false });
        var writers = Writers(source);
        using var cts = new CancellationTokenSource();
        writers[1].AfterBlock = w =>
        {
            if (w.SampleCount >= 500)
            {
                cts.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.RunAsync(writers, cts.Token));

        Assert.Equal(0, writers[0].Gaps);
        Assert.True(source.CompletedLoops >= 4);
    }

    [Fact]
    public async Task RunAsync_CancelledBeforeStart_ThrowsWithoutWriting()
    {
        var source = new RecordingSource(TwoChannels(100, 1000), "s", "l", "m");
        var writers = Writers(source);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.RunAsync(writers, cts.Token));

        Assert.Empty(writers[0].Blocks);
    }

    [Fact]
    public async Task RunAsync_RealTime_WritesEachBlockWhenItsTimeHasCome()
    {
        const double Rate = 48000;
        var time = new FakeTimeProvider(FakeNow);
        var source = new RecordingSource(TwoChannels(4800, Rate), "s", "l", "m", new RecordingSourceOptions { BlockSize = 480, Pacing = ReplayPacing.RealTime }, time);
        var writers = Writers(source);

        var run = source.RunAsync(writers, CancellationToken.None);
        await Task.Delay(50);
        Assert.Empty(writers[0].Blocks);

        for (var block = 1; block <= 10; block++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Wait.UntilAsync(() => writers[1].Blocks.Count == block);
            Assert.Equal(block, writers[0].Blocks.Count);
        }

        await run;
        Assert.All(writers[0].Blocks, b => Assert.True(b.ViaTryWrite));
        AssertContiguous(writers[0].Blocks);
        Assert.Equal(ExpectedTicks(FakeNow, 4320, Rate), writers[0].Blocks[^1].SourceTimestampTicks);
    }

    [Fact]
    public async Task RunAsync_SpeedFactorFour_WritesFourBlocksPerBlockPeriod()
    {
        var time = new FakeTimeProvider(FakeNow);
        var source = new RecordingSource(TwoChannels(4800, 48000), "s", "l", "m", new RecordingSourceOptions { BlockSize = 480, Pacing = ReplayPacing.Speed, SpeedFactor = 4 }, time);
        var writers = Writers(source);

        var run = source.RunAsync(writers, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(10));
        await Wait.UntilAsync(() => writers[1].Blocks.Count == 4);
        await Task.Delay(30);
        Assert.Equal(4, writers[1].Blocks.Count);

        time.Advance(TimeSpan.FromMilliseconds(15));
        await run;
        Assert.Equal(10, writers[1].Blocks.Count);
    }

    [Fact]
    public async Task RunAsync_WriterFull_CountsDroppedBlocksAndKeepsIndicesRunning()
    {
        var time = new FakeTimeProvider(FakeNow);
        var source = new RecordingSource(TwoChannels(2000, 1000), "s", "l", "m", new RecordingSourceOptions { BlockSize = 500, Pacing = ReplayPacing.RealTime }, time);
        var writers = Writers(source);
        writers[0].AcceptTryWrite = false;

        var run = source.RunAsync(writers, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(() => writers[1].Blocks.Count == 2);
        writers[0].AcceptTryWrite = true;
        time.Advance(TimeSpan.FromSeconds(1));
        await run;

        Assert.Equal(2, source.DroppedBlocks);
        Assert.Equal(6, source.BlocksWritten);
        Assert.Equal([1000L, 1500L], writers[0].Blocks.Select(b => b.FirstSampleIndex));
        Assert.Equal([0L, 500L, 1000L, 1500L], writers[1].Blocks.Select(b => b.FirstSampleIndex));
    }

    [Fact]
    public async Task RunAsync_WrongWriterCount_Throws()
    {
        var source = new RecordingSource(TwoChannels(10, 100), "s", "l", "m");

        await Assert.ThrowsAsync<ArgumentException>(() => source.RunAsync([new FakeChannelWriter(source.Channels[0])], CancellationToken.None));
    }

    [Fact]
    public void Constructor_DescriptorRateDiffers_Throws()
    {
        var recording = TwoChannels(10, 100);
        var channels = recording.ToChannelDescriptors("s", "l", "m").Select(d => d with { SampleRateHz = 200 }).ToList();

        Assert.Throws<ArgumentException>(() => new RecordingSource(recording, channels));
    }

    [Fact]
    public void Constructor_NonPositiveSpeed_Throws()
    {
        Assert.Throws<ArgumentException>(() => new RecordingSource(TwoChannels(10, 100), "s", "l", "m", new RecordingSourceOptions { Pacing = ReplayPacing.Speed, SpeedFactor = 0 }));
    }
}
