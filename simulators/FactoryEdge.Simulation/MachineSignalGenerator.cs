using FactoryEdge.Core;

namespace FactoryEdge.Simulation;

/// <summary>
/// Generates the acceleration (g) of a bearing housing, sample after sample, continuing where the
/// previous call stopped. Deterministic for a seed; <see cref="Generate"/> does not allocate.
/// Not thread-safe: one generator per channel, one thread at a time.
/// </summary>
/// <remarks>
/// x(t) = Σₖ Aₖ(t)·sin(2π·k·fᵣ·t + φₖ)                 shaft orders k = ½, 1, 1½, … 10
///      + n(t)                                          broadband Gaussian noise
///      + h ∗ [e(t) + s(t)·r(t) + Σᵢ aᵢ·δ(t − tᵢ)]       structural resonance (2-pole, f₀, ζ) driven by
///                                                       random excitation, the damaged surface's
///                                                       roughness (∝ severity) and bearing impacts
/// Impacts come at the defect rate with random slip (each interval × (1 + σ·N(0,1))), amplitude
/// aᵢ = severity(tᵢ)·peak·(1 + 0.1·N(0,1))·q(θᵢ) where q is the load-zone weighting of the defect's
/// angle (shaft angle for inner race, cage angle for balls, 1 for the outer race).
/// Every component has its own random stream, so a fault (before its onset) leaves the healthy
/// signal bit for bit unchanged.
/// </remarks>
public sealed class MachineSignalGenerator
{
    /// <summary>Shaft orders ½, 1, 1½, …, 10.</summary>
    private const int OrderCount = 20;

    // At severity 1 (tuned to the CWRU 0.007 in records: outer race 1.26 g RMS, kurtosis 6.7; inner
    // race 0.58 g RMS, kurtosis 6.0): the peak of the resonance's response to one impact, and the
    // RMS of the random "roughness" excitation of the damaged surfaces (which keeps the kurtosis of
    // a developed fault at realistic values rather than that of clean isolated impulses).
    private const double OuterRacePeakG = 5.6;
    private const double OuterRaceRoughnessG = 0.64;
    private const double InnerRacePeakG = 3.15;
    private const double InnerRaceRoughnessG = 0.42;
    private const double BallPeakG = 1.2;
    private const double BallRoughnessG = 0.17;

    // Ball defect: the spall strikes the outer race (1) and the inner race (weaker path) alternately.
    private const double BallInnerContactFactor = 0.5;

    // Load-zone weighting q(θ) = floor + (1 − floor)·max(0, cos θ)^1.5 (Stribeck, ball bearing).
    private const double LoadZoneFloor = 0.2;
    private const double ImpactAmplitudeSpread = 0.1;

    private readonly MachineSignalOptions _options;
    private readonly MachineFault[] _faults;
    private readonly double[] _orders = new double[OrderCount];
    private readonly double[] _healthyAmplitude = new double[OrderCount];
    private readonly double[] _phase = new double[OrderCount];
    private readonly double[][] _faultGain;
    private readonly int[] _activeOrders;
    private readonly double[] _severity;
    private readonly ImpactTrain[] _trains;
    private readonly double _cyclesPerSample;
    private readonly double _c1;
    private readonly double _c2;
    private readonly double _impulseGain;
    private readonly double _rmsToExcitation;
    private readonly double _resonanceNoiseGain;

    private Xoshiro256 _noise;
    private Xoshiro256 _resonanceNoise;
    private long _sampleIndex;
    private double _y1;
    private double _y2;
    private double _carry;

    public MachineSignalGenerator(MachineSignalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException("Invalid machine signal options: " + problem, nameof(options));
        }

        _options = options;
        Orders = options.BearingOrders;
        _faults = [.. options.Faults];
        _severity = new double[_faults.Length];
        _cyclesPerSample = options.ShaftHz / options.SampleRateHz;

        var phases = Xoshiro256.ForStream(options.Seed, 0);
        for (var k = 0; k < OrderCount; k++)
        {
            _orders[k] = (k + 1) / 2.0;
            _phase[k] = phases.NextDouble();
        }

        _healthyAmplitude[OrderIndex(1)] = options.OneXAmplitudeG;
        _healthyAmplitude[OrderIndex(2)] = options.TwoXAmplitudeG;

        _faultGain = new double[_faults.Length][];
        var trains = new List<ImpactTrain>();
        for (var f = 0; f < _faults.Length; f++)
        {
            _faultGain[f] = HarmonicGains(_faults[f].Type);
            if (ImpactTrain.Create(_faults[f].Type, f, options, Orders) is { } train)
            {
                trains.Add(train);
            }
        }

        _trains = [.. trains];
        var active = new List<int>();
        for (var k = 0; k < OrderCount; k++)
        {
            var any = _healthyAmplitude[k] != 0;
            foreach (var gains in _faultGain)
            {
                any |= gains[k] != 0;
            }

            if (any)
            {
                active.Add(k);
            }
        }

        _activeOrders = [.. active];

