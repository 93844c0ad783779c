using System.Numerics;

namespace FactoryEdge.Signal;

/// <summary>
/// Informative-band search for incipient bearing faults: a fixed bank of overlapping band-passes
/// spanning the resonance range, each demodulated every window, with a squared-envelope spectrum
/// averaged across windows per band. For each defect frequency it reports the largest prominence
/// (defect line over the local floor of the averaged envelope spectrum) over all bands, and the band
/// where it was found; it also tracks the spectral kurtosis of every band (a kurtogram on a fixed
/// filter bank). Stationary tones are suppressed before demodulation (see <see cref="ToneAverageDepth"/>).
/// See docs/signal.md, "Band search".
/// </summary>
/// <remarks>
/// <para>Per window (no allocation): for every band, the bins of the window's rectangular spectrum
/// inside the band (raised-cosine edges, so the band's impulse response is short) go through one
/// small inverse FFT, which gives the analytic band signal at a reduced rate; |z|² of the window's
/// central hop (far from the circular edges) is averaged down to the bank's common envelope rate and
/// appended to the band's ring. Consecutive windows' central hops tile the stream without gaps.</para>
/// <para>Per long-spectrum update: every band's ring is Hann-windowed and transformed; its power
/// spectrum is averaged into the band's running mean (arithmetic over the first
/// <see cref="AverageDepth"/> updates, then exponential with weight 1/<see cref="AverageDepth"/>).</para>
/// </remarks>
internal sealed class EnvelopeBandBank
{
    /// <summary>Spectra averaged (the exponential average's effective depth).</summary>
    public const int AverageDepth = 16;

    /// <summary>Band widths: at least this fraction of the band centre.</summary>
    public const double RelativeWidth = 0.15;

    /// <summary>Band widths: at least this many times the highest defect frequency (several lines of the impact train fall in the band).</summary>
    public const double DefectWidthFactor = 2.5;

    /// <summary>Floor neighbourhood half-width: this fraction of the line frequency (at least <see cref="MinFloorBins"/> bins).</summary>
    public const double FloorFraction = 0.15;

    public const int MinFloorBins = 12;

    /// <summary>
    /// Ring length (seconds, rounded up to a power of two of samples): short segments, many of them
    /// averaged. Longer rings sharpen steady lines but delay the first value (2.7 s tried: too long
    /// for 5-s recordings); 1.4 s with 4 averages gave false alarms at run start.
    /// </summary>
    public const double HistorySeconds = 0.5;

    /// <summary>Exponential weight of a new window's band kurtosis.</summary>
    private const double KurtosisWeight = 0.1;

    private readonly BankBand[] _bands;
    private readonly int _windowSize;
    private readonly int _hop;
    private readonly int _segmentStart;
    private readonly int _outputPerWindow;
    private readonly float[] _scratch;
    private readonly RealFft _ringFft;
    private readonly Complex[] _ringSpectrum;
    private readonly double[] _hann;
    private readonly double[] _floorScratch;
    private readonly double[] _binPower;
    private readonly double[] _medianScratch;
    private readonly int _firstBin;
    private readonly int _lastBin;
    private long _windows;

