using System.Diagnostics;
using FactoryEdge.Pipeline;

namespace FactoryEdge.Operations.Tests;

public sealed class LatencyExportTests
{
    [Fact]
    public void CountAtMost_ValuesAcrossLinearAndLogBuckets_CumulativeAtBounds()
    {
        var histogram = new LatencyHistogram();
        foreach (var (microseconds, times) in new[] { (10.0, 3), (500.0, 2), (5000.0, 1), (2_000_000.0, 1) })
        {
            for (var i = 0; i < times; i++)
            {
                histogram.RecordTicks((long)(microseconds * Stopwatch.Frequency / 1e6));
            }
        }

        Assert.Equal(0, histogram.CountAtMost(5));
        Assert.Equal(3, histogram.CountAtMost(100));
        Assert.Equal(5, histogram.CountAtMost(1000));
        Assert.Equal(6, histogram.CountAtMost(10_000));
        Assert.Equal(6, histogram.CountAtMost(1_000_000));
        Assert.Equal(7, histogram.CountAtMost(10_000_000));
        Assert.Equal(7, histogram.Count);
    }
}
