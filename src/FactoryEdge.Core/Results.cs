namespace FactoryEdge.Core;

/// <summary>
/// The timestamps a window collects on its way through the pipeline. Source time is UTC ticks of the
/// window's first sample (anchored to the sample index); the others are <see cref="System.Diagnostics.Stopwatch"/>
/// ticks so that latencies are measured on one monotonic clock.
/// </summary>
public struct WindowTimestamps
{
    /// <summary>UTC ticks of the window's first sample, from the source's clock and the sample index.</summary>
    public long SourceStartTicks;

    /// <summary>Stopwatch ticks when the newest sample of the window was received from the source.</summary>
    public long ReceivedTicks;

    /// <summary>Stopwatch ticks when the window was complete in the assembler.</summary>
    public long CompleteTicks;

    /// <summary>Stopwatch ticks when features were computed.</summary>
    public long FeaturesDoneTicks;

    /// <summary>Stopwatch ticks when the window was scored.</summary>
    public long ScoredTicks;

    /// <summary>Stopwatch ticks when the alert (if any) was handed to the notifiers.</summary>
    public long AlertDispatchedTicks;
}

/// <summary>
/// The outcome of one analysed window: what the features were, how anomalous, and what the channel
/// looked like. Instances are pooled by the pipeline; sinks copy what they keep.
/// </summary>
public sealed class WindowResult
{
    public WindowResult(int featureCount)
    {
        Features = new float[featureCount];
    }

    /// <summary>Index of the channel in the pipeline's channel table.</summary>
    public int ChannelIndex { get; set; }

    public ChannelId Channel { get; set; } = null!;

    /// <summary>Running sample index of the window's first sample.</summary>
    public long FirstSampleIndex { get; set; }

    /// <summary>Number of samples in the window.</summary>
    public int WindowSize { get; set; }

    public double SampleRateHz { get; set; }

    /// <summary>Window number on this channel since the pipeline started.</summary>
    public long WindowNumber { get; set; }

    /// <summary>Feature values in the order of the pipeline's feature schema.</summary>
    public float[] Features { get; }

    public ChannelHealthFlags Health { get; set; }

    public MachineState MachineState { get; set; }

    public ClockQuality Clock { get; set; }

    /// <summary>Anomaly score; NaN when the window was not scored (health, stopped machine, warm-up).</summary>
    public float Score { get; set; } = float.NaN;

    /// <summary>Threshold the score is compared with.</summary>
    public float Threshold { get; set; } = float.NaN;

    /// <summary>True when the score is over the threshold.</summary>
    public bool Anomalous { get; set; }

    /// <summary>True when the scorer was still learning (warm-up) for this channel.</summary>
    public bool WarmingUp { get; set; }

    public WindowTimestamps Timestamps;

    /// <summary>Source time of the window start as UTC ticks.</summary>
    public DateTimeOffset SourceStart => new(Timestamps.SourceStartTicks, TimeSpan.Zero);

    /// <summary>Copies everything into <paramref name="target"/> (which must have the same feature count).</summary>
    public void CopyTo(WindowResult target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.ChannelIndex = ChannelIndex;
        target.Channel = Channel;
        target.FirstSampleIndex = FirstSampleIndex;
        target.WindowSize = WindowSize;
        target.SampleRateHz = SampleRateHz;
        target.WindowNumber = WindowNumber;
        Features.AsSpan().CopyTo(target.Features);
        target.Health = Health;
        target.MachineState = MachineState;
        target.Clock = Clock;
        target.Score = Score;
        target.Threshold = Threshold;
        target.Anomalous = Anomalous;
        target.WarmingUp = WarmingUp;
        target.Timestamps = Timestamps;
    }
}

public enum AlertSeverity
{
    Warning = 1,
    Alarm = 2,
    Critical = 3,
}

public enum AlertState
{
    Raised = 1,
    Escalated = 2,
    Cleared = 3,
}

/// <summary>
/// A machine alert. <see cref="AlertId"/> is stable across resends (derived from the channel and
/// the source time of the window that raised it), so downstream consumers can deduplicate.
/// </summary>
public sealed record Alert
{
    public required string AlertId { get; init; }

    public required ChannelId Channel { get; init; }

    public required AlertState State { get; init; }

    public required AlertSeverity Severity { get; init; }

    /// <summary>Source time of the window that raised (or changed) the alert.</summary>
    public required DateTimeOffset SourceTime { get; init; }

    public required float Score { get; init; }

    public required float Threshold { get; init; }

    public required string ModelId { get; init; }

    /// <summary>Short human text: what and where.</summary>
    public required string Message { get; init; }

    /// <summary>The features that contributed most, name and value.</summary>
    public IReadOnlyList<KeyValuePair<string, float>> TopFeatures { get; init; } = [];

    /// <summary>Latency of the raising window, window complete → dispatched, in microseconds.</summary>
    public double ProcessingLatencyMicroseconds { get; init; }

    /// <summary>Why: the features that drove the score and the matched defect, when the scorer can tell.</summary>
    public AlertExplanation? Explanation { get; init; }

    /// <summary>ISO 20816-3 zone of the raising window's velocity RMS (<see cref="IsoZone.None"/> when not evaluated).</summary>
    public IsoZone IsoZone { get; init; }

    /// <summary>Wall-clock time the raising window was complete in the assembler (null when not known).</summary>
    public DateTimeOffset? WindowCompleteTime { get; init; }

    /// <summary>Wall-clock time the raising window was scored (null when not known).</summary>
    public DateTimeOffset? ScoredTime { get; init; }

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch"/> ticks when the raising window was complete (0 when not known).
    /// In-process only (latency measurements); not part of the payload.
    /// </summary>
    public long WindowCompleteTimestamp { get; init; }
}

/// <summary>
/// What drove an alert: the features furthest from the machine's normal (in deviations of normal),
/// and the bearing or shaft defect they point to with its matched frequency, if any.
/// </summary>
/// <param name="Summary">One line for people, e.g. "outer race (BPFO line at 106.4 Hz); env_bpfo +18σ, kurtosis +9σ".</param>
/// <param name="Drivers">Feature name and deviation from normal (σ of the normal data), largest first.</param>
/// <param name="Defect">outer race, inner race, ball, imbalance, misalignment, looseness; null when none stands out.</param>
/// <param name="DefectFrequencyHz">The matched defect line (envelope line or shaft order), if any.</param>
public sealed record AlertExplanation(string Summary, IReadOnlyList<KeyValuePair<string, double>> Drivers, string? Defect, double? DefectFrequencyHz);
