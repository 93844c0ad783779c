using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>
/// Spectra for people: runs the same <see cref="FeatureExtractor"/> the pipeline runs (same FFT engine,
/// same envelope demodulator, same options) on a copy of a channel's windows, and hands out copies of
/// the window's amplitude spectrum and the envelope spectrum together with the running speed and the
/// bearing defect frequencies the features were searched at. What an analyst sees on the dashboard is
/// therefore exactly what the scorer saw. Used off the pipeline's threads (a display tap); one
/// instance per channel, one thread at a time.
/// </summary>
public sealed class DisplaySpectra
{
    private readonly FeatureExtractor _extractor;
    private readonly float[] _features;
    private readonly BearingOrders? _orders;
    private readonly int _shaftIndex;

    public DisplaySpectra(ChannelDescriptor channel, int windowSize, int hop)
    {
        ArgumentNullException.ThrowIfNull(channel);
        Channel = channel;
        _extractor = new FeatureExtractor(FeatureExtractorOptions.For(channel, windowSize, hop));
        _features = new float[_extractor.FeatureCount];
        _orders = channel.Bearing is { } bearing ? BearingOrders.FromGeometry(bearing) : null;
        _shaftIndex = FeatureSchema.IndexOf("shaft_hz", FeatureExtractorOptions.DefaultBands.Count);
    }

    public ChannelDescriptor Channel { get; }

    /// <summary>Bearing defect orders of the channel's bearing (null when no bearing is known).</summary>
    public BearingOrders? Orders => _orders;

    /// <summary>Frequency step of <see cref="CopyWindowSpectrum"/>.</summary>
    public double WindowBinHz => _extractor.WindowBinHz;

    /// <summary>Frequency step of <see cref="CopyEnvelopeSpectrum"/>.</summary>
    public double EnvelopeBinHz => _extractor.EnvelopeBinHz;

    /// <summary>Highest envelope frequency passed without attenuation.</summary>
    public double EnvelopePassBandHz => _extractor.Envelope.PassBandHz;

    /// <summary>Envelope demodulation band (Hz).</summary>
    public FrequencyBand EnvelopeBand => _extractor.Envelope.Band;

    public int WindowSpectrumLength => _extractor.WindowAmplitude.Length;

    public int EnvelopeSpectrumLength => _extractor.EnvelopeAmplitude.Length;

    /// <summary>True once the envelope history is full (the envelope spectrum is meaningful).</summary>
    public bool EnvelopeReady => _extractor.IsWarmedUp;

    /// <summary>Running speed of the last window (tachometer, tracked 1× or nominal; 0 when unknown).</summary>
    public double ShaftHz => _features[_shaftIndex];

    /// <summary>The features of the last window, in the pipeline's schema.</summary>
    public ReadOnlySpan<float> Features => _features;

    /// <summary>
    /// Analyses the next window: exactly <c>windowSize</c> samples whose last <c>hop</c> are new since the
    /// previous call (call <see cref="Reset"/> after a gap).
    /// </summary>
    public void Process(ReadOnlySpan<float> window, double externalSpeedHz = double.NaN) =>
        _extractor.Extract(window, _features, externalSpeedHz);

    public void Reset() => _extractor.Reset();

    /// <summary>Amplitude spectrum of the last window (Hann, amplitude-corrected, channel unit 0-peak).</summary>
    public void CopyWindowSpectrum(Span<double> destination) => _extractor.WindowAmplitude.CopyTo(destination);

    /// <summary>Envelope amplitude spectrum (channel unit 0-peak); zeros until <see cref="EnvelopeReady"/>.</summary>
    public void CopyEnvelopeSpectrum(Span<double> destination) => _extractor.EnvelopeAmplitude.CopyTo(destination);

    /// <summary>Defect frequencies (Hz) at the given speed, or null without bearing or speed.</summary>
    public DefectFrequencies? DefectsAt(double shaftHz) =>
        _orders is { } o && shaftHz > 0
            ? new DefectFrequencies(o.Bpfo * shaftHz, o.Bpfi * shaftHz, o.Bsf * shaftHz, o.Ftf * shaftHz)
            : null;
}

/// <summary>Bearing defect frequencies in Hz (BSF is the ball spin frequency; its strongest line is often at 2 × BSF).</summary>
public readonly record struct DefectFrequencies(double Bpfo, double Bpfi, double Bsf, double Ftf);
