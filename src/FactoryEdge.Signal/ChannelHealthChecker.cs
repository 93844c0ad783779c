using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>
/// Finds sensor faults in a window: flat line, clipping/saturation, ski-slope, NaN/Inf, implausible
/// levels. PLACEHOLDER: only NaN/Inf; the real implementation replaces this file, surface stays.
/// </summary>
public sealed class ChannelHealthChecker
{
    public ChannelHealthChecker(ChannelDescriptor channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        Channel = channel;
    }

    public ChannelDescriptor Channel { get; }

    /// <summary>Checks a window (raw samples in the channel's unit).</summary>
    public ChannelHealthFlags Check(ReadOnlySpan<float> window)
    {
        foreach (var v in window)
        {
            if (!float.IsFinite(v))
            {
                return ChannelHealthFlags.NonFinite;
            }
        }

        return ChannelHealthFlags.None;
    }
}
