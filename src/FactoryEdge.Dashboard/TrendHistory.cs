using FactoryEdge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Dashboard;

/// <summary>
/// The trends of a channel over a requested range (<c>GET /api/trend?channel=…&amp;since=24h</c>): the
/// part the in-memory ring of <see cref="DisplayTap"/> holds comes from it, the older part from the
/// telemetry adapter's embedded store (<see cref="TelemetryHistory"/>, read-only, on a thread-pool
/// thread, at most <see cref="MaxConcurrentReads"/> reads at a time). Both are decimated to one bucket
/// width (maximum per bucket), so a response holds at most about <see cref="MaxPoints"/> points. When
/// the store is absent or telemetry is disabled, the ring alone is returned with the reason.
/// </summary>
internal sealed class TrendHistory
{
    /// <summary>Most points in one response.</summary>
    public const int MaxPoints = 2000;

    /// <summary>Longest range a page may ask for.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);

    /// <summary>History reads running at once (further requests wait; they are I/O and gzip work).</summary>
    public const int MaxConcurrentReads = 2;

    private readonly DisplayTap _tap;
    private readonly TimeProvider _time;
    private readonly IServiceProvider _services;
    private readonly SemaphoreSlim _reads = new(MaxConcurrentReads, MaxConcurrentReads);

    public TrendHistory(DisplayTap tap, TimeProvider time, IServiceProvider services)
    {
        _tap = tap;
        _time = time;
        _services = services;
    }

    /// <summary>The store history is read from, or why there is none.</summary>
    public (string? Path, string? Unavailable) Store()
    {
        if (_services.GetService<IOptions<TelemetryOptions>>()?.Value is not { } options)
        {
            return (null, "no telemetry adapter in this gateway: trends are live only");
        }

        if (!options.Enabled)
        {
            return (null, "telemetry is disabled (FactoryEdge:Telemetry:Enabled = false): trends are live only");
        }

        return (options.Spool.ResolvePath(), null);
    }

    /// <summary>The trend of channel <paramref name="index"/> over the last <paramref name="range"/>, at most <paramref name="maxPoints"/> points.</summary>
    public async Task<TrendResponse> ReadAsync(int index, TimeSpan range, int maxPoints, CancellationToken cancellationToken)
    {
        var id = _tap.Channels[index].Id;
        maxPoints = Math.Clamp(maxPoints, 10, MaxPoints);
        var toMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var fromMs = toMs - (long)range.TotalMilliseconds;
        var bucketMs = Math.Max(1, (long)Math.Ceiling((toMs - fromMs + 1) / (double)maxPoints));
        var ring = _tap.Trend(index, fromMs - 1);

        // The store covers what the ring does not (older than its first point, e.g. before a restart).
        var historyToMs = ring.Length > 0 ? ring[0].TimeMs - 1 : toMs;
        var history = new List<TrendPoint>();
        HistoryInfo info;
        var (path, unavailable) = Store();
        if (path is null)
        {
            info = new HistoryInfo(false, unavailable, 0, 0);
        }
        else if (historyToMs < fromMs)
        {
            info = new HistoryInfo(true, null, 0, 0);
        }
        else
        {
            var query = new TelemetryHistoryQuery
            {
                Site = id.Site,
                Line = id.Line,
                Machine = id.Machine,
                Sensor = id.Sensor,
                Axis = id.Axis,
                Fields = TelemetryHistoryQuery.TrendFields,
                From = DateTimeOffset.FromUnixTimeMilliseconds(fromMs),
                To = DateTimeOffset.FromUnixTimeMilliseconds(historyToMs),
                MaxPoints = (int)Math.Clamp((historyToMs - fromMs + bucketMs) / bucketMs, 1, maxPoints),
            };
            await _reads.WaitAsync(cancellationToken).ConfigureAwait(false);
            TelemetryHistoryResult result;
            try
            {
                result = await TelemetryHistory.ReadAsync(path, query, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _reads.Release();
            }

            foreach (var p in result.Points)
            {
                // Velocity reads 0 while the low-rate history fills: not a value to plot (as live).
                var velocity = p.Values[1] > 0 ? (float)p.Values[1] : float.NaN;
                history.Add(new TrendPoint(p.UnixTimeMs, (float)p.Values[0], velocity, (float)p.Values[2], (float)p.Values[3]));
            }

            info = new HistoryInfo(result.Available, result.Error, history.Count, result.Windows);
        }

        var live = Decimate(ring, fromMs, bucketMs);
        return new TrendResponse(id.ToString(), fromMs, toMs, bucketMs, [.. history, .. live], info, live.Count);
    }

    /// <summary>Folds ring points into buckets of <paramref name="bucketMs"/> from <paramref name="fromMs"/> (maximum per bucket, last threshold).</summary>
    internal static List<TrendPoint> Decimate(IReadOnlyList<TrendPoint> points, long fromMs, long bucketMs)
    {
        var result = new List<TrendPoint>();
        long current = long.MinValue;
        foreach (var p in points)
        {
            var bucket = fromMs + (Math.Max(0, p.TimeMs - fromMs) / bucketMs * bucketMs);
            if (result.Count > 0 && bucket == current)
            {
                var last = result[^1];
                result[^1] = new TrendPoint(last.TimeMs, Max(last.Rms, p.Rms), Max(last.Velocity, p.Velocity), Max(last.Score, p.Score), float.IsFinite(p.Threshold) ? p.Threshold : last.Threshold);
                continue;
            }

            current = bucket;
            result.Add(p with { TimeMs = bucketMs > 1 ? bucket : p.TimeMs });
        }

        return result;
    }

    private static float Max(float a, float b) => float.IsNaN(a) ? b : float.IsNaN(b) ? a : Math.Max(a, b);
}

/// <summary>Where the older part of a trend came from: the store was read (<see cref="Available"/>) or why not.</summary>
internal sealed record HistoryInfo(bool Available, string? Error, int Points, long Windows);

/// <summary>A channel's trend over a range: history from the store, then the in-memory ring.</summary>
internal sealed record TrendResponse(string Channel, long FromMs, long ToMs, long BucketMs, IReadOnlyList<TrendPoint> Points, HistoryInfo History, int LivePoints);