        // Two-pole resonator y[n] = c1·y[n−1] − c2·y[n−2] + g·x[n]: poles at r·e^{±jθ}.
        var omega = 2 * Math.PI * options.ResonanceHz;
        var zeta = options.ResonanceDampingRatio;
        var r = Math.Exp(-zeta * omega / options.SampleRateHz);
        var theta = omega * Math.Sqrt(1 - (zeta * zeta)) / options.SampleRateHz;
        _c1 = 2 * r * Math.Cos(theta);
        _c2 = r * r;
        var (peak, energy) = UnitImpulseResponse(_c1, _c2);
        _impulseGain = 1.0 / peak;
        _rmsToExcitation = 1.0 / Math.Sqrt(energy);
        _resonanceNoiseGain = options.ResonanceNoiseRmsG * _rmsToExcitation;

        _noise = Xoshiro256.ForStream(options.Seed, 1);
        _resonanceNoise = Xoshiro256.ForStream(options.Seed, 2);
    }

    public MachineSignalOptions Options => _options;

    /// <summary>Bearing defect orders (multiples of shaft speed).</summary>
    public BearingOrders Orders { get; }

    /// <summary>Ball pass frequency, outer race, Hz.</summary>
    public double BpfoHz => Orders.Bpfo * _options.ShaftHz;

    /// <summary>Ball pass frequency, inner race, Hz.</summary>
    public double BpfiHz => Orders.Bpfi * _options.ShaftHz;

    /// <summary>Ball spin frequency (one ball revolution), Hz; a ball defect strikes at twice this.</summary>
    public double BsfHz => Orders.Bsf * _options.ShaftHz;

    /// <summary>Cage (fundamental train) frequency, Hz.</summary>
    public double FtfHz => Orders.Ftf * _options.ShaftHz;

    /// <summary>Index of the next sample <see cref="Generate"/> writes.</summary>
    public long SampleIndex => _sampleIndex;

    /// <summary>Signal time of the next sample, seconds.</summary>
    public double TimeSeconds => _sampleIndex / _options.SampleRateHz;

    /// <summary>Severity of fault <paramref name="faultIndex"/> (in <see cref="MachineSignalOptions.Faults"/>) at signal time <paramref name="seconds"/>.</summary>
    public double SeverityAt(int faultIndex, double seconds) => _faults[faultIndex].SeverityAt(seconds);

    /// <summary>Fills <paramref name="destination"/> with the next samples (g).</summary>
    public void Generate(Span<float> destination)
    {
        var rate = _options.SampleRateHz;
        var noiseRms = _options.NoiseRmsG;
        for (var i = 0; i < destination.Length; i++)
        {
            var n = _sampleIndex + i;
            var seconds = n / rate;
            for (var f = 0; f < _faults.Length; f++)
            {
                _severity[f] = _faults[f].SeverityAt(seconds);
            }

            // Shaft orders. Half orders repeat every two turns, so the angle is reduced modulo two turns.
            var cycles = n * _cyclesPerSample;
            var turn = cycles - (2 * Math.Floor(cycles / 2));
            var x = 0.0;
            foreach (var k in _activeOrders)
            {
                var amplitude = _healthyAmplitude[k];
                for (var f = 0; f < _faultGain.Length; f++)
                {
                    amplitude += _severity[f] * _faultGain[f][k];
                }

                if (amplitude != 0)
                {
                    x += amplitude * double.SinPi(2 * ((_orders[k] * turn) + _phase[k]));
                }
            }

            // Broadband noise.
            x += noiseRms * _noise.NextGaussian();

            // Resonance: random excitation plus bearing impacts (split between two samples at their exact time).
            var excitation = _carry + (_resonanceNoiseGain * _resonanceNoise.NextGaussian());
            _carry = 0;
            foreach (var train in _trains)
            {
                excitation += train.Roughness(_severity[train.FaultIndex]) * _rmsToExcitation;
                while (train.NextImpact < n + 1)
                {
                    var at = train.NextImpact;
                    var amplitude = train.Impact(_faults[train.FaultIndex].SeverityAt(at / rate), at / rate, _options.ShaftHz) * _impulseGain;
                    var fraction = Math.Clamp(at - n, 0, 1);
                    excitation += amplitude * (1 - fraction);
                    _carry += amplitude * fraction;
                    train.Advance(_options.SlipFraction);
                }
            }

            var y = (_c1 * _y1) - (_c2 * _y2) + excitation;
            _y2 = _y1;
            _y1 = y;
            destination[i] = (float)(x + y);
        }

        _sampleIndex += destination.Length;
    }

    private static int OrderIndex(double order) => (int)Math.Round(order * 2) - 1;

    /// <summary>Harmonic amplitude (g peak) per unit severity that a fault adds at each order.</summary>
    private static double[] HarmonicGains(FaultType type)
    {
        var gains = new double[OrderCount];
        switch (type)
        {
            case FaultType.Imbalance:
                gains[OrderIndex(1)] = 0.25;
                break;
            case FaultType.Misalignment:
                gains[OrderIndex(1)] = 0.04;
                gains[OrderIndex(2)] = 0.20;
                gains[OrderIndex(3)] = 0.08;
                gains[OrderIndex(4)] = 0.03;
                break;
            case FaultType.Looseness:
                for (var k = 0; k < OrderCount; k++)
                {
                    var order = (k + 1) / 2.0;
                    var isHalf = (k % 2) == 0;
                    gains[k] = (isHalf ? 0.05 : 0.10) / Math.Sqrt(Math.Ceiling(order));
                }

                break;
        }

        return gains;
    }

    /// <summary>Peak |h| and Σh² of the resonator's response to a unit impulse.</summary>
    private static (double Peak, double Energy) UnitImpulseResponse(double c1, double c2)
    {
        double y1 = 0, y2 = 0, peak = 0, energy = 0;
        var x = 1.0;
        var decay = Math.Sqrt(c2);
        var length = (int)Math.Min(1_000_000, Math.Ceiling(Math.Log(1e-9) / Math.Log(decay)) + 16);
        for (var n = 0; n < length; n++)
        {
            var y = (c1 * y1) - (c2 * y2) + x;
            x = 0;
            y2 = y1;
            y1 = y;
            peak = Math.Max(peak, Math.Abs(y));
            energy += y * y;
        }

        return (peak, energy);
    }

    /// <summary>The impacts of one bearing defect.</summary>
    private sealed class ImpactTrain
    {
        private readonly FaultType _type;
        private readonly double _periodSamples;
        private readonly double _peakG;
        private readonly double _roughnessG;
        private readonly double _angleOffset;
        private readonly double _ftfOrder;
        private Xoshiro256 _random;
        private Xoshiro256 _roughness;
        private long _count;

        private ImpactTrain(FaultType type, int faultIndex, double periodSamples, double peakG, double roughnessG, double ftfOrder, int seed)
        {
            _type = type;
            FaultIndex = faultIndex;
            _periodSamples = periodSamples;
            _peakG = peakG;
            _roughnessG = roughnessG;
            _ftfOrder = ftfOrder;
            _random = Xoshiro256.ForStream(seed, 100 + faultIndex);
            _roughness = Xoshiro256.ForStream(seed, 200 + faultIndex);
            _angleOffset = _random.NextDouble();
            NextImpact = _random.NextDouble() * periodSamples;
        }

        public int FaultIndex { get; }

        /// <summary>Time of the next impact in samples (fractional).</summary>
        public double NextImpact { get; private set; }

        public static ImpactTrain? Create(FaultType type, int faultIndex, MachineSignalOptions options, BearingOrders orders)
        {
            var (rateOrder, peak, roughness) = type switch
            {
                FaultType.OuterRace => (orders.Bpfo, OuterRacePeakG, OuterRaceRoughnessG),
                FaultType.InnerRace => (orders.Bpfi, InnerRacePeakG, InnerRaceRoughnessG),
                FaultType.Ball => (2 * orders.Bsf, BallPeakG, BallRoughnessG),
                _ => (0.0, 0.0, 0.0),
            };
            if (rateOrder == 0)
            {
                return null;
            }

            var period = options.SampleRateHz / (rateOrder * options.ShaftHz);
            return new ImpactTrain(type, faultIndex, period, peak, roughness, orders.Ftf, options.Seed);
        }

        /// <summary>Random excitation (g RMS at the resonance's output) of the damaged surface this sample.</summary>
        public double Roughness(double severity) => severity * _roughnessG * _roughness.NextGaussian();

        /// <summary>Amplitude (g, before the resonator's gain) of the impact due now.</summary>
        public double Impact(double severity, double seconds, double shaftHz)
        {
            var spread = 1 + (ImpactAmplitudeSpread * Math.Clamp(_random.NextGaussian(), -3, 3));
            var weight = _type switch
            {
                // The inner-race defect turns with the shaft through the fixed load zone.
                FaultType.InnerRace => LoadZone((shaftHz * seconds) + _angleOffset),
                // The ball goes round with the cage; it alternately strikes outer and inner race.
                FaultType.Ball => LoadZone((_ftfOrder * shaftHz * seconds) + _angleOffset) * ((_count & 1) == 0 ? 1.0 : BallInnerContactFactor),
                // The outer-race defect sits in the load zone: every impact is alike.
                _ => 1.0,
            };
            return severity * _peakG * spread * weight;
        }

        public void Advance(double slipFraction)
        {
            _count++;
            NextImpact += _periodSamples * (1 + (slipFraction * Math.Clamp(_random.NextGaussian(), -3, 3)));
        }

        /// <summary>q(θ) with θ in turns; the load zone is centred at 0.</summary>
        private static double LoadZone(double turns)
        {
            var c = double.CosPi(2 * turns);
            return LoadZoneFloor + ((1 - LoadZoneFloor) * (c > 0 ? c * Math.Sqrt(c) : 0));
        }
    }
}
