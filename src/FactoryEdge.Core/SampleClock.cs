namespace FactoryEdge.Core;

/// <summary>Converts running sample indices to time without losing precision on long runs.</summary>
public static class SampleClock
{
    /// <summary>Ticks (100 ns) from sample 0 to sample <paramref name="index"/> at <paramref name="sampleRateHz"/>.</summary>
    public static long TicksAt(long index, double sampleRateHz)
    {
        var wholeSeconds = Math.Floor(index / sampleRateHz);
        var remainder = index - (wholeSeconds * sampleRateHz);
        return ((long)wholeSeconds * TimeSpan.TicksPerSecond) + (long)Math.Round(remainder * TimeSpan.TicksPerSecond / sampleRateHz);
    }

    /// <summary>Time from sample 0 to sample <paramref name="index"/>.</summary>
    public static TimeSpan At(long index, double sampleRateHz) => TimeSpan.FromTicks(TicksAt(index, sampleRateHz));
}
