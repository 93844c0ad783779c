using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Dashboard;

/// <summary>One point of a channel's trend: the windows of one interval folded together.</summary>
public readonly record struct TrendPoint(long TimeMs, float Rms, float Velocity, float Score, float Threshold);

/// <summary>What the page shows for a channel right now.</summary>
public sealed record ChannelLatest(
    long SourceTimeMs, long ReceivedTimestamp, float Rms, float Velocity, float Score, float Threshold, bool Anomalous,
    bool WarmingUp, IsoZone Zone, ChannelHealthFlags Health, MachineState State, float ShaftHz);

/// <summary>A display frame of one channel: waveform, spectrum and envelope spectrum with the markers' frequencies.</summary>
public sealed record SpectrumFrame(
    long SourceTimeMs, double SampleRateHz, string Unit, float[] Waveform, double WaveformStepSeconds,
    double SpectrumBinHz, float[] Spectrum, double EnvelopeBinHz, float[] Envelope, bool EnvelopeReady,
    double EnvelopeBandLowHz, double EnvelopeBandHighHz, double ShaftHz, DefectFrequencies? Defects, string? Bearing);

/// <summary>
/// The dashboard's tap on the pipeline. Registered as an <see cref="ITelemetrySink"/> (every window's
/// result: latest values and the trend ring), an <see cref="ITrainingWindowSink"/> (raw windows: the
/// spectra of the channels someone is looking at) and an <see cref="IAlertNotifier"/> (active alerts
/// when no alarm board is registered). All three run on the pipeline's bounded sink threads, which
/// drop and count when full: nothing here can slow the pipeline. The page reads the state at its own
/// pace (<see cref="LiveHub"/>), so the display rate is independent of the window rate.
/// </summary>
public sealed class DisplayTap : ITelemetrySink, ITrainingWindowSink, IAlertNotifier
{
    private const int WaveformPoints = 1024;
    private const double SpectrumIntervalSeconds = 0.5;

    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Alert> _activeAlerts = new(StringComparer.Ordinal);
    private ChannelState[] _channels = [];
    private int _velocityIndex = -1;
    private int _isoIndex = -1;
    private int _shaftIndex = -1;
    private int _windowSize;
    private int _hop;
    private long _alertVersion;

    public DisplayTap(DashboardOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
    }

    public string Name => "dashboard";

    /// <summary>The pipeline's channels (enriched descriptors), empty before <see cref="Attach"/>.</summary>
    public IReadOnlyList<ChannelDescriptor> Channels => Array.ConvertAll(Volatile.Read(ref _channels), c => c.Descriptor);

    /// <summary>Windows seen since start (all channels).</summary>
    public long Windows => Interlocked.Read(ref _windows);

    private long _windows;

    /// <summary>Changes on every raised/cleared alert (the page refreshes its alarm list).</summary>
    public long AlertVersion => Interlocked.Read(ref _alertVersion);