    public EnvelopeBandBank(double sampleRateHz, int windowSize, int hop, double highestDefectHz, Func<int, IFftEngine> fftFactory, double historySeconds)
    {
        ArgumentNullException.ThrowIfNull(fftFactory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(highestDefectHz);
        _windowSize = windowSize;
        _hop = hop;
        var binHz = sampleRateHz / windowSize;

        // Common envelope rate: the second harmonic of the highest defect line plus its floor neighbourhood, 2.56× over.
        var needHz = 2 * highestDefectHz * (1 + FloorFraction) * 1.1;
        var me = 4;
        while (me < windowSize && (me * binHz < 2.56 * needHz || hop % (windowSize / me) != 0))
        {
            me *= 2;
        }

        EnvelopeRateHz = me * binHz;
        _segmentStart = Math.Max(0, (3 * windowSize / 4) - hop);
        _segmentStart -= _segmentStart % (windowSize / me);
        _outputPerWindow = (int)((long)hop * me / windowSize);
        _scratch = new float[Math.Max(1, _outputPerWindow)];

        var ringLength = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(64, Math.Ceiling(historySeconds * EnvelopeRateHz)));
        _ringFft = new RealFft(ringLength, fftFactory);
        _ringSpectrum = new Complex[_ringFft.SpectrumLength];
        _hann = new double[ringLength];
        for (var n = 0; n < ringLength; n++)
        {
            _hann[n] = 0.5 - (0.5 * Math.Cos(2.0 * Math.PI * n / ringLength));
        }

        SpectrumBinHz = EnvelopeRateHz / ringLength;
        _floorScratch = new double[_ringFft.SpectrumLength];

        // Bands: from above the envelope content (and 1 kHz) to fs/2.56, half-overlapping; at most
        // FeatureSchema.BandSlots of them (wider relative bands for fast acquisitions).
        var high = sampleRateHz / 2.56;
        var low = Math.Max(Math.Min(1000.0, 0.4 * high), needHz);
        var minWidth = Math.Max(DefectWidthFactor * highestDefectHz, 8 * binHz);
        var relative = RelativeWidth;
        List<(double Lo, double Hi)> edges;
        while ((edges = Layout(low, high, minWidth, relative)).Count > FeatureSchema.BandSlots)
        {
            relative *= 1.1;
        }

        var engines = new Dictionary<int, IFftEngine>();
        var bands = new List<BankBand>();
        foreach (var (lo, hi) in edges)
        {
            var binLo = Math.Max(1, (int)Math.Ceiling(lo / binHz));
            var binHi = Math.Min(windowSize / 2, (int)Math.Floor(hi / binHz));
            if (binHi - binLo >= 4)
            {
                var bins = binHi - binLo + 1;
                var mb = (int)Math.Min(windowSize, Math.Max(me, BitOperations.RoundUpToPowerOf2((uint)(2 * bins))));
                if (!engines.TryGetValue(mb, out var engine))
                {
                    engine = fftFactory(mb);
                    engines[mb] = engine;
                }

                bands.Add(new BankBand(binLo, binHi, 0.5 * (lo + hi), engine, mb / me, ringLength, _ringFft.SpectrumLength));
            }
        }

        _bands = [.. bands];
        _binPower = new double[(windowSize / 2) + 1];
        _firstBin = _bands.Length == 0 ? 0 : _bands.Min(b => b.BinLo);
        _lastBin = _bands.Length == 0 ? -1 : _bands.Max(b => b.BinHi);
        _medianScratch = new double[_bands.Length == 0 ? 1 : _bands.Max(b => b.BinHi - b.BinLo + 1)];
    }

    public int BandCount => _bands.Length;

    /// <summary>Half-overlapping bands from <paramref name="low"/> to <paramref name="high"/>, width max(minWidth, relative × centre).</summary>
    private static List<(double Lo, double Hi)> Layout(double low, double high, double minWidth, double relative)
    {
        var edges = new List<(double Lo, double Hi)>();
        var lo = low;
        while (lo < high - (0.5 * minWidth))
        {
            var width = Math.Max(minWidth, relative * (lo + (0.5 * minWidth)));
            var hi = lo + width;
            if (hi > high)
            {
                hi = high;
                lo = Math.Max(low, high - width);
            }

            edges.Add((lo, hi));
            if (hi >= high)
            {
                break;
            }

            lo += 0.5 * width;
        }

        return edges;
    }

    public double EnvelopeRateHz { get; }

    public double SpectrumBinHz { get; }

    /// <summary>
    /// Spectra averaged before the prominences are reported: a single spectrum's noise maxima are
    /// too ragged (seen: one false alarm per run start without this).
    /// </summary>
    public const int MinAverages = 7;

    /// <summary>
    /// Spectra averaged before the prominences are reported at full value; before that
    /// (<see cref="MinAverages"/> … 12) they are reported as p^√(n / 12): 16 took 5 dB off an
    /// incipient fault on the 5-s CWRU records, no shrinking gave a false alert per hour of
    /// cold-started generator segments.
    /// </summary>
    public const int FullConfidenceAverages = 12;

    /// <summary>True once every band has averaged <see cref="MinAverages"/> spectra.</summary>
    public bool IsReady => _bands.Length > 0 && _bands[0].Averages >= MinAverages;

    /// <summary>Spectra averaged so far (of the first band; all bands update together).</summary>
    public int Averages => _bands.Length > 0 ? _bands[0].Averages : 0;

    /// <summary>True once the rings are full and at least one spectrum has been averaged.</summary>
    public bool HasSpectrum => _bands.Length > 0 && _bands[0].Averages > 0;

    public double BandCentreHz(int band) => _bands[band].CentreHz;

