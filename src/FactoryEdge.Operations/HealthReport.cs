namespace FactoryEdge.Operations;

/// <summary>What /healthz and /readyz answer, and what the watchdog acts on.</summary>
/// <param name="Status">starting, ready, degraded, stalled, restarting, failed, stopping.</param>
/// <param name="Alive">The pipeline's threads loop (watchdog pings, /healthz 200).</param>
/// <param name="Ready">Every source delivers, or the gateway knows which do not and says so (degraded) (/readyz 200).</param>
/// <param name="Reason">Why the status is not ready (null when ready).</param>
/// <param name="LivenessAgeSeconds">Seconds since the slowest pipeline thread last looped (null: no pipeline).</param>
/// <param name="Generation">0 at start, +1 per in-process restart after a configuration change.</param>
/// <param name="Windows">Windows through the pipeline since it started.</param>
/// <param name="Sources">Each configured source.</param>
public sealed record HealthReport(
    string Status,
    bool Alive,
    bool Ready,
    string? Reason,
    double? LivenessAgeSeconds,
    int Generation,
    long Windows,
    IReadOnlyList<SourceHealth> Sources)
{
    public static HealthReport Starting { get; } = new("starting", true, false, "the pipeline has not started yet", null, 0, 0, []);
}

/// <summary>One source: up (some channel delivered within the stale time), starting (not yet, within the start-up grace) or down.</summary>
public sealed record SourceHealth(string Name, string State, int Channels, int ChannelsUp, double? LastSampleAgeSeconds);