    /// <summary>Connects the tap to the running pipeline's channels and feature schema.</summary>
    public void Attach(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames, int windowSize, int hop)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(featureNames);
        _velocityIndex = IndexOf(featureNames, "velocity_rms_mm_s");
        _isoIndex = IndexOf(featureNames, "iso_zone");
        _shaftIndex = IndexOf(featureNames, "shaft_hz");
        _windowSize = windowSize;
        _hop = hop;
        Volatile.Write(ref _channels, [.. channels.Select((c, i) => new ChannelState(c, i, _options.TrendPoints))]);
    }

    public int IndexOf(ChannelId id)
    {
        var channels = Volatile.Read(ref _channels);
        for (var i = 0; i < channels.Length; i++)
        {
            if (channels[i].Descriptor.Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    public ChannelLatest? Latest(int channel) => Get(channel) is { } s ? Volatile.Read(ref s.Latest) : null;

    /// <summary>Trend points newer than <paramref name="afterMs"/> (all when 0), oldest first.</summary>
    public TrendPoint[] Trend(int channel, long afterMs = 0)
    {
        if (Get(channel) is not { } s)
        {
            return [];
        }

        lock (s.Gate)
        {
            return s.Trend.Snapshot(afterMs);
        }
    }

    public SpectrumFrame? Spectrum(int channel) => Get(channel) is { } s ? Volatile.Read(ref s.Frame) : null;

    /// <summary>Asks for spectra of a channel for the next <see cref="DashboardOptions.WatchSeconds"/>.</summary>
    public void Watch(int channel)
    {
        if (Get(channel) is { } s)
        {
            Volatile.Write(ref s.WatchUntil, _time.GetTimestamp() + (long)(_options.WatchSeconds * _time.TimestampFrequency));
        }
    }

    /// <summary>Active alerts per channel (from the pipeline's alert stream).</summary>
    public IReadOnlyList<Alert> ActiveAlerts()
    {
        lock (_gate)
        {
            return [.. _activeAlerts.Values];
        }
    }

    public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Get(result.ChannelIndex) is not { } s || s.Descriptor.Id != result.Channel)
        {
            return ValueTask.CompletedTask;
        }

        Interlocked.Increment(ref _windows);
        var f = result.Features;
        var rms = f.Length > FeatureSchema.Rms ? f[FeatureSchema.Rms] : float.NaN;
        // Velocity and ISO zone read 0 while the low-rate history fills: not a value to plot.
        var velocity = _velocityIndex >= 0 && f[_velocityIndex] > 0 ? f[_velocityIndex] : float.NaN;
        var zone = _isoIndex >= 0 ? (IsoZone)(int)f[_isoIndex] : IsoZone.None;
        var shaft = _shaftIndex >= 0 ? f[_shaftIndex] : 0f;
        var timeMs = result.SourceStart.ToUnixTimeMilliseconds();
        Volatile.Write(ref s.Latest, new ChannelLatest(timeMs, _time.GetTimestamp(), rms, velocity, result.Score, result.Threshold, result.Anomalous, result.WarmingUp, zone, result.Health, result.MachineState, shaft));
        var intervalMs = (long)(_options.TrendIntervalSeconds * 1000);
        lock (s.Gate)
        {
            s.Trend.Add(timeMs, intervalMs, rms, velocity, result.Score, result.Threshold);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask WriteAsync(WindowResult result, ReadOnlyMemory<float> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!_options.LiveSpectra || Get(result.ChannelIndex) is not { } s || s.Descriptor.Id != result.Channel)
        {
            return ValueTask.CompletedTask;
        }

        var now = _time.GetTimestamp();
        if (Volatile.Read(ref s.WatchUntil) < now)
        {
            if (s.Analyzer is not null)
            {
                // Nobody looks any more: free the analyzer (and its slot).
                s.Analyzer = null;
                Interlocked.Decrement(ref _analyzed);
            }

            return ValueTask.CompletedTask;
        }

        if (samples.Length != _windowSize)
        {
            return ValueTask.CompletedTask;
        }

        if (s.Analyzer is null)
        {
            if (Interlocked.Increment(ref _analyzed) > _options.MaxAnalyzedChannels)
            {
                Interlocked.Decrement(ref _analyzed);
                return ValueTask.CompletedTask;
            }

            s.Analyzer = new DisplaySpectra(s.Descriptor, _windowSize, _hop);
            s.NextFirstSample = -1;
        }

        var analyzer = s.Analyzer;
        if (s.NextFirstSample != result.FirstSampleIndex)
        {
            // A window was dropped on the way here (or this is the first): the histories restart.
            analyzer.Reset();
        }

        s.NextFirstSample = result.FirstSampleIndex + _hop;
        var span = samples.Span;
        analyzer.Process(span);
        if (now - s.LastFrameTimestamp < SpectrumIntervalSeconds * _time.TimestampFrequency)
        {
            return ValueTask.CompletedTask;
        }

        s.LastFrameTimestamp = now;
        Volatile.Write(ref s.Frame, BuildFrame(s, analyzer, span, result));
        return ValueTask.CompletedTask;
    }

    private int _analyzed;

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        lock (_gate)
        {
            if (alert.State == AlertState.Cleared)
            {
                _activeAlerts.Remove(alert.Channel.ToString());
            }
            else
            {
                _activeAlerts[alert.Channel.ToString()] = alert;
            }
        }

        Interlocked.Increment(ref _alertVersion);
        return ValueTask.CompletedTask;
    }

    private static SpectrumFrame BuildFrame(ChannelState s, DisplaySpectra analyzer, ReadOnlySpan<float> window, WindowResult result)
    {
        var fs = result.SampleRateHz;
        var step = Math.Max(1, window.Length / WaveformPoints);
        var waveform = new float[window.Length / step];
        for (var i = 0; i < waveform.Length; i++)
        {
            waveform[i] = window[i * step];
        }

        // Spectrum up to fs/2.56 (the usable bandwidth of an acquisition), envelope up to its pass band.
        var spectrum = new double[analyzer.WindowSpectrumLength];
        analyzer.CopyWindowSpectrum(spectrum);
        var spectrumBins = Math.Min(spectrum.Length, (int)Math.Ceiling(fs / 2.56 / analyzer.WindowBinHz) + 1);
        var envelope = new double[analyzer.EnvelopeSpectrumLength];
        analyzer.CopyEnvelopeSpectrum(envelope);
        var envelopeBins = Math.Min(envelope.Length, (int)Math.Ceiling(analyzer.EnvelopePassBandHz / analyzer.EnvelopeBinHz) + 1);
        var shaft = analyzer.ShaftHz;
        return new SpectrumFrame(
            result.SourceStart.ToUnixTimeMilliseconds(), fs, s.Descriptor.Unit.Symbol(), waveform, step / fs,
            analyzer.WindowBinHz, ToFloats(spectrum.AsSpan(0, spectrumBins)),
            analyzer.EnvelopeBinHz, ToFloats(envelope.AsSpan(0, envelopeBins)), analyzer.EnvelopeReady,
            analyzer.EnvelopeBand.LowHz, analyzer.EnvelopeBand.HighHz, shaft, analyzer.DefectsAt(shaft), s.Descriptor.Bearing?.Name);
    }

    private static float[] ToFloats(ReadOnlySpan<double> values)
    {
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = (float)values[i];
        }

        return result;
    }

    private ChannelState? Get(int index)
    {
        var channels = Volatile.Read(ref _channels);
        return (uint)index < (uint)channels.Length ? channels[index] : null;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class ChannelState(ChannelDescriptor descriptor, int index, int trendCapacity)
    {
        public readonly ChannelDescriptor Descriptor = descriptor;
        public readonly int Index = index;
        public readonly Lock Gate = new();
        public readonly TrendRing Trend = new(trendCapacity);
        public ChannelLatest? Latest;
        public SpectrumFrame? Frame;
        public long WatchUntil;
        public DisplaySpectra? Analyzer;
        public long NextFirstSample = -1;
        public long LastFrameTimestamp;
    }
}

