using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

/// <summary>What the pipeline puts into an alert for its payload (stage times, ISO zone) and the bench's dedupe-off mode.</summary>
public sealed class AlertStageTests
{
    private const double Rate = 10240;

    private static async Task<List<Alert>> RunAsync(bool dedupe)
    {
        var options = new PipelineOptions { WindowSize = 1024, Overlap = 0, Workers = 2, SinkFullMode = SinkFullMode.Wait };
        options.Alerts.RaiseAfter = 3;
        options.Alerts.ClearAfter = 4;
        options.Alerts.Dedupe = dedupe;
        var notifier = new CollectingNotifier();
        var pipeline = new SignalPipeline(options, [Channels.Make(0, Rate)], new RmsScorer(), [notifier]);
        pipeline.Start();
        // Windows of 1024 from sample 20480 to 40960 (20 windows) are anomalous by amplitude.
        for (long first = 0; first < 61440; first += 1024)
        {
            var data = Channels.Signal(first, 1024, Rate, amplitude: first is >= 20480 and < 40960 ? 1.0 : 0.1);
            pipeline.Writers[0].Write(new SampleBlock(data, first, first * TimeSpan.TicksPerSecond / (long)Rate), CancellationToken.None);
        }

        await pipeline.StopAsync();
        return [.. notifier.Alerts];
    }

    [Fact]
    public async Task Raise_CarriesStageTimestampsInOrder()
    {
        var alerts = await RunAsync(dedupe: true);

        Assert.Equal([AlertState.Raised, AlertState.Cleared], alerts.Select(a => a.State));
        foreach (var alert in alerts)
        {
            Assert.True(alert.WindowCompleteTimestamp > 0);
            Assert.NotNull(alert.WindowCompleteTime);
            Assert.NotNull(alert.ScoredTime);
            Assert.True(alert.WindowCompleteTime <= alert.ScoredTime, $"{alert.WindowCompleteTime:O} > {alert.ScoredTime:O}");
            Assert.True(alert.ProcessingLatencyMicroseconds > 0);
            Assert.True(Enum.IsDefined(alert.IsoZone));
        }
    }

    [Fact]
    public async Task DedupeOff_EveryAnomalousWindowAfterTheRaise_OneRaisedAlertWithItsOwnId()
    {
        var alerts = await RunAsync(dedupe: false);

        var raised = alerts.Where(a => a.State == AlertState.Raised).ToList();
        Assert.Equal(20 - 2, raised.Count);                        // from the third anomalous window on
        Assert.Equal(raised.Count, raised.Select(a => a.AlertId).Distinct().Count());
        Assert.Equal(AlertState.Cleared, alerts[^1].State);
        Assert.Equal(raised[0].AlertId, alerts[^1].AlertId);      // the clear belongs to the first raise
    }

    private sealed class RmsScorer : IAnomalyScorer
    {
        public string ModelId => "rms";

        public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
        {
        }

        public void Score(ScoringBatch batch)
        {
            for (var r = 0; r < batch.Count; r++)
            {
                batch.Scores[r] = batch.Features(r)[0];
                batch.Thresholds[r] = 0.15f;
            }
        }
    }
}