    /// <summary>Smoothed spectral kurtosis of a band's complex envelope (0 for Gaussian noise).</summary>
    public double Kurtosis(int band) => _bands[band].Kurtosis;

    /// <summary>Averaged squared-envelope power spectrum of a band.</summary>
    internal ReadOnlySpan<double> Spectrum(int band) => _bands[band].Average;

    /// <summary>
    /// Windows in the per-bin power average that finds stationary tones. Before a band is
    /// demodulated, every bin whose average power exceeds the band's lower quartile of bin powers is
    /// scaled down to it: a tone (gear mesh, electrical lines, a machine's own structural lines) would otherwise
    /// dominate the band's squared envelope and bury a weak impact train under its beats. Impacts
    /// keep their phase coherence across bins, so their envelope lines survive the flattening. (The
    /// CWRU normal record has tones near 1.3 and 4.2 kHz 20–40 dB above the floor: docs/models.md.)
    /// </summary>
    public const int ToneAverageDepth = 32;

    /// <summary>Windows between recomputations of the bands' tone limits (lower quartiles; the median was tried: 5 dB less at a 4-kHz resonance beside the CWRU tones).</summary>
    public const int ToneLimitPeriod = 4;

    public void Reset()
    {
        Array.Clear(_binPower);
        _windows = 0;
        foreach (var band in _bands)
        {
            band.Reset();
        }
    }

    /// <summary>Demodulates the window's central hop in every band (rectangular, mean-removed window spectrum).</summary>
    public void Process(ReadOnlySpan<Complex> spectrum)
    {
        var scale = 2.0 / _windowSize;
        scale *= scale;
        UpdateToneLimits(spectrum);
        foreach (var band in _bands)
        {
            var buffer = band.Engine.Buffer;
            buffer.Clear();
            var taper = band.Taper;
            var limit = band.ToneLimit;
            for (var k = band.BinLo; k <= band.BinHi; k++)
            {
                var gain = taper[k - band.BinLo];
                var power = _binPower[k];
                if (power > limit && limit > 0)
                {
                    gain *= Math.Sqrt(limit / power);
                }

                buffer[k - band.BinLo] = spectrum[k] * gain;
            }

            band.Engine.Inverse();
            var m = buffer.Length;
            var step = _windowSize / m;
            var first = _segmentStart / step;
            var d = band.Decimation;
            double s2 = 0, s4 = 0;
            for (var o = 0; o < _outputPerWindow; o++)
            {
                var sum = 0.0;
                var baseIndex = first + (o * d);
                for (var j = 0; j < d; j++)
                {
                    var z = buffer[baseIndex + j];
                    var p = ((z.Real * z.Real) + (z.Imaginary * z.Imaginary)) * scale;
                    sum += p;
                    s4 += p * p;
                }

                s2 += sum;
                _scratch[o] = (float)(sum / d);
            }

            band.Ring.Append(_scratch.AsSpan(0, _outputPerWindow));
            var n = (double)_outputPerWindow * d;
            if (s2 > 0)
            {
                var kurtosis = (s4 * n / (s2 * s2)) - 2.0;
                band.Kurtosis = band.KurtosisCount == 0 ? kurtosis : ((1 - KurtosisWeight) * band.Kurtosis) + (KurtosisWeight * kurtosis);
                band.KurtosisCount++;
            }
        }
    }

    /// <summary>Folds the window's bin powers into the average; every <see cref="ToneLimitPeriod"/> windows, each band's limit = its lower quartile of bin powers.</summary>
    private void UpdateToneLimits(ReadOnlySpan<Complex> spectrum)
    {
        var weight = 1.0 / Math.Min(_windows + 1, ToneAverageDepth);
        for (var k = _firstBin; k <= _lastBin; k++)
        {
            var z = spectrum[k];
            _binPower[k] += weight * ((z.Real * z.Real) + (z.Imaginary * z.Imaginary) - _binPower[k]);
        }

        if (_windows++ % ToneLimitPeriod == 0)
        {
            foreach (var band in _bands)
            {
                var count = band.BinHi - band.BinLo + 1;
                var scratch = _medianScratch.AsSpan(0, count);
                _binPower.AsSpan(band.BinLo, count).CopyTo(scratch);
                scratch.Sort();
                band.ToneLimit = scratch[count / 4];
            }
        }
    }

