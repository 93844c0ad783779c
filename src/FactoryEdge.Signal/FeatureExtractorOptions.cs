using System.Numerics;
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

    /// <summary>New samples per window (window size × (1 − overlap)), in [1, WindowSize].</summary>
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

    /// <summary>Band-pass for envelope demodulation; default chosen from the sample rate when null (see <see cref="DefaultEnvelopeBand"/>).</summary>
    public FrequencyBand? EnvelopeBand { get; init; }

    /// <summary>Seconds of envelope history analysed for the envelope spectrum (resolution ≈ 1/seconds).</summary>
    public double EnvelopeSeconds { get; init; } = 1.0;

    /// <summary>
    /// Highest envelope-spectrum frequency analysed (Hz); 0 = automatic: 1000 Hz, or 3 × the highest
    /// bearing defect frequency at nominal speed when that is more.
    /// </summary>
    public double EnvelopeSpectrumMaxHz { get; init; }

    /// <summary>Seconds of signal integrated for velocity RMS (≥ 1); the same history serves speed tracking and orders.</summary>
    public double VelocitySeconds { get; init; } = 1.0;

    /// <summary>Band of the velocity RMS: 10–1000 Hz per ISO 20816-3 (use 2–1000 Hz for machines of 120–600 rpm).</summary>
    public FrequencyBand VelocityBand { get; init; } = new(10, 1000);

    /// <summary>
    /// The long-history spectra (speed, orders, velocity, envelope) are recomputed once this much new
    /// signal has arrived; between updates their features repeat. 0 = every window.
    /// </summary>
    public double LongSpectrumUpdateSeconds { get; init; } = 0.25;

    /// <summary>
    /// Phase (0–1) of this channel's long-spectrum updates within <see cref="LongSpectrumUpdateSeconds"/>;
    /// the pipeline spreads its channels over the period so their updates do not coincide.
    /// </summary>
    public double LongSpectrumPhase { get; init; }

    public IsoMachineGroup MachineGroup { get; init; } = IsoMachineGroup.Group2;

    public IsoSupport Support { get; init; } = IsoSupport.Rigid;

    /// <summary>
    /// Band search for incipient bearing faults (<c>env_*_prom</c>, <c>env_band_hz</c>, <c>env_sk*</c>):
    /// needs a bearing and a nominal speed; false skips it (those features read 0).
    /// </summary>
    public bool BandSearch { get; init; } = true;

    /// <summary>Relative tolerance for matching defect lines (slip).</summary>
    public double DefectTolerance { get; init; } = 0.02;

    public static IReadOnlyList<FrequencyBand> DefaultBands { get; } =
    [
        new(10, 100), new(100, 500), new(500, 1000), new(1000, 2000), new(2000, 5000), new(5000, 10000),
    ];

    /// <summary>
    /// Default envelope band for a sample rate: up to fs/2.56 (the usable bandwidth of an acquisition
    /// sampled at 2.56× its maximum frequency), from fs/24 but at least 1 kHz (far above shaft harmonics
    /// and the defect lines themselves): 2–18.75 kHz at 48 kHz, 1.07–10 kHz at 25.6 kHz, 1–5 kHz at
    /// 12.8 kHz. The band spans the structural and sensor-mount resonances that rolling-element impacts
    /// ring. Slow acquisitions (below 6.4 kHz) keep the upper 60 % of their bandwidth.
    /// </summary>
    public static FrequencyBand DefaultEnvelopeBand(double sampleRateHz)
    {
        var high = sampleRateHz / 2.56;
        return new(Math.Max(Math.Min(1000.0, 0.4 * high), sampleRateHz / 24.0), high);
    }

    /// <summary>The envelope band in force (configured or default).</summary>
    public FrequencyBand EffectiveEnvelopeBand => EnvelopeBand ?? DefaultEnvelopeBand(SampleRateHz);

    /// <summary>Checks the options and returns the first problem (naming the option), or null.</summary>
    public string? Validate()
    {
        if (WindowSize < 1024 || WindowSize > 65536 || !BitOperations.IsPow2(WindowSize))
        {
            return $"WindowSize must be a power of two in [1024, 65536] (was {WindowSize})";
        }

        if (Hop < 1 || Hop > WindowSize)
        {
            return $"Hop must be in [1, WindowSize={WindowSize}] (was {Hop})";
        }

        if (!(SampleRateHz >= 256 && SampleRateHz <= 1_000_000))
        {
            return $"SampleRateHz must be in [256, 1000000] (was {SampleRateHz})";
        }

        if (Bands is null)
        {
            return "Bands must not be null";
        }

        foreach (var band in Bands)
        {
            if (!(band.LowHz >= 0 && band.HighHz > band.LowHz))
            {
                return $"Bands: each band needs 0 ≤ LowHz < HighHz (was {band.LowHz}–{band.HighHz})";
            }
        }

        if (!(NominalShaftHz >= 0 && NominalShaftHz < SampleRateHz / 4))
        {
            return $"NominalShaftHz must be in [0, SampleRateHz/4) (was {NominalShaftHz})";
        }

        if (!(SpeedSearchFraction > 0 && SpeedSearchFraction <= 0.3))
        {
            return $"SpeedSearchFraction must be in (0, 0.3] (was {SpeedSearchFraction})";
        }

        if (Bearing?.Validate() is { } bearingProblem)
        {
            return "Bearing: " + bearingProblem;
        }

        var envelope = EffectiveEnvelopeBand;
        if (!(envelope.LowHz > 0 && envelope.HighHz > envelope.LowHz && envelope.HighHz <= SampleRateHz / 2))
        {
            return $"EnvelopeBand needs 0 < LowHz < HighHz ≤ SampleRateHz/2 (was {envelope.LowHz}–{envelope.HighHz})";
        }

        if (!(EnvelopeSeconds >= 0.25 && EnvelopeSeconds <= 60))
        {
            return $"EnvelopeSeconds must be in [0.25, 60] (was {EnvelopeSeconds})";
        }

        if (!(EnvelopeSpectrumMaxHz == 0 || (EnvelopeSpectrumMaxHz >= 50 && EnvelopeSpectrumMaxHz <= envelope.HighHz - envelope.LowHz)))
        {
            return $"EnvelopeSpectrumMaxHz must be 0 (automatic) or in [50, envelope band width] (was {EnvelopeSpectrumMaxHz})";
        }

        if (!(VelocitySeconds >= 1 && VelocitySeconds <= 60))
        {
            return $"VelocitySeconds must be in [1, 60] (was {VelocitySeconds})";
        }

        if (!(VelocityBand.LowHz > 0 && VelocityBand.HighHz > VelocityBand.LowHz))
        {
            return $"VelocityBand needs 0 < LowHz < HighHz (was {VelocityBand.LowHz}–{VelocityBand.HighHz})";
        }

        if (!(LongSpectrumUpdateSeconds >= 0 && LongSpectrumUpdateSeconds <= 60))
        {
            return $"LongSpectrumUpdateSeconds must be in [0, 60] (was {LongSpectrumUpdateSeconds})";
        }

        if (!(DefectTolerance > 0 && DefectTolerance <= 0.1))
        {
            return $"DefectTolerance must be in (0, 0.1] (was {DefectTolerance})";
        }

        return null;
    }

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
