using System.Numerics;
using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>
/// Computes the feature vector of one channel, window after window. Stateful (envelope and velocity
/// history span several windows): one instance per channel, used from one thread at a time.
/// </summary>
/// <remarks>
/// Per window: time statistics, one rectangular FFT of the mean-removed window (the Hann/flat-top
/// spectrum is derived from it by a short convolution), band energies, centroid and dominant line; the
/// new samples are decimated into a low-rate history (velocity, speed, orders) and demodulated into an
/// envelope history (bearing defect lines). The long-history spectra are recomputed every
/// <see cref="FeatureExtractorOptions.LongSpectrumUpdateSeconds"/>. No allocation per window apart from
/// what the FFT library itself allocates. See docs/signal.md for every feature's definition.
/// </remarks>
public sealed class FeatureExtractor
{
    /// <summary>Lines below this frequency are ignored (DC, drift).</summary>
    internal const double MinAnalysisHz = 2.0;

    /// <summary>
    /// A 1× peak must stand this many times above the median of its neighbourhood (for Hann bins of
    /// noise, about 1 % of search ranges hold such a maximum by chance).
    /// </summary>
    internal const double SpeedProminence = 3.0;

    /// <summary>The low-rate history is made long enough for bins of this fraction of the nominal speed.</summary>
    internal const double SpeedResolution = 0.015;

    /// <summary>Cap (samples) on the history length that <see cref="SpeedResolution"/> asks for.</summary>
    internal const int MaxSpeedHistory = 32768;

    /// <summary>Relative search half-width for the order lines around h × speed.</summary>
    internal const double OrderTolerance = 0.01;

    /// <summary>env_peak_hz ignores envelope lines below this.</summary>
    internal const double EnvelopePeakMinHz = 5.0;

    private const double LowRateAttenuationDb = 80;
    private const double HannCoherentGain = 0.5;
    private const double HannMeanSquare = 0.375;

    private static readonly double[] OrderMultiples = [0.5, 1, 2, 3];

    private readonly string[] _names;
    private readonly int _windowSize;
    private readonly int _hop;
    private readonly int _bandCount;
    private readonly int _tail;
    private readonly double _binHz;
    private readonly CosineWindow _window;
    private readonly RealFft _windowFft;
    private readonly Complex[] _spectrum;
    private readonly double[] _amplitude;
    private readonly double[] _power;
    private readonly float[] _clean;
    private readonly int[] _bandLo;
    private readonly int[] _bandHi;
    private readonly int _minBin;

    private readonly StreamingDecimator _lowDecimator;
    private readonly float[] _lowScratch;
    private readonly SampleRing _lowRing;
    private readonly RealFft _lowFft;
    private readonly Complex[] _lowSpectrum;
    private readonly double[] _lowAmplitude;
    private readonly double[] _lowHann;
    private readonly double[] _velocityWeight;
    private readonly double[] _medianScratch;

    private readonly EnvelopeDemodulator _envelope;
    private readonly float[] _envScratch;
    private readonly SampleRing _envRing;
    private readonly RealFft _envFft;
    private readonly Complex[] _envSpectrum;
    private readonly double[] _envAmplitude;
    private readonly double[] _envHann;

    private readonly EnvelopeBandBank? _bank;
    private double _promBpfo;
    private double _promBpfi;
    private double _promBsf;
    private double _promBandHz;
    private readonly double[] _bandProminence = new double[FeatureSchema.BandSlots];
    private long _bankSamplesSinceUpdate;

    private readonly BearingOrders _bearingOrders;
    private readonly bool _hasBearing;
    private readonly long _updateSamples;

    private bool _primed;
    private long _samplesSinceUpdate;
    private bool _lowReady;
    private bool _envReady;
    private double _trackedSpeedHz;
    private double _velocityRms;
    private double _envRms;
    private double _envPeakHz;

    public FeatureExtractor(FeatureExtractorOptions options)
        : this(options, FftEngines.Default)
    {
    }

    /// <summary>Builds an extractor on a given FFT engine (tests, alternative transforms).</summary>
    internal FeatureExtractor(FeatureExtractorOptions options, Func<int, IFftEngine> fftFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(fftFactory);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException("Invalid feature extractor options: " + problem, nameof(options));
        }

