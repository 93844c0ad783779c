using System.Numerics;

namespace FactoryEdge.Signal;

/// <summary>
/// Envelope demodulation of a continuous stream by overlap-save in the frequency domain.
/// <list type="number">
/// <item>The rectangular spectrum X of a frame (normally the analysis window itself) is multiplied by
/// the response G of a one-sided (analytic) Kaiser band-pass FIR of length Lg ≤ frame − hop + 1, so
/// the last samples of the circular result are exact linear filtering: no edge effects, and the
/// pieces of consecutive windows join seamlessly.</item>
/// <item>Only the band's bins are kept and shifted down to DC before a short inverse FFT of M points:
/// this returns the analytic band signal decimated by frame/M, and its magnitude (×2) is the envelope.</item>
/// <item>The envelope of the new samples is low-passed and decimated to a few kHz by a streaming FIR.</item>
/// </list>
/// When the windows overlap too little for the filter, the demodulator keeps its own history of two
/// windows and transforms that instead.
/// </summary>
internal sealed class EnvelopeDemodulator
{
    private const double BandAttenuationDb = 60;
    private const double DecimationAttenuationDb = 80;

    private readonly Complex[] _response; // G[k] for k in [_binLo, _binHi]
    private readonly int _binLo;
    private readonly int _binHi;
    private readonly IFftEngine _inverse;
    private readonly int _step; // frame samples per inverse-FFT output
    private readonly int _filterLength;
    private readonly float[] _magnitudes;
    private readonly StreamingDecimator _decimator;
    private readonly SampleRing? _frameRing;
    private readonly RealFft? _frameFft;
    private readonly Complex[]? _frameSpectrum;

    public EnvelopeDemodulator(double sampleRateHz, int windowSize, int hop, FrequencyBand band, double envelopeMaxHz, Func<int, IFftEngine> fftFactory)
    {
        ArgumentNullException.ThrowIfNull(fftFactory);
        SampleRateHz = sampleRateHz;
        Band = band;

        // Transition 10 % of the lower edge: sharp enough to keep shaft harmonics out, short enough to fit the overlap.
        var transition = Math.Max(0.1 * band.LowHz, sampleRateHz / windowSize);
        var desiredLength = FirDesign.KaiserLength(BandAttenuationDb, transition, sampleRateHz);
        if (windowSize - hop + 1 >= desiredLength)
        {
            FrameLength = windowSize;
            _filterLength = desiredLength;
        }
        else
        {
            FrameLength = 2 * windowSize;
            _filterLength = Math.Min(desiredLength, (FrameLength - hop + 1) | 1);
            if (_filterLength > FrameLength - hop + 1)
            {
                _filterLength -= 2;
            }

            _frameRing = new SampleRing(FrameLength);
            _frameFft = new RealFft(FrameLength, fftFactory);
            _frameSpectrum = new Complex[_frameFft.SpectrumLength];
        }

        var beta = FirDesign.KaiserBeta(BandAttenuationDb);
        var actualTransition = (BandAttenuationDb - 7.95) / (2.285 * 2.0 * Math.PI * (_filterLength - 1)) * sampleRateHz;
        var binHz = sampleRateHz / FrameLength;
        _binLo = Math.Max(1, (int)Math.Floor((band.LowHz - actualTransition) / binHz));
        _binHi = Math.Min(FrameLength / 2, (int)Math.Ceiling((band.HighHz + actualTransition) / binHz));

        // Inverse FFT length: holds the band's bins and samples the envelope fast enough that what
        // folds back lands above the envelope pass-band; its step must divide the hop.
        var bins = _binHi - _binLo + 1;
        var requiredRate = (bins * binHz) + (2.56 * envelopeMaxHz);
        var m = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(bins, (int)Math.Ceiling(requiredRate / binHz)));
        m = Math.Min(m, FrameLength);
        while (m < FrameLength && hop % (FrameLength / m) != 0)
        {
            m *= 2;
        }

        _step = FrameLength / m;
        _inverse = fftFactory(m);
        _magnitudes = new float[m];

