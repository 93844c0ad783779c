namespace FactoryEdge.Recordings;

/// <summary>How fast a <see cref="RecordingSource"/> replays.</summary>
public enum ReplayPacing
{
    /// <summary>
    /// As fast as the pipeline takes it: <see cref="Core.IChannelWriter.Write"/> waits for room,
    /// so nothing is lost (analysis of a file, tests, benchmarks).
    /// </summary>
    AsFastAsPossible,

    /// <summary>
    /// At the recording's own rate (a block is written once its last sample "has happened"), with
    /// <see cref="Core.IChannelWriter.TryWrite"/>: a full pipeline drops blocks (counted), as a live sensor would.
    /// </summary>
    RealTime,

    /// <summary>Like <see cref="RealTime"/>, <see cref="RecordingSourceOptions.SpeedFactor"/> times faster.</summary>
    Speed,
}

/// <summary>Options of <see cref="RecordingSource"/>.</summary>
public sealed record RecordingSourceOptions
{
    public static RecordingSourceOptions Default { get; } = new();

    /// <summary>Source name (default "recording:" + file name).</summary>
    public string? Name { get; init; }

    /// <summary>Samples per block written to the pipeline.</summary>
    public int BlockSize { get; init; } = 1024;

    public ReplayPacing Pacing { get; init; } = ReplayPacing.AsFastAsPossible;

    /// <summary>Speed-up for <see cref="ReplayPacing.Speed"/> (2 = twice real time). Must be positive.</summary>
    public double SpeedFactor { get; init; } = 1.0;

    /// <summary>Replays again from the start when the data ends (until cancelled). Sample indices keep increasing.</summary>
    public bool Loop { get; init; }

    /// <summary>
    /// Calls <see cref="Core.IChannelWriter.MarkGap"/> at each loop seam, so that no analysis window
    /// spans the jump from the last sample back to the first (which would look like an impact).
    /// </summary>
    public bool MarkGapAtLoopSeam { get; init; } = true;

    /// <summary>
    /// Time of sample 0. When set (or the recording has a start time) source timestamps are
    /// <see cref="Core.ClockQuality.Synchronized"/>; otherwise they count from the moment the replay
    /// starts and are marked <see cref="Core.ClockQuality.Relative"/>.
    /// </summary>
    public DateTimeOffset? StartTime { get; init; }

    internal void Validate()
    {
        if (BlockSize < 1)
        {
            throw new ArgumentException($"RecordingSourceOptions.BlockSize must be at least 1 (was {BlockSize}).");
        }

        if (!Enum.IsDefined(Pacing))
        {
            throw new ArgumentException($"RecordingSourceOptions.Pacing '{Pacing}' is not one of AsFastAsPossible, RealTime, Speed.");
        }

        if (!(SpeedFactor > 0) || !double.IsFinite(SpeedFactor))
        {
            throw new ArgumentException($"RecordingSourceOptions.SpeedFactor must be a positive number (was {SpeedFactor}).");
        }
    }
}
