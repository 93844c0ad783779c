using System.Diagnostics;

namespace FactoryEdge.Pipeline;

/// <summary>
/// The latest reading of a scalar channel, written by the worker that owns the channel and read by
/// any thread (a tachometer is read by the workers of its machine's waveform channels). Lock-free:
/// value and times are published with release stores; a reader may see a value with the previous
/// reading's time, which is harmless for a freshness check.
/// </summary>
internal sealed class ScalarCell
{
    private long _valueBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private long _sourceTicks;
    private long _updatedTimestamp = long.MinValue;

    public void Set(double value, long sourceTicks)
    {
        Volatile.Write(ref _sourceTicks, sourceTicks);
        Volatile.Write(ref _valueBits, BitConverter.DoubleToInt64Bits(value));
        Volatile.Write(ref _updatedTimestamp, Stopwatch.GetTimestamp());
    }

    /// <summary>The value if it was updated within <paramref name="maxAge"/>; NaN otherwise.</summary>
    public double ValueIfFresh(TimeSpan maxAge)
    {
        var updated = Volatile.Read(ref _updatedTimestamp);
        if (updated == long.MinValue || Stopwatch.GetElapsedTime(updated) > maxAge)
        {
            return double.NaN;
        }

        return BitConverter.Int64BitsToDouble(Volatile.Read(ref _valueBits));
    }

    public bool TryGet(out double value, out long sourceTicks)
    {
        sourceTicks = Volatile.Read(ref _sourceTicks);
        value = BitConverter.Int64BitsToDouble(Volatile.Read(ref _valueBits));
        return Volatile.Read(ref _updatedTimestamp) != long.MinValue;
    }
}
