using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

public sealed class WindowAssemblerTests
{
    private sealed class Collector
    {
        public List<(long Start, float First, float Last, WindowInfo Info)> Windows { get; } = [];
    }

    private static void Feed(WindowAssembler assembler, Collector collector, long firstIndex, int count, bool gap = false, long sourceTicks = 0, SampleQuality quality = SampleQuality.Good)
    {
        var samples = new float[count];
        for (var i = 0; i < count; i++)
        {
            samples[i] = firstIndex + i; // each sample carries its own index
        }

        var header = new BlockHeader { FirstSampleIndex = firstIndex, Count = count, SourceTimestampTicks = sourceTicks, GapBefore = gap, Quality = quality };
        assembler.Add(header, samples, default, collector, static (c, window, in info) => c.Windows.Add((info.FirstSampleIndex, window[0], window[^1], info)));
    }

    [Fact]
    public void Add_ContiguousBlocksWithHalfOverlap_EmitsWindowsEveryHop()
    {
        var assembler = new WindowAssembler(1024, 512, 1000);
        var c = new Collector();
        for (var b = 0; b < 20; b++)
        {
            Feed(assembler, c, b * 300, 300);
        }

        // 6000 samples: windows start at 0, 512, ..., while start + 1024 <= 6000.
        Assert.Equal(((6000 - 1024) / 512) + 1, c.Windows.Count);
        for (var i = 0; i < c.Windows.Count; i++)
        {
            Assert.Equal(i * 512, c.Windows[i].Start);
            Assert.Equal(i * 512, c.Windows[i].First);
            Assert.Equal((i * 512) + 1023, c.Windows[i].Last);
        }
    }

    [Fact]
    public void Add_SequenceJump_NoWindowSpansTheGap()
    {
        var assembler = new WindowAssembler(1024, 256, 1000);
        var c = new Collector();
        Feed(assembler, c, 0, 1500);
        Feed(assembler, c, 1600, 2000); // 100 samples missing
        Assert.All(c.Windows, w => Assert.True(w.Last - w.First == 1023, $"window at {w.Start} is not contiguous"));
        Assert.DoesNotContain(c.Windows, w => w.First < 1600 && w.Last >= 1500);
        var afterGap = c.Windows.First(w => w.Start >= 1600);
        Assert.Equal(1600, afterGap.Start);
        Assert.True(afterGap.Info.GapBefore);
        Assert.Equal(1, assembler.Gaps);
        Assert.Equal(100, assembler.MissedSamples);
    }

    [Fact]
    public void Add_ExplicitGapMark_RestartsAssembly()
    {
        var assembler = new WindowAssembler(1024, 1024, 1000);
        var c = new Collector();
        Feed(assembler, c, 0, 800);
        Feed(assembler, c, 800, 1100, gap: true);
        Assert.Single(c.Windows);
        Assert.Equal(800, c.Windows[0].Start);
        Assert.True(c.Windows[0].Info.GapBefore);
    }

    [Fact]
    public void Add_RepeatedBlock_IsDiscardedAndCounted()
    {
        var assembler = new WindowAssembler(1024, 1024, 1000);
        var c = new Collector();
        Feed(assembler, c, 0, 600);
        Feed(assembler, c, 0, 600); // the same block again
        Feed(assembler, c, 400, 800); // overlaps 200 old samples
        Assert.Single(c.Windows);
        Assert.Equal(0, c.Windows[0].Start);
        Assert.Equal(1023, c.Windows[0].Last);
        Assert.Equal(800, assembler.RepeatedSamples);
        Assert.Equal(0, assembler.Gaps);
    }

    [Fact]
    public void Add_SourceTime_IsAnchoredToSampleIndex()
    {
        var assembler = new WindowAssembler(1024, 512, 1000);
        var c = new Collector();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        Feed(assembler, c, 0, 1000, sourceTicks: t0);
        // The host clock steps back an hour: the block's own time rules for its samples.
        Feed(assembler, c, 1000, 1000, sourceTicks: t0 + TimeSpan.TicksPerSecond);
        Assert.Equal(t0, c.Windows[0].Info.SourceStartTicks);
        Assert.Equal(t0 + (512 * TimeSpan.TicksPerMillisecond), c.Windows[1].Info.SourceStartTicks);
    }

    [Fact]
    public void Add_BadQualityBlock_MarksEveryWindowContainingIt()
    {
        var assembler = new WindowAssembler(1024, 512, 1000);
        var c = new Collector();
        Feed(assembler, c, 0, 1024);
        Feed(assembler, c, 1024, 100, quality: SampleQuality.Bad);
        Feed(assembler, c, 1124, 3000);
        Assert.False(c.Windows[0].Info.BadQuality);
        Assert.True(c.Windows.Single(w => w.Start == 512).Info.BadQuality);
        Assert.True(c.Windows.Single(w => w.Start == 1024).Info.BadQuality);
        Assert.False(c.Windows.Single(w => w.Start == 1536).Info.BadQuality);
    }
}
