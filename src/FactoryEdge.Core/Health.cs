namespace FactoryEdge.Core;

/// <summary>
/// Sensor and data problems found in a window. These describe the channel (the measurement chain),
/// never the machine: a window with any of them is excluded from scoring and training.
/// </summary>
[Flags]
public enum ChannelHealthFlags
{
    None = 0,
    /// <summary>Signal does not move (disconnected sensor, stuck ADC).</summary>
    FlatLine = 1 << 0,
    /// <summary>Samples pinned at the sensor's range or repeated extreme values.</summary>
    Clipping = 1 << 1,
    /// <summary>Low-frequency drift dominating the spectrum (ski-slope: a failing accelerometer or cable).</summary>
    SkiSlope = 1 << 2,
    /// <summary>NaN or infinite samples.</summary>
    NonFinite = 1 << 3,
    /// <summary>Levels outside what the sensor can physically deliver.</summary>
    Implausible = 1 << 4,
    /// <summary>The source reported bad quality for some samples.</summary>
    BadQuality = 1 << 5,
    /// <summary>Samples were missed before this window (sequence jump, reconnect).</summary>
    GapBefore = 1 << 6,
}

public static class ChannelHealthFlagsExtensions
{
    /// <summary>True when the flags make the window unusable for scoring and training.</summary>
    /// <remarks><see cref="ChannelHealthFlags.GapBefore"/> is informative: windows never span a gap.</remarks>
    public static bool ExcludesWindow(this ChannelHealthFlags flags) => (flags & ~ChannelHealthFlags.GapBefore) != 0;
}

/// <summary>Whether the machine is running, from speed or overall level.</summary>
public enum MachineState : byte
{
    Unknown = 0,
    Running = 1,
    Stopped = 2,
}
