using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>Window function applied before the spectrum.</summary>
public enum WindowFunction
{
    Hann,
    FlatTop,
    Rectangular,
}

/// <summary>A frequency band whose spectral energy is a feature.</summary>
public readonly record struct FrequencyBand(double LowHz, double HighHz);

/// <summary>Everything a <see cref="FeatureExtractor"/> needs for one channel.</summary>
public sealed record FeatureExtractorOptions
{
    /// <summary>Samples per window; a power of two in [1024, 65536].</summary>
    public int WindowSize { get; init; } = 4096;

    /// <summary>New samples per window (window size × (1 − overlap)).</summary>
    public int Hop { get; init; } = 2048;

    public required double SampleRateHz { get; init; }

    public SignalUnit Unit { get; init; } = SignalUnit.G;

    public WindowFunction Window { get; init; } = WindowFunction.Hann;

    /// <summary>Bands whose energy becomes a feature each (names band_LO_HI_hz).</summary>
    public IReadOnlyList<FrequencyBand> Bands { get; init; } = DefaultBands;

    /// <summary>Nominal shaft speed in Hz; the 1× search looks within ±<see cref="SpeedSearchFraction"/> of it. 0 = unknown.</summary>
    public double NominalShaftHz { get; init; }

    public double SpeedSearchFraction { get; init; } = 0.1;

    public BearingGeometry? Bearing { get; init; }

    /// <summary>Band-pass for envelope demodulation; default chosen from the sample rate when null.</summary>
    public FrequencyBand? EnvelopeBand { get; init; }

    /// <summary>Seconds of envelope history analysed for the envelope spectrum (resolution ≈ 1/seconds).</summary>
    public double EnvelopeSeconds { get; init; } = 1.0;

    /// <summary>Seconds of signal integrated for velocity RMS (≥ 1).</summary>
    public double VelocitySeconds { get; init; } = 1.0;

    public IsoMachineGroup MachineGroup { get; init; } = IsoMachineGroup.Group2;

    public IsoSupport Support { get; init; } = IsoSupport.Rigid;

    /// <summary>Relative tolerance for matching defect lines (slip).</summary>
    public double DefectTolerance { get; init; } = 0.02;

    public static IReadOnlyList<FrequencyBand> DefaultBands { get; } =
    [
        new(10, 100), new(100, 500), new(500, 1000), new(1000, 2000), new(2000, 5000), new(5000, 10000),
    ];

    /// <summary>Builds the options for a channel.</summary>
    public static FeatureExtractorOptions For(ChannelDescriptor channel, int windowSize, int hop)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return new FeatureExtractorOptions
        {
            WindowSize = windowSize,
            Hop = hop,
            SampleRateHz = channel.SampleRateHz,
            Unit = channel.Unit,
            NominalShaftHz = channel.NominalShaftHz,
            Bearing = channel.Bearing,
            MachineGroup = channel.MachineGroup,
            Support = channel.Support,
        };
    }
}