/// <summary>Fixed-size ring of trend points; windows within one interval fold into one point (max score and RMS).</summary>
internal sealed class TrendRing(int capacity)
{
    private readonly TrendPoint[] _points = new TrendPoint[capacity];
    private int _start;
    private int _count;

    public int Count => _count;

    public void Add(long timeMs, long intervalMs, float rms, float velocity, float score, float threshold)
    {
        var bucket = intervalMs > 0 ? timeMs - (timeMs % intervalMs) : timeMs;
        if (_count > 0)
        {
            ref var last = ref _points[(_start + _count - 1) % _points.Length];
            if (last.TimeMs == bucket)
            {
                last = new TrendPoint(bucket, Max(last.Rms, rms), float.IsFinite(velocity) && velocity > 0 ? velocity : last.Velocity, Max(last.Score, score), float.IsFinite(threshold) ? threshold : last.Threshold);
                return;
            }

            if (bucket < last.TimeMs)
            {
                return; // out of order (a replay restarted): keep the ring monotonic
            }
        }

        var point = new TrendPoint(bucket, rms, velocity, score, threshold);
        if (_count < _points.Length)
        {
            _points[(_start + _count) % _points.Length] = point;
            _count++;
        }
        else
        {
            _points[_start] = point;
            _start = (_start + 1) % _points.Length;
        }
    }

    public TrendPoint[] Snapshot(long afterMs)
    {
        var list = new List<TrendPoint>(_count);
        for (var i = 0; i < _count; i++)
        {
            var p = _points[(_start + i) % _points.Length];
            if (p.TimeMs > afterMs)
            {
                list.Add(p);
            }
        }

        return [.. list];
    }

    private static float Max(float a, float b) => float.IsNaN(a) ? b : float.IsNaN(b) ? a : Math.Max(a, b);
}
