using System.Globalization;
using System.Net;

namespace FactoryEdge.Uplink;

/// <summary>
/// Token bucket for the bandwidth cap: <see cref="AcquireAsync"/> waits until the bytes may go.
/// Burst = one second of the rate (at least 64 KB), so short bursts are smooth and the average holds.
/// </summary>
public sealed class TokenBucket
{
    private readonly long _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _last;

    public TokenBucket(long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        ArgumentNullException.ThrowIfNull(time);
        _rate = bytesPerSecond;
        _burst = Math.Max(64 * 1024, bytesPerSecond);
        _time = time;
        _tokens = _burst;
        _last = time.GetTimestamp();
    }

    public long BytesPerSecond => _rate;

    public async ValueTask AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        while (bytes > 0)
        {
            var chunk = (long)Math.Min(bytes, _burst);
            TimeSpan wait;
            lock (_gate)
            {
                var now = _time.GetTimestamp();
                _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
                _last = now;
                if (_tokens >= chunk)
                {
                    _tokens -= chunk;
                    bytes -= chunk;
                    continue;
                }

                wait = TimeSpan.FromSeconds((chunk - _tokens) / _rate);
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Request body sent in 16 KB pieces, each waiting for the token bucket.</summary>
internal sealed class ThrottledContent(byte[] content, TokenBucket? throttle) : HttpContent
{
    private const int Piece = 16 * 1024;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < content.Length; offset += Piece)
        {
            var length = Math.Min(Piece, content.Length - offset);
            if (throttle is not null)
            {
                await throttle.AcquireAsync(length, cancellationToken).ConfigureAwait(false);
            }

            await stream.WriteAsync(content.AsMemory(offset, length), cancellationToken).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = content.Length;
        return true;
    }
}

/// <summary>Upload windows in local time ("22:00-06:00" crosses midnight); none = always open.</summary>
public sealed class UploadSchedule
{
    private readonly (TimeSpan From, TimeSpan To)[] _windows;
    private readonly TimeProvider _time;

    public UploadSchedule(IEnumerable<string> windows, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(windows);
        _time = time;
        _windows = [.. windows.Select(w => TryParseWindow(w, out var from, out var to) ? (from, to) : throw new FormatException($"Upload window '{w}' must be HH:mm-HH:mm."))];
    }

    public bool AlwaysOpen => _windows.Length == 0;

    public static bool TryParseWindow(string? text, out TimeSpan from, out TimeSpan to)
    {
        from = to = default;
        var parts = text?.Split('-', StringSplitOptions.TrimEntries);
        return parts is { Length: 2 }
            && TimeSpan.TryParseExact(parts[0], @"hh\:mm", CultureInfo.InvariantCulture, out from)
            && TimeSpan.TryParseExact(parts[1], @"hh\:mm", CultureInfo.InvariantCulture, out to)
            && from != to;
    }

    /// <summary>True when uploads may run now.</summary>
    public bool IsOpen() => IsOpen(_time.GetLocalNow().TimeOfDay);

    internal bool IsOpen(TimeSpan timeOfDay)
    {
        if (_windows.Length == 0)
        {
            return true;
        }

        foreach (var (from, to) in _windows)
        {
            var open = from < to ? timeOfDay >= from && timeOfDay < to : timeOfDay >= from || timeOfDay < to;
            if (open)
            {
                return true;
            }
        }

        return false;
    }
}
