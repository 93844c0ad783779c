using FactoryEdge.Core;

namespace FactoryEdge.Recordings;

/// <summary>
/// One channel of a <see cref="Recording"/>: its name (the sensor), axis, unit and samples.
/// </summary>
public sealed class RecordingChannel
{
    /// <param name="name">Sensor name (becomes <see cref="ChannelId.Sensor"/>).</param>
    /// <param name="axis">Axis (becomes <see cref="ChannelId.Axis"/>), e.g. "x" or the WAV channel index.</param>
    /// <param name="unit">Physical unit of the samples.</param>
    /// <param name="samples">The samples, in <paramref name="unit"/>.</param>
    /// <param name="fullScale">Full-scale range in <paramref name="unit"/> when the format has one (integer PCM), else 0.</param>
    public RecordingChannel(string name, string axis, SignalUnit unit, ReadOnlyMemory<float> samples, double fullScale = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(axis);
        Name = name;
        Axis = axis;
        Unit = unit;
        Samples = samples;
        FullScale = fullScale;
        NonFiniteCount = CountNonFinite(samples.Span);
    }

    public string Name { get; }

    public string Axis { get; }

    public SignalUnit Unit { get; }

    public ReadOnlyMemory<float> Samples { get; }

    /// <summary>Full-scale range in <see cref="Unit"/> (integer PCM WAV), or 0 when the format has none.</summary>
    public double FullScale { get; }

    /// <summary>
    /// Number of NaN or infinite samples. They are loaded as they are (not an error) so that the
    /// pipeline's channel health reports them.
    /// </summary>
    public int NonFiniteCount { get; }

    private static int CountNonFinite(ReadOnlySpan<float> samples)
    {
        var count = 0;
        foreach (var v in samples)
        {
            if (!float.IsFinite(v))
            {
                count++;
            }
        }

        return count;
    }
}

/// <summary>
/// A loaded recording: sample rate, metadata and one or more channels of equal length. Produced by
/// <see cref="RecordingReader"/>; replayed by <see cref="RecordingSource"/>.
/// </summary>
public sealed class Recording
{
    public Recording(string name, double sampleRateHz, IReadOnlyList<RecordingChannel> channels, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(channels);
        if (!(sampleRateHz > 0) || !double.IsFinite(sampleRateHz))
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRateHz), sampleRateHz, "The sample rate must be a positive number.");
        }

        if (channels.Count == 0)
        {
            throw new ArgumentException("A recording needs at least one channel.", nameof(channels));
        }

        var length = channels[0].Samples.Length;
        foreach (var channel in channels)
        {
            ArgumentNullException.ThrowIfNull(channel, nameof(channels));
            if (channel.Samples.Length != length)
            {
                throw new ArgumentException($"All channels must have the same length ({channels[0].Name}: {length}, {channel.Name}: {channel.Samples.Length}).", nameof(channels));
            }
        }

        if (length == 0)
        {
            throw new ArgumentException("A recording needs at least one sample.", nameof(channels));
        }

        Name = name;
        SampleRateHz = sampleRateHz;
        Channels = channels;
        Metadata = metadata ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Where it came from (file path or a given name).</summary>
    public string Name { get; }

    public double SampleRateHz { get; }

    public IReadOnlyList<RecordingChannel> Channels { get; }

    /// <summary>The header's key=value pairs (CSV) or the format facts (WAV); keys ignore case.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Nominal shaft speed in Hz (CSV <c>rpm_measured</c>/60), 0 when unknown.</summary>
    public double NominalShaftHz { get; init; }

    /// <summary>Bearing geometry when the <c>bearing=</c> name is in the catalogue (or given).</summary>
    public BearingGeometry? Bearing { get; init; }

    /// <summary>Time of the first sample, when the file (<c>start_time=</c>) or the options give it.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Samples per channel.</summary>
    public int SampleCount => Channels[0].Samples.Length;

    public TimeSpan Duration => SampleClock.At(SampleCount, SampleRateHz);

    /// <summary>The metadata value for <paramref name="key"/>, or null.</summary>
    public string? GetMetadata(string key) => Metadata.TryGetValue(key, out var value) ? value : null;

    /// <summary>
    /// Builds one pipeline channel per recording channel: sensor = the channel's name (the
    /// recording's sensor name), axis = the channel's axis, with the recording's rate, unit, nominal
    /// shaft speed and bearing. '/' in names (the id separator) becomes '-'.
    /// </summary>
    public IReadOnlyList<ChannelDescriptor> ToChannelDescriptors(string site, string line, string machine)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(site);
        ArgumentException.ThrowIfNullOrWhiteSpace(line);
        ArgumentException.ThrowIfNullOrWhiteSpace(machine);
        var result = new ChannelDescriptor[Channels.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var channel = Channels[i];
            result[i] = new ChannelDescriptor
            {
                Id = new ChannelId(site, line, machine, IdPart(channel.Name), IdPart(channel.Axis)),
                SampleRateHz = SampleRateHz,
                Unit = channel.Unit,
                NominalShaftHz = NominalShaftHz,
                Bearing = Bearing,
                FullScale = channel.FullScale,
            };
        }

        return result;
    }

    private static string IdPart(string text) => text.Trim().Replace('/', '-');
}
