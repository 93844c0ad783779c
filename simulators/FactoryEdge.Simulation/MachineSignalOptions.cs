using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Simulation;

/// <summary>Machine faults the generator can develop.</summary>
public enum FaultType
{
    None,
    /// <summary>Outer-race spall: impacts at BPFO, fixed in the load zone (no modulation).</summary>
    OuterRace,
    /// <summary>Inner-race spall: impacts at BPFI, amplitude-modulated at shaft speed as the defect passes the load zone.</summary>
    InnerRace,
    /// <summary>Rolling-element spall: impacts at 2 × BSF (alternately on each race), modulated at FTF as the ball goes round with the cage.</summary>
    Ball,
    /// <summary>Mass imbalance: the 1× line grows.</summary>
    Imbalance,
    /// <summary>Shaft misalignment: 2× dominant, with 1×, 3× (axial-ish) and 4×.</summary>
    Misalignment,
    /// <summary>Mechanical looseness: many harmonics of 1× and ½-order sub-harmonics.</summary>
    Looseness,
}

/// <summary>
/// One fault: its severity is 0 before <see cref="OnsetSeconds"/>, ramps linearly over
/// <see cref="RampSeconds"/> and stays at <see cref="MaxSeverity"/>. Severity 1 is a developed
/// fault (for bearings, the level of the CWRU 0.007 in seeded-fault records).
/// </summary>
public sealed record MachineFault
{
    public MachineFault()
    {
    }

    public MachineFault(FaultType type, double maxSeverity = 1.0, double onsetSeconds = 0, double rampSeconds = 0)
    {
        Type = type;
        MaxSeverity = maxSeverity;
        OnsetSeconds = onsetSeconds;
        RampSeconds = rampSeconds;
    }

    public FaultType Type { get; init; }

    /// <summary>Signal time (seconds from sample 0) at which the fault appears.</summary>
    public double OnsetSeconds { get; init; }

    /// <summary>Seconds from onset to <see cref="MaxSeverity"/>; 0 = a step.</summary>
    public double RampSeconds { get; init; }

    /// <summary>Severity reached at the end of the ramp (0 = absent, 1 = developed fault).</summary>
    public double MaxSeverity { get; init; } = 1.0;

    /// <summary>Severity at signal time <paramref name="seconds"/>.</summary>
    public double SeverityAt(double seconds)
    {
        if (seconds < OnsetSeconds)
        {
            return 0;
        }

        if (RampSeconds <= 0)
        {
            return MaxSeverity;
        }

        var progress = (seconds - OnsetSeconds) / RampSeconds;
        return progress >= 1 ? MaxSeverity : progress * MaxSeverity;
    }

    /// <summary>The first problem, or null.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Type))
        {
            return $"fault type '{Type}' is not one of {string.Join(", ", Enum.GetNames<FaultType>())}";
        }

        if (!(OnsetSeconds >= 0) || !double.IsFinite(OnsetSeconds))
        {
            return $"fault {Type}: OnsetSeconds must be zero or positive (was {OnsetSeconds})";
        }

        if (!(RampSeconds >= 0) || !double.IsFinite(RampSeconds))
        {
            return $"fault {Type}: RampSeconds must be zero or positive (was {RampSeconds})";
        }

        if (!(MaxSeverity >= 0) || !double.IsFinite(MaxSeverity) || MaxSeverity > 10)
        {
            return $"fault {Type}: MaxSeverity must be in [0, 10] (was {MaxSeverity})";
        }

        return null;
    }
}

/// <summary>
/// Configuration of a <see cref="MachineSignalGenerator"/>: one accelerometer (unit g) on a
/// bearing housing of a machine running at constant speed. The defaults give a healthy machine of
/// about 0.06 g RMS, the order of the CWRU normal-baseline record.
/// </summary>
public sealed record MachineSignalOptions
{
    /// <summary>The catalogue bearing used when none is given (the CWRU drive-end bearing).</summary>
    public const string DefaultBearingName = "SKF 6205-2RS JEM";

    public double SampleRateHz { get; init; } = 25600;

