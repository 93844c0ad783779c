using System.Diagnostics;

namespace FactoryEdge.Pipeline;

/// <summary>
/// A fixed, allocation-free latency histogram in microseconds: 1 µs resolution up to 1 ms, then
/// 1 % steps (log buckets) up to ~100 s. Written by one thread; snapshots may be read from any.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearBuckets = 1000;
    private const int LogBuckets = 1200;
    private static readonly double LogBase = Math.Log(1.01);
    private readonly long[] _counts = new long[LinearBuckets + LogBuckets];
    private long _count;
    private long _maxTicks;

    public long Count => Volatile.Read(ref _count);

    public void RecordTicks(long stopwatchTicks)
    {
        if (stopwatchTicks < 0)
        {
            stopwatchTicks = 0;
        }

        var us = stopwatchTicks * 1_000_000.0 / Stopwatch.Frequency;
        int bucket;
        if (us < LinearBuckets)
        {
            bucket = (int)us;
        }
        else
        {
            bucket = LinearBuckets + (int)(Math.Log(us / LinearBuckets) / LogBase);
            bucket = Math.Min(bucket, _counts.Length - 1);
        }

        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _count);
        if (stopwatchTicks > Volatile.Read(ref _maxTicks))
        {
            Volatile.Write(ref _maxTicks, stopwatchTicks);
        }
    }

    public double MaxMicroseconds => Volatile.Read(ref _maxTicks) * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>The value (µs, upper edge of its bucket) below which <paramref name="quantile"/> of samples fall.</summary>
    public double Percentile(double quantile)
    {
        var total = Count;
        if (total == 0)
        {
            return double.NaN;
        }

        var target = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= target)
            {
                return i < LinearBuckets ? i + 1 : LinearBuckets * Math.Exp((i - LinearBuckets + 1) * LogBase);
            }
        }

        return MaxMicroseconds;
    }

    /// <summary>Samples recorded at or below <paramref name="microseconds"/> (bucket resolution), for cumulative histogram export.</summary>
    public long CountAtMost(double microseconds)
    {
        var last = microseconds < 1 ? -1
            : microseconds < LinearBuckets ? (int)microseconds - 1
            : Math.Min(_counts.Length - 1, LinearBuckets + (int)(Math.Log(microseconds / LinearBuckets) / LogBase) - 1);
        long seen = 0;
        for (var i = 0; i <= last; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
        }

        return seen;
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _maxTicks, 0);
    }
}
