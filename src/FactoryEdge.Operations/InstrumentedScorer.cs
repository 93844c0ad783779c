using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Pipeline;

namespace FactoryEdge.Operations;

/// <summary>
/// Wraps the registered scorer to time each batch (the <c>scoring latency</c> metric) and to carry the
/// test-only stall switch. Adds one Stopwatch read pair per batch; allocates nothing.
/// </summary>
internal sealed class InstrumentedScorer(IAnomalyScorer inner, PipelineStallSwitch stall) : IAnomalyScorer, IAlertExplainer
{
    public IAnomalyScorer Inner => inner;

    /// <summary>Time of each <see cref="IAnomalyScorer.Score"/> call.</summary>
    public LatencyHistogram ScoringLatency { get; } = new();

    public string ModelId => inner.ModelId;

    public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames) => inner.Initialize(channels, featureNames);

    public void Score(ScoringBatch batch)
    {
        stall.BlockIfDue();
        var start = Stopwatch.GetTimestamp();
        inner.Score(batch);
        ScoringLatency.RecordTicks(Stopwatch.GetTimestamp() - start);
    }

    public AlertExplanation? Explain(int channelIndex, ReadOnlySpan<float> features) =>
        (inner as IAlertExplainer)?.Explain(channelIndex, features);
}

/// <summary>
/// A deliberate pipeline stall, for testing the watchdog only: when armed, the scoring thread blocks
/// in its next batch after the given delay, so the pipeline's liveness stops and the sd_notify
/// watchdog pings stop. It can never be on by accident: it is read only from two environment
/// variables (never from configuration files), the delay must parse and the confirmation must be the
/// exact phrase <see cref="ConfirmPhrase"/>; when armed it logs a critical line at start. The block
/// is released when the service stops.
/// </summary>
public sealed class PipelineStallSwitch
{
    public const string DelayVariable = "FACTORYEDGE_TEST_STALL_PIPELINE_AFTER_SECONDS";
    public const string ConfirmVariable = "FACTORYEDGE_TEST_STALL_PIPELINE_CONFIRM";
    public const string ConfirmPhrase = "stall-the-pipeline-and-stop-the-watchdog";

    private readonly ManualResetEventSlim _release = new(false);
    private readonly long _dueTicks;

    public PipelineStallSwitch()
        : this(Environment.GetEnvironmentVariable(DelayVariable), Environment.GetEnvironmentVariable(ConfirmVariable))
    {
    }

    internal PipelineStallSwitch(string? delay, string? confirm)
    {
        if (string.Equals(confirm, ConfirmPhrase, StringComparison.Ordinal)
            && double.TryParse(delay, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && seconds is >= 0 and <= 86400)
        {
            IsArmed = true;
            Delay = TimeSpan.FromSeconds(seconds);
            _dueTicks = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        }
        else
        {
            // Set but not confirmed (or unparsable): reported, never armed.
            IsRequestedButRefused = !string.IsNullOrEmpty(delay) || !string.IsNullOrEmpty(confirm);
        }
    }

    public bool IsArmed { get; }

    public bool IsRequestedButRefused { get; }

    public TimeSpan Delay { get; }

    /// <summary>True once the scoring thread is blocked.</summary>
    public bool IsStalled { get; private set; }

    internal void BlockIfDue()
    {
        if (!IsArmed || Stopwatch.GetTimestamp() < _dueTicks || _release.IsSet)
        {
            return;
        }

        IsStalled = true;
        _release.Wait();
    }

    /// <summary>Lets a stalled thread go (service stopping).</summary>
    public void Release() => _release.Set();
}