    /// <summary>Shaft speed in Hz (1796 rpm ≈ 29.93 Hz, as the CWRU rig at 0 hp).</summary>
    public double ShaftHz { get; init; } = 1796 / 60.0;

    public BearingGeometry Bearing { get; init; } = BearingCatalog.Get(DefaultBearingName);

    /// <summary>Seed of every random stream (noise, slip, phases): equal seeds give equal signals.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Residual-imbalance 1× amplitude of a healthy machine, g peak.</summary>
    public double OneXAmplitudeG { get; init; } = 0.03;

    /// <summary>2× amplitude of a healthy machine, g peak.</summary>
    public double TwoXAmplitudeG { get; init; } = 0.012;

    /// <summary>Broadband (sensor and process) Gaussian noise, g RMS.</summary>
    public double NoiseRmsG { get; init; } = 0.04;

    /// <summary>Structural resonance the bearing impacts ring (housing/sensor mount), Hz.</summary>
    public double ResonanceHz { get; init; } = 3500;

    /// <summary>Damping ratio ζ of the resonance (decay time 1 / (ζ·2π·f)).</summary>
    public double ResonanceDampingRatio { get; init; } = 0.03;

    /// <summary>Response of the resonance to random (friction, flow) excitation, g RMS.</summary>
    public double ResonanceNoiseRmsG { get; init; } = 0.03;

    /// <summary>Random slip: standard deviation of each impact interval as a fraction of the mean (0.01–0.02 is typical).</summary>
    public double SlipFraction { get; init; } = 0.015;

    public IReadOnlyList<MachineFault> Faults { get; init; } = [];

    /// <summary>Defect orders of <see cref="Bearing"/>.</summary>
    public BearingOrders BearingOrders => BearingOrders.FromGeometry(Bearing);

    /// <summary>The first problem (naming the property and the allowed range), or null.</summary>
    public string? Validate()
    {
        if (!(SampleRateHz >= 100) || !double.IsFinite(SampleRateHz) || SampleRateHz > 1_000_000)
        {
            return $"SampleRateHz must be in [100, 1000000] (was {SampleRateHz})";
        }

        if (!(ShaftHz > 0) || !(ShaftHz * 10 < SampleRateHz / 2))
        {
            return $"ShaftHz must be positive and its 10th harmonic below Nyquist ({SampleRateHz / 20} Hz) (was {ShaftHz})";
        }

        if (Bearing is null)
        {
            return "Bearing is required";
        }

        if (Bearing.Validate() is { } bearingProblem)
        {
            return bearingProblem;
        }

        foreach (var (name, value) in new[] { (nameof(OneXAmplitudeG), OneXAmplitudeG), (nameof(TwoXAmplitudeG), TwoXAmplitudeG), (nameof(NoiseRmsG), NoiseRmsG), (nameof(ResonanceNoiseRmsG), ResonanceNoiseRmsG) })
        {
            if (!(value >= 0) || !double.IsFinite(value))
            {
                return $"{name} must be zero or positive (was {value})";
            }
        }

        if (!(ResonanceHz > 0) || !(ResonanceHz < 0.45 * SampleRateHz))
        {
            return $"ResonanceHz must be in (0, 0.45 × SampleRateHz = {0.45 * SampleRateHz}) (was {ResonanceHz})";
        }

        if (!(ResonanceDampingRatio > 0) || !(ResonanceDampingRatio <= 0.5))
        {
            return $"ResonanceDampingRatio must be in (0, 0.5] (was {ResonanceDampingRatio})";
        }

        if (!(SlipFraction >= 0) || !(SlipFraction <= 0.1))
        {
            return $"SlipFraction must be in [0, 0.1] (was {SlipFraction})";
        }

        if (Faults is null)
        {
            return "Faults must not be null (use an empty list)";
        }

        foreach (var fault in Faults)
        {
            if (fault is null)
            {
                return "Faults must not contain null";
            }

            if (fault.Validate() is { } problem)
            {
                return problem;
            }
        }

        return null;
    }
}
