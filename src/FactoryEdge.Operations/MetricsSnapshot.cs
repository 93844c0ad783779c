using System.Diagnostics.Metrics;
using FactoryEdge.Pipeline;
using FactoryEdge.Scoring;

namespace FactoryEdge.Operations;

/// <summary>One channel's figures for the metrics.</summary>
internal sealed record ChannelMetric(string Channel, string Machine, string Source, ChannelStatistics Stats, double? AgeSeconds, bool Up, long Reconnects)
{
    public KeyValuePair<string, object?>[] Tags { get; } =
    [
        new("channel", Channel),
        new("machine", Machine),
        new("source", Source),
    ];
}

/// <summary>What the observable instruments report: taken once per monitor tick, read by every scrape.</summary>
internal sealed record MetricsSnapshot(
    PipelineStatistics? Stats,
    IReadOnlyList<ChannelMetric> Channels,
    IReadOnlyList<SourceHealth> Sources,
    double? Liveness,
    string? ModelId,
    IReadOnlyList<ModelSlotStatus> Models,
    int Generation,
    long Restarts)
{
    public static MetricsSnapshot Empty { get; } = new(null, [], [], null, null, [], 0, 0);

    public IEnumerable<Measurement<long>> Channel(Func<ChannelMetric, long> value)
    {
        foreach (var c in Channels)
        {
            yield return new Measurement<long>(value(c), c.Tags);
        }
    }

    public IEnumerable<Measurement<double>> ChannelAges()
    {
        foreach (var c in Channels)
        {
            if (c.AgeSeconds is { } age)
            {
                yield return new Measurement<double>(age, c.Tags);
            }
        }
    }

    public IEnumerable<Measurement<long>> Pipeline(Func<PipelineStatistics, long> value)
    {
        if (Stats is { } s)
        {
            yield return new Measurement<long>(value(s));
        }
    }

    public IEnumerable<Measurement<double>> LivenessAge()
    {
        if (Liveness is { } l)
        {
            yield return new Measurement<double>(l);
        }
    }

    public IEnumerable<Measurement<long>> Sink(Func<SinkStatistics, long> value)
    {
        if (Stats is { } s)
        {
            foreach (var sink in s.Sinks)
            {
                yield return new Measurement<long>(value(sink), new KeyValuePair<string, object?>("sink", sink.Name));
            }
        }
    }

    public IEnumerable<Measurement<long>> ModelInfo()
    {
        if (ModelId is { } id)
        {
            yield return new Measurement<long>(1, new KeyValuePair<string, object?>("model_id", id));
        }
    }

    public IEnumerable<Measurement<long>> ModelVersions()
    {
        foreach (var m in Models)
        {
            if (m.ActiveVersion is { } v)
            {
                yield return new Measurement<long>(v, new KeyValuePair<string, object?>("model", m.ModelId), new KeyValuePair<string, object?>("active", m.Active ?? ""));
            }
        }
    }
}
