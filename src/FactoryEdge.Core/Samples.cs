namespace FactoryEdge.Core;

/// <summary>Quality of samples as reported by the source (OPC UA status class, Modbus read result).</summary>
public enum SampleQuality : byte
{
    Good = 0,
    Uncertain = 1,
    Bad = 2,
}

/// <summary>How far the source's timestamps can be trusted.</summary>
public enum ClockQuality : byte
{
    /// <summary>Source (device) time, or a host clock known to be synchronised.</summary>
    Synchronized = 0,
    /// <summary>Stamped at receipt with a host clock whose synchronisation is unknown or absent.</summary>
    Unsynchronized = 1,
    /// <summary>Recording replay: times are offsets from the start of the recording.</summary>
    Relative = 2,
}

/// <summary>
/// A contiguous block of samples from one channel. <see cref="FirstSampleIndex"/> is the running
/// sample index (sequence) of the first sample: the next block is contiguous when its first index is
/// this one plus <see cref="Samples"/>.Length; anything else is a gap. The source time is the time of
/// the first sample in UTC ticks.
/// </summary>
public readonly ref struct SampleBlock
{
    public SampleBlock(ReadOnlySpan<float> samples, long firstSampleIndex, long sourceTimestampTicks, SampleQuality quality = SampleQuality.Good, ClockQuality clock = ClockQuality.Synchronized)
    {
        Samples = samples;
        FirstSampleIndex = firstSampleIndex;
        SourceTimestampTicks = sourceTimestampTicks;
        Quality = quality;
        Clock = clock;
    }

    public ReadOnlySpan<float> Samples { get; }

    public long FirstSampleIndex { get; }

    public long SourceTimestampTicks { get; }

    public SampleQuality Quality { get; }

    public ClockQuality Clock { get; }
}

/// <summary>What a channel delivers.</summary>
public enum ChannelKind
{
    /// <summary>A sampled vibration signal, cut into windows and analysed.</summary>
    Waveform = 0,

    /// <summary>
    /// One value per reading (overall RMS, temperature, speed, a state) at the poll rate. Not windowed:
    /// the pipeline keeps the latest value, and a speed channel (rpm or Hz) is the tachometer of the
    /// waveform channels of its machine.
    /// </summary>
    Scalar = 1,
}

/// <summary>Static description of a channel: identity, rate, unit and the machine data the features need.</summary>
public sealed record ChannelDescriptor
{
    public required ChannelId Id { get; init; }

    public ChannelKind Kind { get; init; } = ChannelKind.Waveform;

    /// <summary>Samples per second (for a scalar channel: readings per second).</summary>
    public required double SampleRateHz { get; init; }

    public SignalUnit Unit { get; init; } = SignalUnit.G;

    /// <summary>Nominal shaft speed (Hz) the 1× search starts from; 0 when unknown.</summary>
    public double NominalShaftHz { get; init; }

    /// <summary>Bearing at this measurement point, if known: enables the defect-frequency features.</summary>
    public BearingGeometry? Bearing { get; init; }

    public IsoMachineGroup MachineGroup { get; init; } = IsoMachineGroup.Group2;

    public IsoSupport Support { get; init; } = IsoSupport.Rigid;

    /// <summary>Full-scale range of the sensor in its unit (0 = unknown); drives the clipping check.</summary>
    public double FullScale { get; init; }
}