        // Band-pass response on the frame's bins.
        var taps = FirDesign.AnalyticBandPass(band.LowHz, band.HighHz, sampleRateHz, _filterLength, beta);
        var design = fftFactory(FrameLength);
        var buffer = design.Buffer;
        buffer.Clear();
        taps.CopyTo(buffer);
        design.Forward();
        _response = buffer.Slice(_binLo, _binHi - _binLo + 1).ToArray();

        // Envelope low-pass and decimation.
        DemodulatedRateHz = sampleRateHz / _step;
        var factor = Math.Max(1, (int)Math.Floor(DemodulatedRateHz / (2.56 * envelopeMaxHz)));
        OutputRateHz = DemodulatedRateHz / factor;
        var lowPass = factor == 1
            ? [1f]
            : FirDesign.LowPass(envelopeMaxHz, OutputRateHz - envelopeMaxHz, DemodulatedRateHz, DecimationAttenuationDb);
        _decimator = new StreamingDecimator(lowPass, factor, m);
        PassBandHz = Math.Min(envelopeMaxHz, 0.45 * OutputRateHz);
    }

    public double SampleRateHz { get; }

    public FrequencyBand Band { get; }

    /// <summary>Frame transformed per call: the window (normal case) or two windows (little overlap).</summary>
    public int FrameLength { get; }

    /// <summary>True when the caller's rectangular window spectrum is reused (no FFT of its own).</summary>
    public bool UsesWindowSpectrum => _frameRing is null;

    public int FilterLength => _filterLength;

    public int InverseLength => _inverse.Length;

    /// <summary>Rate of the demodulated (magnitude) signal before its low-pass.</summary>
    public double DemodulatedRateHz { get; }

    /// <summary>Rate of the envelope samples written by <see cref="Process"/>.</summary>
    public double OutputRateHz { get; }

    /// <summary>Highest envelope frequency passed without attenuation.</summary>
    public double PassBandHz { get; }

    /// <summary>Largest number of envelope samples one call can write.</summary>
    public int MaxOutputPerCall => _decimator.MaxOutput(_inverse.Length);

    public void Reset()
    {
        _decimator.Reset();
        _frameRing?.Reset();
    }

    /// <summary>
    /// Demodulates the newest <paramref name="newCount"/> samples of <paramref name="window"/> (whose
    /// mean-removed rectangular spectrum is <paramref name="windowSpectrum"/>) and writes envelope samples.
    /// </summary>
    public int Process(ReadOnlySpan<float> window, ReadOnlySpan<Complex> windowSpectrum, int newCount, Span<float> output)
    {
        ReadOnlySpan<Complex> spectrum;
        long filled;
        if (_frameRing is null)
        {
            spectrum = windowSpectrum;
            filled = FrameLength;
        }
        else
        {
            _frameRing.Append(window[^newCount..]);
            var packed = _frameFft!.PackedInput;
            for (var i = 0; i < packed.Length; i++)
            {
                packed[i] = new Complex(_frameRing[2 * i], _frameRing[(2 * i) + 1]);
            }

            _frameFft.Execute(_frameSpectrum);
            spectrum = _frameSpectrum;
            filled = Math.Min(_frameRing.Total, FrameLength);
        }

        // First frame sample whose filtered value is exact and new.
        var first = Math.Max(FrameLength - newCount, FrameLength - filled + _filterLength - 1);
        var firstOutput = (int)((first + _step - 1) / _step);

        var buffer = _inverse.Buffer;
        buffer.Clear();
        for (var k = _binLo; k <= _binHi; k++)
        {
            buffer[k - _binLo] = spectrum[k] * _response[k - _binLo];
        }

        _inverse.Inverse();
        var scale = 2.0 / FrameLength;
        var count = 0;
        for (var m = firstOutput; m < buffer.Length; m++)
        {
            var z = buffer[m];
            _magnitudes[count++] = (float)(Math.Sqrt((z.Real * z.Real) + (z.Imaginary * z.Imaginary)) * scale);
        }

        return _decimator.Process(_magnitudes.AsSpan(0, count), output);
    }
}
