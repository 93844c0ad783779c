using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>Metadata of an assembled window.</summary>
internal struct WindowInfo
{
    public long FirstSampleIndex;
    public long SourceStartTicks;
    public long ReceivedTicks;
    public bool GapBefore;
    public bool BadQuality;
    public ClockQuality Clock;
}

/// <summary>
/// Cuts a channel's sample stream into overlapping windows. A gap — a sequence jump, an explicit
/// gap mark, or samples dropped at the ring — restarts assembly, so no window ever spans a gap.
/// Source time of a window is anchored to the sample index: the newest block's source time plus
/// (window start − block start) / rate.
/// </summary>
internal sealed class WindowAssembler
{
    private readonly float[] _buffer;
    private readonly int _hop;
    private readonly double _sampleRate;
    private int _filled;
    private long _windowStartIndex;
    private long _expectedNextIndex = -1;
    private long _anchorIndex;
    private long _anchorTicks;
    private long _lastBadIndex = long.MinValue;
    private bool _gapBeforeCurrent;
    private ClockQuality _clock;

    public WindowAssembler(int windowSize, int hop, double sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hop, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hop, windowSize);
        _buffer = new float[windowSize];
        _hop = hop;
        _sampleRate = sampleRate;
    }

    public int WindowSize => _buffer.Length;

    public int Hop => _hop;

    /// <summary>Gaps seen (sequence jumps and explicit marks).</summary>
    public long Gaps { get; private set; }

    /// <summary>Samples lost in gaps that could be counted from sequence numbers.</summary>
    public long MissedSamples { get; private set; }

    /// <summary>Samples that arrived twice or out of order (sequence went backwards) and were discarded.</summary>
    public long RepeatedSamples { get; private set; }

    /// <summary>The current window's samples (valid inside the window callback).</summary>
    public ReadOnlySpan<float> Window => _buffer;

    /// <summary>Forgets partial windows (after a gap).</summary>
    public void Restart()
    {
        _filled = 0;
        _gapBeforeCurrent = true;
    }

    /// <summary>
    /// Adds a block; calls <paramref name="onWindow"/> for each window it completes. The span given to
    /// the callback is only valid during the call.
    /// </summary>
    public void Add<TState>(in BlockHeader header, ReadOnlySpan<float> first, ReadOnlySpan<float> second, TState state, WindowCallback<TState> onWindow)
    {
        var index = header.FirstSampleIndex;
        var skip = 0;
        var gap = header.GapBefore;
        if (_expectedNextIndex >= 0 && index != _expectedNextIndex)
        {
            if (index > _expectedNextIndex)
            {
                MissedSamples += index - _expectedNextIndex;
                gap = true;
            }
            else
            {
                // Overlapping/repeated data: keep only what is new, or drop the block when it is all old.
                var repeated = _expectedNextIndex - index;
                if (repeated >= header.Count)
                {
                    RepeatedSamples += header.Count;
                    return;
                }

                RepeatedSamples += repeated;
                skip = (int)repeated;
                index = _expectedNextIndex;
            }
        }

        if (gap)
        {
            // One gap, however it was noticed (sequence jump, explicit mark, ring drop).
            Gaps++;
            Restart();
        }

        _anchorIndex = header.FirstSampleIndex;
        _anchorTicks = header.SourceTimestampTicks;
        _clock = header.Clock;
        if (header.Quality != SampleQuality.Good)
        {
            _lastBadIndex = header.FirstSampleIndex + header.Count - 1;
        }

        _expectedNextIndex = header.FirstSampleIndex + header.Count;

        if (skip > 0)
        {
            if (skip >= first.Length)
            {
                second = second[(skip - first.Length)..];
                first = default;
            }
            else
            {
                first = first[skip..];
            }
        }

        Append(first, ref index, header.ReceivedTicks, state, onWindow);
        Append(second, ref index, header.ReceivedTicks, state, onWindow);
    }

    private void Append<TState>(ReadOnlySpan<float> samples, ref long index, long receivedTicks, TState state, WindowCallback<TState> onWindow)
    {
        while (!samples.IsEmpty)
        {
            if (_filled == 0)
            {
                _windowStartIndex = index;
            }

            var n = Math.Min(samples.Length, _buffer.Length - _filled);
            samples[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            index += n;
            samples = samples[n..];
            if (_filled == _buffer.Length)
            {
                var info = new WindowInfo
                {
                    FirstSampleIndex = _windowStartIndex,
                    SourceStartTicks = _anchorTicks + (long)Math.Round((_windowStartIndex - _anchorIndex) * TimeSpan.TicksPerSecond / _sampleRate),
                    ReceivedTicks = receivedTicks,
                    GapBefore = _gapBeforeCurrent,
                    BadQuality = _lastBadIndex >= _windowStartIndex,
                    Clock = _clock,
                };
                _gapBeforeCurrent = false;
                onWindow(state, _buffer, in info);
                var keep = _buffer.Length - _hop;
                if (keep > 0)
                {
                    Array.Copy(_buffer, _hop, _buffer, 0, keep);
                }

                _filled = keep;
                _windowStartIndex += _hop;
            }
        }
    }
}

internal delegate void WindowCallback<in TState>(TState state, ReadOnlySpan<float> window, in WindowInfo info);