        Options = options;
        _names = FeatureSchema.Names(options.Bands);
        _windowSize = options.WindowSize;
        _hop = options.Hop;
        _bandCount = options.Bands.Count;
        _tail = FeatureSchema.FirstBand + _bandCount;
        var fs = options.SampleRateHz;

        // Window spectrum.
        _binHz = fs / _windowSize;
        _window = CosineWindow.For(options.Window);
        _windowFft = new RealFft(_windowSize, fftFactory);
        _spectrum = new Complex[_windowFft.SpectrumLength];
        _amplitude = new double[_windowFft.SpectrumLength];
        _power = new double[_windowFft.SpectrumLength];
        _clean = new float[_windowSize];
        _minBin = Math.Max(1, (int)Math.Ceiling(MinAnalysisHz / _binHz));
        _bandLo = new int[_bandCount];
        _bandHi = new int[_bandCount];
        for (var i = 0; i < _bandCount; i++)
        {
            var band = options.Bands[i];
            _bandLo[i] = Math.Max(1, (int)Math.Ceiling(band.LowHz / _binHz));
            _bandHi[i] = Math.Min(_windowSize / 2, (int)Math.Ceiling(band.HighHz / _binHz) - 1);
        }

        // Low-rate history: velocity band, and enough above the nominal 3× for the orders.
        var lowPass = Math.Min(Math.Max(options.VelocityBand.HighHz, 3.5 * options.NominalShaftHz), fs / 2.56);
        var lowFactor = Math.Max(1, (int)Math.Floor(fs / (2.56 * lowPass)));
        LowRateHz = fs / lowFactor;
        LowPassBandHz = lowPass;
        var lowTaps = lowFactor == 1 ? [1f] : FirDesign.LowPass(lowPass, LowRateHz - lowPass, fs, LowRateAttenuationDb);
        _lowDecimator = new StreamingDecimator(lowTaps, lowFactor, _windowSize);
        _lowScratch = new float[_lowDecimator.MaxOutput(_windowSize)];
        // Long enough for the velocity band's low edge, and for a 1× resolution of 1.5 % of the nominal speed.
        var speedLength = options.NominalShaftHz > 0 ? Math.Min(LowRateHz / (SpeedResolution * options.NominalShaftHz), MaxSpeedHistory) : 0;
        var lowLength = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Ceiling(Math.Max(options.VelocitySeconds * LowRateHz, speedLength)));
        lowLength = Math.Max(lowLength, 64);
        _lowRing = new SampleRing(lowLength);
        _lowFft = new RealFft(lowLength, fftFactory);
        _lowSpectrum = new Complex[_lowFft.SpectrumLength];
        _lowAmplitude = new double[_lowFft.SpectrumLength];
        _lowHann = HannTable(lowLength);
        LowBinHz = LowRateHz / lowLength;
        _velocityWeight = VelocityWeights(options, lowLength, LowBinHz, lowPass);
        _medianScratch = new double[_lowFft.SpectrumLength];

        // Envelope.
        _hasBearing = options.Bearing is not null;
        _bearingOrders = _hasBearing ? BearingOrders.FromGeometry(options.Bearing!) : default;
        var envelopeBand = options.EffectiveEnvelopeBand;
        var envelopeMax = options.EnvelopeSpectrumMaxHz > 0 ? options.EnvelopeSpectrumMaxHz : AutomaticEnvelopeMax(options, envelopeBand);
        _envelope = new EnvelopeDemodulator(fs, _windowSize, _hop, envelopeBand, envelopeMax, fftFactory);
        _envScratch = new float[_envelope.MaxOutputPerCall];
        var envLength = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Ceiling(options.EnvelopeSeconds * _envelope.OutputRateHz));
        envLength = Math.Max(envLength, 64);
        _envRing = new SampleRing(envLength);
        _envFft = new RealFft(envLength, fftFactory);
        _envSpectrum = new Complex[_envFft.SpectrumLength];
        _envAmplitude = new double[_envFft.SpectrumLength];
        _envHann = HannTable(envLength);
        EnvelopeBinHz = _envelope.OutputRateHz / envLength;

        // Band search (incipient faults): needs the defect frequencies.
        if (options.BandSearch && _hasBearing && options.NominalShaftHz > 0)
        {
            var o = _bearingOrders;
            var highest = Math.Max(Math.Max(o.Bpfi, o.Bpfo), 2 * o.Bsf) * options.NominalShaftHz * (1 + options.SpeedSearchFraction);
            var bank = new EnvelopeBandBank(fs, _windowSize, _hop, highest, fftFactory, EnvelopeBandBank.HistorySeconds);
            _bank = bank.BandCount > 0 ? bank : null;
        }

        _updateSamples = (long)Math.Round(options.LongSpectrumUpdateSeconds * fs);
        _samplesSinceUpdate = PhaseOffset();
    }

    public FeatureExtractorOptions Options { get; }

    /// <summary>Feature names in output order (see <see cref="FeatureSchema"/>).</summary>
    public IReadOnlyList<string> FeatureNames => _names;

    public int FeatureCount => _names.Length;

    /// <summary>
    /// True once the long histories are full: before that, the speed, order, velocity, ISO and envelope
    /// features read 0 (and shaft_hz the nominal or tachometer speed).
    /// </summary>
    public bool IsWarmedUp => _lowReady && _envReady;

    /// <summary>True when the last speed came from the spectrum's 1× peak (not nominal, not tachometer).</summary>
    internal bool SpeedTracked { get; private set; }

    internal double LowRateHz { get; }

    internal double LowPassBandHz { get; }

    internal double LowBinHz { get; }

    internal double EnvelopeBinHz { get; }

    internal EnvelopeDemodulator Envelope => _envelope;

    internal double WindowBinHz => _binHz;

    /// <summary>Amplitude spectrum of the last window (options' window function, amplitude-corrected).</summary>
    internal ReadOnlySpan<double> WindowAmplitude => _amplitude;

    internal ReadOnlySpan<double> EnvelopeAmplitude => _envAmplitude;

    /// <summary>The band-search bank (null without a bearing and a nominal speed, or with <see cref="FeatureExtractorOptions.BandSearch"/> off).</summary>
    internal EnvelopeBandBank? BandBank => _bank;

    internal ReadOnlySpan<double> LowRateAmplitude => _lowAmplitude;

    /// <summary>
    /// Computes the features of <paramref name="window"/> (exactly <see cref="FeatureExtractorOptions.WindowSize"/>
    /// samples in the channel's unit) into <paramref name="destination"/>. The last
    /// <see cref="FeatureExtractorOptions.Hop"/> samples are the new ones since the previous call.
    /// <paramref name="externalSpeedHz"/> (tachometer) overrides speed tracking when given.
    /// </summary>
    public void Extract(ReadOnlySpan<float> window, Span<float> destination, double externalSpeedHz = double.NaN)
    {
        if (window.Length != _windowSize)
        {
            throw new ArgumentException($"Expected a window of {_windowSize} samples, got {window.Length}.", nameof(window));
        }

        if (destination.Length < _names.Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} features, {_names.Length} needed.", nameof(destination));
        }

        var newCount = _primed ? _hop : _windowSize;
        var x = Sanitize(window);

        TimeFeatures(x, destination, out var mean);
        _windowFft.Forward(x, mean, _spectrum);
        SpectralFeatures(destination);

        var lowCount = _lowDecimator.Process(x[^newCount..], _lowScratch);
        _lowRing.Append(_lowScratch.AsSpan(0, lowCount));
        var envCount = _envelope.Process(x, _spectrum, newCount, _envScratch);
        _envRing.Append(_envScratch.AsSpan(0, envCount));
        _bank?.Process(_spectrum);
        _samplesSinceUpdate += newCount;
        _primed = true;

        var due = _samplesSinceUpdate >= _updateSamples;
        if (_lowRing.IsFull && (due || !_lowReady))
        {
            UpdateLowRateSpectrum();
        }

        if (_envRing.IsFull && (due || !_envReady))
        {
            UpdateEnvelopeSpectrum();
        }

        var speed = ShaftSpeed(externalSpeedHz);
        // The bank keeps its own update clock: the shared one fires every window until the other histories are full.
        _bankSamplesSinceUpdate += newCount;
        if (_bank is { CanUpdate: true } && (_bankSamplesSinceUpdate >= _updateSamples || !_bank.HasSpectrum))
        {
            var first = !_bank.HasSpectrum;
            _bank.UpdateSpectra();
            UpdateProminences(speed);
            _bankSamplesSinceUpdate = first ? PhaseOffset() : 0; // spread channels over the period, like the long spectra
        }

        if (due && (_lowReady || _envReady))
        {
            _samplesSinceUpdate = 0;
        }

        var tail = destination[_tail..];
        tail[Tail.Shaft] = (float)speed;
        for (var i = 0; i < OrderMultiples.Length; i++)
        {
            tail[Tail.Orders[i]] = _lowReady ? (float)OrderAmplitude(OrderMultiples[i] * speed) : 0f;
        }

        var haveDefects = _envReady && _hasBearing && speed > 0;
        WriteDefect(tail, Tail.Bpfo, haveDefects, _bearingOrders.Bpfo * speed, ballSpin: false);
        WriteDefect(tail, Tail.Bpfi, haveDefects, _bearingOrders.Bpfi * speed, ballSpin: false);
        WriteDefect(tail, Tail.Bsf, haveDefects, _bearingOrders.Bsf * speed, ballSpin: true);
        WriteDefect(tail, Tail.Ftf, haveDefects, _bearingOrders.Ftf * speed, ballSpin: false);
        tail[Tail.EnvPeak] = _envReady ? (float)_envPeakHz : 0f;
        tail[Tail.Velocity] = _lowReady ? (float)_velocityRms : 0f;
        tail[Tail.Iso] = _lowReady ? (float)(int)IsoZones.Classify(_velocityRms, Options.MachineGroup, Options.Support) : 0f;
        tail[Tail.EnvRms] = _envReady ? (float)_envRms : 0f;
        WriteBandSearch(tail);
    }

    /// <summary>Largest prominence of each defect line over the bank's bands (see <see cref="EnvelopeBandBank"/>).</summary>
    private void UpdateProminences(double speed)
    {
        var bank = _bank!;
        _promBpfo = _promBpfi = _promBsf = _promBandHz = 0;
        Array.Clear(_bandProminence);
        if (!(speed > 0))
        {
            return;
        }

        var tolerance = Options.DefectTolerance;
        var best = 0.0;
        var bpfo = _bearingOrders.Bpfo * speed;
        var bpfi = _bearingOrders.Bpfi * speed;
        var bsf = _bearingOrders.Bsf * speed;
        for (var b = 0; b < bank.BandCount; b++)
        {
            // Outer race: the BPFO line. Inner race: the BPFI line or, when the load zone modulates
            // the impacts at the shaft rate, its two shaft-rate sidebands averaged. (Averaging the
            // second harmonic in, as the first release did, diluted an incipient line 5 dB: the
            // harmonic needs a band twice as wide to show.)
            var outer = bank.Prominence(b, bpfo, tolerance);
            var sidebands = 0.5 * (bank.Prominence(b, bpfi - speed, tolerance) + bank.Prominence(b, bpfi + speed, tolerance));
            var inner = Math.Max(bank.Prominence(b, bpfi, tolerance), sidebands);
            var twiceSpin = bank.Prominence(b, 2 * bsf, tolerance);
            var ball = 0.5 * (twiceSpin + Math.Max(bank.Prominence(b, bsf, tolerance), bank.Prominence(b, 4 * bsf, tolerance)));
            _promBpfo = Math.Max(_promBpfo, outer);
            _promBpfi = Math.Max(_promBpfi, inner);
            _promBsf = Math.Max(_promBsf, ball);
            var top = Math.Max(outer, Math.Max(inner, ball));
            _bandProminence[b] = top;
            if (top > best)
            {
                best = top;
                _promBandHz = bank.BandCentreHz(b);
            }
        }
    }

    private void WriteBandSearch(Span<float> tail)
    {
        var ready = _bank is { IsReady: true };
        // While the envelope-spectrum average is young its noise maxima are larger (at 7 spectra one
        // normal run start in 60 reached 2.9 × its band's training prominence): the prominences are
        // shrunk towards 1 in log terms, p^√(n / FullConfidenceAverages), until n spectra are in.
        var c = ready ? Math.Sqrt(Math.Min(_bank!.Averages, EnvelopeBandBank.FullConfidenceAverages) / (double)EnvelopeBandBank.FullConfidenceAverages) : 1.0;
        tail[Tail.PromBpfo] = ready ? (float)Math.Pow(_promBpfo, c) : 0f;
        tail[Tail.PromBpfi] = ready ? (float)Math.Pow(_promBpfi, c) : 0f;
        tail[Tail.PromBsf] = ready ? (float)Math.Pow(_promBsf, c) : 0f;
        tail[Tail.PromBand] = ready ? (float)_promBandHz : 0f;
        for (var b = 0; b < _bandProminence.Length; b++)
        {
            tail[Tail.BandSlots + b] = ready ? (float)Math.Pow(_bandProminence[b], c) : 0f;
        }

        var sk = 0.0;
        var skBand = 0.0;
        if (_bank is { } bank)
        {
            for (var b = 0; b < bank.BandCount; b++)
            {
                if (bank.Kurtosis(b) > sk || b == 0)
                {
                    sk = bank.Kurtosis(b);
                    skBand = bank.BandCentreHz(b);
                }
            }
        }

        tail[Tail.Sk] = (float)sk;
        tail[Tail.SkBand] = (float)skBand;
    }

    /// <summary>Forgets history (after a gap).</summary>
    /// <summary>
    /// Where in the update period this channel starts (<see cref="FeatureExtractorOptions.LongSpectrumPhase"/>),
    /// so that many channels started together do not all recompute their long spectra in the same tick.
    /// </summary>
    private long PhaseOffset() => (long)(Math.Clamp(Options.LongSpectrumPhase, 0, 0.999) * _updateSamples);

    public void Reset()
    {
        _primed = false;
        _samplesSinceUpdate = PhaseOffset();
        _lowReady = false;
        _envReady = false;
        _trackedSpeedHz = 0;
        _velocityRms = 0;
        _envRms = 0;
        _envPeakHz = 0;
        SpeedTracked = false;
        _lowDecimator.Reset();
        _lowRing.Reset();
        _envelope.Reset();
        _envRing.Reset();
        _bank?.Reset();
        _bankSamplesSinceUpdate = 0;
        _promBpfo = _promBpfi = _promBsf = _promBandHz = 0;
        Array.Clear(_bandProminence);
    }

    private ReadOnlySpan<float> Sanitize(ReadOnlySpan<float> window)
    {
        foreach (var v in window)
        {
            if (!float.IsFinite(v))
            {
                // NaN/Inf would poison the histories for seconds: the health checker flags the window,
                // and the extractor carries on with the bad samples set to zero.
                for (var i = 0; i < window.Length; i++)
                {
                    _clean[i] = float.IsFinite(window[i]) ? window[i] : 0f;
                }

                return _clean;
            }
        }

        return window;
    }

    private static void TimeFeatures(ReadOnlySpan<float> x, Span<float> destination, out double mean)
    {
        var sum = 0.0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        foreach (var v in x)
        {
            sum += v;
            if (v < min)
            {
                min = v;
            }

            if (v > max)
            {
                max = v;
            }
        }

        mean = sum / x.Length;
        double m2 = 0, m3 = 0, m4 = 0;
        foreach (var v in x)
        {
            var d = v - mean;
            var d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }

        m2 /= x.Length;
        m3 /= x.Length;
        m4 /= x.Length;
        var rms = Math.Sqrt(m2);
        var peak = Math.Max(max - mean, mean - min);
        destination[FeatureSchema.Rms] = (float)rms;
        destination[FeatureSchema.Peak] = (float)peak;
        destination[FeatureSchema.PeakToPeak] = (float)(max - min);
        var moving = m2 > 1e-30 && rms > 1e-12 * Math.Max(Math.Abs(mean), 1e-30);
        destination[FeatureSchema.CrestFactor] = moving ? (float)(peak / rms) : 0f;
        destination[FeatureSchema.Kurtosis] = moving ? (float)(m4 / (m2 * m2)) : 0f;
        destination[FeatureSchema.Skewness] = moving ? (float)(m3 / (m2 * rms)) : 0f;
    }

    private void SpectralFeatures(Span<float> destination)
    {
        var half = _windowSize / 2;
        var amplitudeScale = 2.0 / (_windowSize * _window.CoherentGain);
        var powerScale = 2.0 / ((double)_windowSize * _windowSize * _window.MeanSquare);
        _amplitude[0] = 0;
        _power[0] = 0;
        _window.ApplyPower(_spectrum, _power);
        for (var k = 1; k <= half; k++)
        {
            var magnitude2 = _power[k];
            _amplitude[k] = Math.Sqrt(magnitude2) * amplitudeScale;
            _power[k] = magnitude2 * powerScale * (k == half ? 0.5 : 1.0);
        }

        double weighted = 0, total = 0;
        for (var k = _minBin; k <= half; k++)
        {
            weighted += k * _binHz * _power[k];
            total += _power[k];
        }

        destination[FeatureSchema.SpectralCentroidHz] = total > 0 ? (float)(weighted / total) : 0f;
        var peakBin = SpectralPeaks.ArgMax(_amplitude, _minBin, half - 1);
        destination[FeatureSchema.DominantHz] = peakBin >= 0 && _amplitude[peakBin] > 0
            ? (float)SpectralPeaks.Interpolate(_amplitude, peakBin, _binHz, _window.Function).FrequencyHz
            : 0f;

        for (var i = 0; i < _bandCount; i++)
        {
            var energy = 0.0;
            for (var k = _bandLo[i]; k <= _bandHi[i]; k++)
            {
                energy += _power[k];
            }

            destination[FeatureSchema.FirstBand + i] = (float)energy;
        }
    }

    private void UpdateLowRateSpectrum()
    {
        var n = _lowRing.Length;
        var mean = _lowRing.Mean();
        var packed = _lowFft.PackedInput;
        for (var m = 0; m < packed.Length; m++)
        {
            var i = 2 * m;
            packed[m] = new Complex((_lowRing[i] - mean) * _lowHann[i], (_lowRing[i + 1] - mean) * _lowHann[i + 1]);
        }

        _lowFft.Execute(_lowSpectrum);
        var amplitudeScale = 2.0 / (n * HannCoherentGain);
        var velocity2 = 0.0;
        for (var k = 0; k < _lowAmplitude.Length; k++)
        {
            var magnitude = Abs(_lowSpectrum[k]);
            _lowAmplitude[k] = k == 0 ? 0 : magnitude * amplitudeScale;
            velocity2 += magnitude * magnitude * _velocityWeight[k];
        }

        _velocityRms = Math.Sqrt(velocity2);
        _trackedSpeedHz = TrackSpeed(out var tracked);
        SpeedTracked = tracked;
        _lowReady = true;
    }

    private void UpdateEnvelopeSpectrum()
    {
        var n = _envRing.Length;
        var mean = _envRing.Mean();
        var packed = _envFft.PackedInput;
        var sumSquares = 0.0;
        for (var m = 0; m < packed.Length; m++)
        {
            var i = 2 * m;
            var a = _envRing[i] - mean;
            var b = _envRing[i + 1] - mean;
            sumSquares += (a * a) + (b * b);
            packed[m] = new Complex(a * _envHann[i], b * _envHann[i + 1]);
        }

        _envFft.Execute(_envSpectrum);
        var amplitudeScale = 2.0 / (n * HannCoherentGain);
        for (var k = 0; k < _envAmplitude.Length; k++)
        {
            _envAmplitude[k] = k == 0 ? 0 : Abs(_envSpectrum[k]) * amplitudeScale;
        }

        _envRms = Math.Sqrt(sumSquares / n);
        var lo = Math.Max(3, (int)Math.Ceiling(EnvelopePeakMinHz / EnvelopeBinHz));
        var hi = Math.Min(_envAmplitude.Length - 2, (int)Math.Floor(_envelope.PassBandHz / EnvelopeBinHz));
        var k0 = SpectralPeaks.ArgMax(_envAmplitude, lo, hi);
        _envPeakHz = k0 >= 0 && _envAmplitude[k0] > 0
            ? SpectralPeaks.Interpolate(_envAmplitude, k0, EnvelopeBinHz, WindowFunction.Hann).FrequencyHz
            : 0;
        _envReady = true;
    }

    private double ShaftSpeed(double externalSpeedHz)
    {
        if (double.IsFinite(externalSpeedHz) && externalSpeedHz > 0)
        {
            return externalSpeedHz;
        }

        return _lowReady ? _trackedSpeedHz : Options.NominalShaftHz;
    }

    /// <summary>
    /// The 1× line: the largest local maximum within ±SpeedSearchFraction of nominal that stands
    /// <see cref="SpeedProminence"/> times above the median of a three times wider neighbourhood,
    /// refined by Hann interpolation; the nominal speed when there is no such peak.
    /// </summary>
    private double TrackSpeed(out bool tracked)
    {
        tracked = false;
        var nominal = Options.NominalShaftHz;
        if (!(nominal > 0))
        {
            return 0;
        }

        var fraction = Options.SpeedSearchFraction;
        var last = _lowAmplitude.Length - 2;
        var lo = Math.Max(1, (int)Math.Floor(nominal * (1 - fraction) / LowBinHz));
        var hi = Math.Min(last, (int)Math.Ceiling(nominal * (1 + fraction) / LowBinHz));
        var k = SpectralPeaks.ArgMax(_lowAmplitude, lo, hi);
        if (k < 0 || !SpectralPeaks.IsLocalMax(_lowAmplitude, k))
        {
            return nominal;
        }

        var spread = Math.Max(8, (hi - lo) * 3 / 2);
        var nLo = Math.Max(1, k - spread);
        var nHi = Math.Min(last, k + spread);
        var count = nHi - nLo + 1;
        var scratch = _medianScratch.AsSpan(0, count);
        _lowAmplitude.AsSpan(nLo, count).CopyTo(scratch);
        scratch.Sort();
        var median = scratch[count / 2];
        if (!(_lowAmplitude[k] > SpeedProminence * median))
        {
            return nominal;
        }

        tracked = true;
        return SpectralPeaks.Interpolate(_lowAmplitude, k, LowBinHz, WindowFunction.Hann).FrequencyHz;
    }

    private double OrderAmplitude(double frequencyHz)
    {
        if (!(frequencyHz >= MinAnalysisHz) || frequencyHz > LowPassBandHz)
        {
            return 0;
        }

        return SpectralPeaks.Match(_lowAmplitude, LowBinHz, frequencyHz, OrderTolerance, WindowFunction.Hann).Amplitude;
    }

    /// <summary>Writes env_X at <paramref name="index"/> and env_X_hz right after it (schema order).</summary>
    /// <remarks>
    /// env_X = amplitude of the strongest envelope line within ±DefectTolerance of the defect frequency
    /// (slip), env_X_hz = its interpolated frequency. Harmonics are deliberately not summed in: for
    /// common geometries they collide with other defects' lines (9-ball 6205: 3×BPFO ≈ 2×BPFI within
    /// 0.7 %), which would make an inner-race fault raise env_bpfo. Ball faults: a damaged ball strikes
    /// both races once per spin, so the line at 2×BSF is searched too and the stronger of the two is
    /// reported (env_bsf_hz tells which).
    /// </remarks>
    private void WriteDefect(Span<float> tail, int index, bool enabled, double frequencyHz, bool ballSpin)
    {
        if (!enabled || !(frequencyHz >= MinAnalysisHz) || frequencyHz > _envelope.PassBandHz)
        {
            tail[index] = 0f;
            tail[index + 1] = 0f;
            return;
        }

        var tolerance = Options.DefectTolerance;
        var line = SpectralPeaks.Match(_envAmplitude, EnvelopeBinHz, frequencyHz, tolerance, WindowFunction.Hann);
        if (ballSpin && 2 * frequencyHz <= _envelope.PassBandHz)
        {
            var twice = SpectralPeaks.Match(_envAmplitude, EnvelopeBinHz, 2 * frequencyHz, tolerance, WindowFunction.Hann);
            if (twice.Amplitude > line.Amplitude)
            {
                line = twice;
            }
        }

        tail[index] = (float)line.Amplitude;
        tail[index + 1] = (float)line.FrequencyHz;
    }

    private static double AutomaticEnvelopeMax(FeatureExtractorOptions options, FrequencyBand band)
    {
        var max = 1000.0;
        if (options.Bearing is not null && options.NominalShaftHz > 0)
        {
            var orders = BearingOrders.FromGeometry(options.Bearing);
            var highest = Math.Max(Math.Max(orders.Bpfi, orders.Bpfo), Math.Max(2 * orders.Bsf, orders.Ftf));
            max = Math.Max(max, 3.0 * highest * options.NominalShaftHz * (1 + options.SpeedSearchFraction));
        }

        return Math.Min(max, 0.5 * (band.HighHz - band.LowHz));
    }

    private static double[] VelocityWeights(FeatureExtractorOptions options, int length, double binHz, double passBandHz)
    {
        // Power of bin k (Hann, one-sided) is 2|X_k|² / (L² · mean(w²)); times the squared conversion to mm/s.
        var weights = new double[(length / 2) + 1];
        var powerScale = 2.0 / ((double)length * length * HannMeanSquare);
        var high = Math.Min(options.VelocityBand.HighHz, passBandHz);
        for (var k = 1; k < weights.Length; k++)
        {
            var f = k * binHz;
            if (f < options.VelocityBand.LowHz || f > high)
            {
                continue;
            }

            var omega = 2.0 * Math.PI * f;
            var toMillimetresPerSecond = options.Unit switch
            {
                SignalUnit.G or SignalUnit.MetersPerSecondSquared => options.Unit.ToMetersPerSecondSquaredFactor() * 1000.0 / omega,
                SignalUnit.MillimetersPerSecond => 1.0,
                SignalUnit.Micrometers => omega * 1e-3,
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Unit, "Unknown unit."),
            };
            weights[k] = powerScale * toMillimetresPerSecond * toMillimetresPerSecond;
        }

        return weights;
    }

    private static double Abs(Complex z) => Math.Sqrt((z.Real * z.Real) + (z.Imaginary * z.Imaginary));

    private static double[] HannTable(int length)
    {
        var table = new double[length];
        for (var n = 0; n < length; n++)
        {
            table[n] = 0.5 - (0.5 * Math.Cos(2.0 * Math.PI * n / length));
        }

        return table;
    }

    /// <summary>Positions of the tail features, looked up once from <see cref="FeatureSchema.TailNames"/>.</summary>
    private static class Tail
    {
        public static readonly int Shaft = Find("shaft_hz");
        public static readonly int[] Orders = [Find("order_0_5x"), Find("order_1x"), Find("order_2x"), Find("order_3x")];
        public static readonly int Bpfo = Find("env_bpfo");
        public static readonly int Bpfi = Find("env_bpfi");
        public static readonly int Bsf = Find("env_bsf");
        public static readonly int Ftf = Find("env_ftf");
        public static readonly int EnvPeak = Find("env_peak_hz");
        public static readonly int Velocity = Find("velocity_rms_mm_s");
        public static readonly int Iso = Find("iso_zone");
        public static readonly int EnvRms = Find("env_rms");
        public static readonly int PromBpfo = FindPlain("env_bpfo_prom");
        public static readonly int PromBpfi = FindPlain("env_bpfi_prom");
        public static readonly int PromBsf = FindPlain("env_bsf_prom");
        public static readonly int PromBand = FindPlain("env_band_hz");
        public static readonly int Sk = FindPlain("env_sk");
        public static readonly int SkBand = FindPlain("env_sk_band_hz");
        public static readonly int BandSlots = FindPlain("env_prom_b00");

        private static int FindPlain(string name)
        {
            var i = Array.IndexOf(FeatureSchema.TailNames, name);
            return i >= 0 ? i : throw new InvalidOperationException($"Feature schema lost '{name}'.");
        }

        private static int Find(string name)
        {
            var i = Array.IndexOf(FeatureSchema.TailNames, name);
            if (i < 0 || (name.StartsWith("env_", StringComparison.Ordinal) && !name.EndsWith("_hz", StringComparison.Ordinal) && name != "env_rms"
                && Array.IndexOf(FeatureSchema.TailNames, name + "_hz") != i + 1))
            {
                throw new InvalidOperationException($"Feature schema lost '{name}' (or its _hz companion right after it).");
            }

            return i;
        }
    }
}
