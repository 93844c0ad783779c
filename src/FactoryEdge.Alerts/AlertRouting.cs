using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>Severity and machine filter of one notifier.</summary>
internal sealed class AlertRoute
{
    private readonly AlertSeverity _minimum;
    private readonly string[][] _patterns;

    public AlertRoute(AlertRouteOptions options)
    {
        _minimum = options.MinimumSeverity;
        _patterns = [.. options.Machines.Select(m => m.Split('/'))];
    }

    public bool Matches(Alert alert)
    {
        if (alert.State != AlertState.Cleared && alert.Severity < _minimum)
        {
            return false;
        }

        return MatchesMachine(alert.Channel);
    }

    public bool MatchesMachine(ChannelId channel)
    {
        if (_patterns.Length == 0)
        {
            return true;
        }

        foreach (var p in _patterns)
        {
            if (Part(p[0], channel.Site) && Part(p[1], channel.Line) && Part(p[2], channel.Machine))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Part(string pattern, string value) => pattern == "*" || string.Equals(pattern, value, StringComparison.Ordinal);
}

/// <summary>
/// Token bucket per machine: <c>limit</c> alerts per minute, bursts up to <c>limit</c>. Cleared alerts always
/// pass (a consumer must not be left believing a machine is still in alarm).
/// </summary>
internal sealed class AlertRateLimiter
{
    private readonly int _perMinute;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (double Tokens, long Stamp)> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public AlertRateLimiter(int perMinute, TimeProvider time)
    {
        _perMinute = perMinute;
        _time = time;
    }

    public long Suppressed { get; private set; }

    public bool TryAcquire(Alert alert)
    {
        if (_perMinute <= 0 || alert.State == AlertState.Cleared)
        {
            return true;
        }

        var key = alert.Channel.MachineKey;
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            var (tokens, stamp) = _buckets.TryGetValue(key, out var b) ? b : (_perMinute, now);
            var elapsed = _time.GetElapsedTime(stamp, now);
            tokens = Math.Min(_perMinute, tokens + (elapsed.TotalMinutes * _perMinute));
            if (tokens < 1)
            {
                _buckets[key] = (tokens, now);
                Suppressed++;
                return false;
            }

            _buckets[key] = (tokens - 1, now);
            return true;
        }
    }
}
