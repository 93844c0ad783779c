using System.Collections.Concurrent;
using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

internal static class Channels
{
    public static ChannelDescriptor Make(int i, double rate = 10240) => new()
    {
        Id = new ChannelId("site", "line", "m" + i, "de", "x"),
        SampleRateHz = rate,
        Unit = SignalUnit.G,
        NominalShaftHz = 25,
    };

    /// <summary>A machine-like signal: 1× sine plus a little deterministic noise, in g.</summary>
    public static float[] Signal(long firstIndex, int count, double rate, double amplitude = 0.1, int seed = 1)
    {
        var data = new float[count];
        var random = new Random(seed + (int)(firstIndex % 100_000));
        for (var i = 0; i < count; i++)
        {
            var t = (firstIndex + i) / rate;
            data[i] = (float)((amplitude * Math.Sin(2 * Math.PI * 25 * t)) + (amplitude * 0.3 * Math.Sin(2 * Math.PI * 1234 * t)) + (0.01 * (random.NextDouble() - 0.5)));
        }

        return data;
    }
}

/// <summary>Scores by a rule on the window; counts calls and batch sizes.</summary>
internal sealed class RuleScorer(Func<int, long, float> rule) : IAnomalyScorer
{
    public string ModelId => "rule";

    public int Calls { get; private set; }

    public int MaxBatch { get; private set; }

    public long FirstIndexOf(int channel) => 0;

    public Dictionary<int, long> LastFirstIndex { get; } = [];

    public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
    {
    }

    public void Score(ScoringBatch batch)
    {
        Calls++;
        MaxBatch = Math.Max(MaxBatch, batch.Count);
        for (var r = 0; r < batch.Count; r++)
        {
            batch.Scores[r] = rule(batch.ChannelIndices[r], (long)batch.Features(r)[0]);
            batch.Thresholds[r] = 1f;
        }
    }
}

internal sealed class CollectingTelemetry : ITelemetrySink
{
    public ConcurrentQueue<WindowResult> Results { get; } = new();

    public string Name => "collect";

    public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
    {
        var copy = new WindowResult(result.Features.Length);
        result.CopyTo(copy);
        Results.Enqueue(copy);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class BlockingTelemetry : ITelemetrySink
{
    public ManualResetEventSlim Gate { get; } = new(false);

    public int Count;

    public string Name => "blocking";

    public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
    {
        Gate.Wait(cancellationToken);
        Interlocked.Increment(ref Count);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class CollectingNotifier : IAlertNotifier
{
    public ConcurrentQueue<Alert> Alerts { get; } = new();

    public string Name => "collect";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        Alerts.Enqueue(alert);
        return ValueTask.CompletedTask;
    }
}

internal sealed class ThrowingNotifier : IAlertNotifier
{
    public int Calls;

    public string Name => "throws";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        throw new InvalidOperationException("broker down");
    }
}