    /// <summary>True when the rings are full (spectra can be updated).</summary>
    public bool CanUpdate => _bands.Length > 0 && _bands[0].Ring.IsFull;

    /// <summary>Transforms every band's ring and folds its power spectrum into the band's average.</summary>
    public void UpdateSpectra()
    {
        foreach (var band in _bands)
        {
            var ring = band.Ring;
            var mean = ring.Mean();
            var packed = _ringFft.PackedInput;
            for (var i = 0; i < packed.Length; i++)
            {
                var a = 2 * i;
                packed[i] = new Complex((ring[a] - mean) * _hann[a], (ring[a + 1] - mean) * _hann[a + 1]);
            }

            _ringFft.Execute(_ringSpectrum);
            band.Averages++;
            var weight = 1.0 / Math.Min(band.Averages, AverageDepth);
            var average = band.Average;
            for (var k = 0; k < average.Length; k++)
            {
                var z = _ringSpectrum[k];
                var p = (z.Real * z.Real) + (z.Imaginary * z.Imaginary);
                average[k] += weight * (p - average[k]);
            }
        }
    }

    /// <summary>
    /// Prominence of a line at <paramref name="frequencyHz"/> (±<paramref name="tolerance"/>) in one
    /// band: (largest bin + its larger neighbour) / (2 × median of the neighbourhood outside the
    /// search range). About 1–3 for noise; 0 when it cannot be evaluated.
    /// </summary>
    public double Prominence(int band, double frequencyHz, double tolerance)
    {
        var s = _bands[band].Average;
        var last = s.Length - 2;
        var b = SpectrumBinHz;
        var lo = (int)Math.Floor(frequencyHz * (1 - tolerance) / b);
        var hi = (int)Math.Ceiling(frequencyHz * (1 + tolerance) / b);
        var centre = (int)Math.Round(frequencyHz / b);
        lo = Math.Min(lo, centre - 1);
        hi = Math.Max(hi, centre + 1);
        if (lo < 2 || hi > last)
        {
            return 0;
        }

        var line = 0.0;
        for (var k = lo; k <= hi; k++)
        {
            var v = s[k] + Math.Max(s[k - 1], s[k + 1]);
            if (v > line)
            {
                line = v;
            }
        }

        var half = Math.Max(MinFloorBins, (int)Math.Ceiling(FloorFraction * frequencyHz / b));
        var count = 0;
        var from = Math.Max(1, centre - half - (hi - lo));
        var to = Math.Min(last + 1, centre + half + (hi - lo));
        for (var k = from; k <= to; k++)
        {
            if (k < lo - 2 || k > hi + 2)
            {
                _floorScratch[count++] = s[k];
            }
        }

        if (count < 8)
        {
            return 0;
        }

        var floor = _floorScratch.AsSpan(0, count);
        floor.Sort();
        var median = floor[count / 2];
        return median > 0 ? line / (2 * median) : 0;
    }

    private sealed class BankBand
    {
        public BankBand(int binLo, int binHi, double centreHz, IFftEngine engine, int decimation, int ringLength, int spectrumLength)
        {
            BinLo = binLo;
            BinHi = binHi;
            CentreHz = centreHz;
            Engine = engine;
            Decimation = decimation;
            Ring = new SampleRing(ringLength);
            Average = new double[spectrumLength];
            var bins = binHi - binLo + 1;
            Taper = new double[bins];
            var edge = Math.Max(2, bins / 8);
            for (var i = 0; i < bins; i++)
            {
                var fromEdge = Math.Min(i, bins - 1 - i);
                Taper[i] = fromEdge >= edge ? 1.0 : 0.5 - (0.5 * Math.Cos(Math.PI * (fromEdge + 0.5) / edge));
            }
        }

        public int BinLo { get; }

        public int BinHi { get; }

        public double CentreHz { get; }

        public IFftEngine Engine { get; }

        public int Decimation { get; }

        public SampleRing Ring { get; }

        public double[] Average { get; }

        public double[] Taper { get; }

        public double Kurtosis { get; set; }

        /// <summary>Bin power above which a bin counts as a tone and is scaled down (0: not yet known).</summary>
        public double ToneLimit { get; set; }

        public long KurtosisCount { get; set; }

        public int Averages { get; set; }

        public void Reset()
        {
            Ring.Reset();
            Array.Clear(Average);
            ToneLimit = 0;
            Kurtosis = 0;
            KurtosisCount = 0;
            Averages = 0;
        }
    }
}
