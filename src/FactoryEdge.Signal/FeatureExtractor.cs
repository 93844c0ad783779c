namespace FactoryEdge.Signal;

/// <summary>
/// Computes the feature vector of one channel, window after window. Stateful (envelope and velocity
/// history span several windows): one instance per channel, used from one thread at a time.
/// PLACEHOLDER: the real implementation replaces this file; the public surface stays.
/// </summary>
public sealed class FeatureExtractor
{
    private readonly string[] _names;

    public FeatureExtractor(FeatureExtractorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _names = FeatureSchema.Names(options.Bands);
    }

    public FeatureExtractorOptions Options { get; }

    /// <summary>Feature names in output order (see <see cref="FeatureSchema"/>).</summary>
    public IReadOnlyList<string> FeatureNames => _names;

    public int FeatureCount => _names.Length;

    /// <summary>
    /// Computes the features of <paramref name="window"/> (exactly <see cref="FeatureExtractorOptions.WindowSize"/>
    /// samples in the channel's unit) into <paramref name="destination"/>. The last
    /// <see cref="FeatureExtractorOptions.Hop"/> samples are the new ones since the previous call.
    /// <paramref name="externalSpeedHz"/> (tachometer) overrides speed tracking when given.
    /// </summary>
    public void Extract(ReadOnlySpan<float> window, Span<float> destination, double externalSpeedHz = double.NaN)
    {
        double sum = 0;
        foreach (var v in window)
        {
            sum += (double)v * v;
        }

        destination.Clear();
        destination[FeatureSchema.Rms] = (float)Math.Sqrt(sum / window.Length);
        _ = externalSpeedHz;
    }

    /// <summary>Forgets history (after a gap).</summary>
    public void Reset()
    {
    }
}
