using FactoryEdge.Core;

namespace FactoryEdge.Recordings;

/// <summary>
/// Overrides applied while reading a recording. Each one, when set, wins over what the file says.
/// WAV files carry no unit or scale, so these are how a WAV gets its physical meaning.
/// </summary>
public sealed record RecordingReadOptions
{
    public static RecordingReadOptions Default { get; } = new();

    /// <summary>Sample rate in Hz (overrides the CSV header or the WAV fmt chunk).</summary>
    public double? SampleRateHz { get; init; }

    /// <summary>Unit of the samples (CSV <c>units=</c>; WAV default is g).</summary>
    public SignalUnit? Unit { get; init; }

    /// <summary>
    /// Multiplier applied to every sample after decoding. Integer PCM decodes to [-1, 1), so the
    /// scale is the value of full scale in <see cref="Unit"/> (e.g. 50 for a ±50 g recorder).
    /// </summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>Sensor name (CSV <c>sensor=</c>; otherwise the file name without extension).</summary>
    public string? SensorName { get; init; }

    /// <summary>Axis name per channel (default: CSV <c>axis=</c> or "x"; WAV the channel index 0, 1, …).</summary>
    public IReadOnlyList<string>? ChannelAxes { get; init; }

    /// <summary>Nominal shaft speed in Hz (CSV <c>rpm_measured</c>/60).</summary>
    public double? NominalShaftHz { get; init; }

    /// <summary>Bearing geometry (CSV <c>bearing=</c> resolved through the catalogue).</summary>
    public BearingGeometry? Bearing { get; init; }

    /// <summary>Time of the first sample (CSV <c>start_time=</c>).</summary>
    public DateTimeOffset? StartTime { get; init; }

    internal void Validate()
    {
        if (SampleRateHz is { } rate && (!(rate > 0) || !double.IsFinite(rate)))
        {
            throw new ArgumentException($"RecordingReadOptions.SampleRateHz must be a positive number (was {rate}).");
        }

        if (!double.IsFinite(Scale) || Scale == 0)
        {
            throw new ArgumentException($"RecordingReadOptions.Scale must be a finite non-zero number (was {Scale}).");
        }

        if (NominalShaftHz is { } shaft && (!(shaft >= 0) || !double.IsFinite(shaft)))
        {
            throw new ArgumentException($"RecordingReadOptions.NominalShaftHz must be zero or positive (was {shaft}).");
        }
    }
}
