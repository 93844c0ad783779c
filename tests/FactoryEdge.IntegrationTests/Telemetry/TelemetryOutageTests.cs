using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Telemetry;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FactoryEdge.IntegrationTests.Telemetry;

/// <summary>The server goes away under load and comes back: nothing lost, order kept; and the spool-full policy.</summary>
[Trait("Category", "Integration")]
[Collection(TelemetrySerialCollection.Name)]
public sealed class TelemetryOutageTests(ITestOutputHelper output)
{
    private sealed record OutagePlan(int Channels, int WindowsPerSecond, TimeSpan Before, TimeSpan Outage, TimeSpan After);

    private static readonly OutagePlan Short = new(10, 40, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(3));

    /// <summary>Feeds windows in real time, stops the server for the outage, restarts it, waits for the drain.</summary>
    private async Task<(long[] Written, TelemetryStatistics Stats)> RunOutage(PeerServer server, TelemetryOptions options, OutagePlan plan, long baseTicks)
    {
        using var logs = new CollectingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var service = new TelemetryService(options, () => Synthetic.FeatureNames, TimeProvider.System, loggerFactory);
        await service.StartAsync(CancellationToken.None);
        var written = new long[plan.Channels];
        var clock = Stopwatch.StartNew();
        var stopAt = plan.Before;
        var restartAt = plan.Before + plan.Outage;
        var endAt = restartAt + plan.After;
        var stopped = false;
        var restarted = false;
        Task? restart = null;
        long peakSpool = 0;
        while (clock.Elapsed < endAt)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * plan.WindowsPerSecond);
            for (var c = 0; c < plan.Channels; c++)
            {
                while (written[c] <= due)
                {
                    service.WriteWindow(Synthetic.Window(c, written[c]++, baseTicks));
                }
            }

            if (!stopped && clock.Elapsed >= stopAt)
            {
                stopped = true;
                _ = server.StopAsync();
            }

            if (!restarted && clock.Elapsed >= restartAt)
            {
                restarted = true;
                restart = server.StartAsync();
            }

            peakSpool = Math.Max(peakSpool, service.GetStatistics().Spool.Lines);
            await Task.Delay(20);
        }

        await restart!;
        service.Flush();
        var total = written.Sum();
        var drain = Stopwatch.StartNew();
        await Synthetic.WaitDelivered(service, total, TimeSpan.FromSeconds(120) + (plan.Outage * 2));
        var stats = service.GetStatistics();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"written {total} points over {endAt.TotalSeconds:0} s ({plan.Outage.TotalSeconds:0} s outage): sent {stats.SentLines}, spooled {stats.SpooledLines} (peak depth {peakSpool}), drained {stats.DrainedLines}, failed requests {stats.FailedRequests}, drain finished {drain.Elapsed.TotalSeconds:0.0} s after the feed stopped"));
        Assert.Contains(logs.Messages, m => m.Contains("is failing", StringComparison.Ordinal));
        Assert.Contains(logs.Messages, m => m.Contains("is back after", StringComparison.Ordinal));
        Assert.True(peakSpool > 0, "the outage must have spilled to the spool");
        await service.StopAsync(CancellationToken.None);
        return (written, stats);
    }

    private static void AssertComplete(Dictionary<int, List<(long Time, long Window)>> perChannel, long[] written, long baseTicks, Func<long, long> expectedTime)
    {
        Assert.Equal(written.Length, perChannel.Count);
        foreach (var (channel, points) in perChannel)
        {
            Assert.Equal(written[channel], points.Count);
            for (var i = 0; i < points.Count; i++)
            {
                Assert.Equal(i, points[i].Window);
                Assert.Equal(expectedTime(Synthetic.Ticks(baseTicks, i)), points[i].Time);
                if (i > 0)
                {
                    Assert.True(points[i].Time > points[i - 1].Time);
                }
            }
        }
    }

    private static async Task<Dictionary<int, List<(long Time, long Window)>>> ReadInflux(InfluxDbServer influx, string database)
    {
        var series = await influx.SelectAsync("SELECT \"window\" FROM fe_window GROUP BY machine", database);
        return series.ToDictionary(
            s => int.Parse(s.Tags["machine"][1..], CultureInfo.InvariantCulture),
            s => s.Rows.Select(r => (r["time"].GetInt64(), r["window"].GetInt64())).ToList());
    }

    private static async Task<Dictionary<int, List<(long Time, long Window)>>> ReadVm(VictoriaMetricsServer vm) =>
        (await vm.ExportAsync("fe_window_window")).ToDictionary(
            s => int.Parse(s.Metric["machine"][1..], CultureInfo.InvariantCulture),
            s => s.Timestamps.Zip(s.Values, (t, v) => (t, (long)v)).OrderBy(p => p.t).ToList());

    [TelemetryPeerFact(TelemetryPeers.VictoriaMetrics)]
    public async Task Outage_VictoriaMetricsStoppedUnderLoad_NothingLostOrderKept()
    {
        await using var vm = await VictoriaMetricsServer.LaunchAsync();
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var baseTicks = Synthetic.BaseTicks(10);
            var (written, _) = await RunOutage(vm, Synthetic.Options(spool, vm.Url, v1: false, "plant"), Short, baseTicks);
            AssertComplete(await ReadVm(vm), written, baseTicks, t => (t - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond);
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    public async Task Outage_InfluxDbStoppedUnderLoad_DurableMode_NothingLostOrderKept()
    {
        await using var influx = await InfluxDbServer.LaunchAsync("outage");
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var baseTicks = Synthetic.BaseTicks(11);
            var (written, _) = await RunOutage(influx, Synthetic.Options(spool, influx.Url, v1: true, "outage", mode: "Durable"), Short, baseTicks);
            AssertComplete(await ReadInflux(influx, "outage"), written, baseTicks, t => (t - DateTime.UnixEpoch.Ticks) * 100);
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    [Trait("Category", "Soak")]
    public async Task Outage_InfluxDbHourLong_WriteBehind_NothingLostOrderKept()
    {
        await using var influx = await InfluxDbServer.LaunchAsync("outage_hour");
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var baseTicks = Synthetic.BaseTicks(12);
            var plan = new OutagePlan(100, 1, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1), TimeSpan.FromMinutes(2));
            var (written, _) = await RunOutage(influx, Synthetic.Options(spool, influx.Url, v1: true, "outage_hour", configure: o => o.Influx.MaxRetryDelayMs = 30_000), plan, baseTicks);
            AssertComplete(await ReadInflux(influx, "outage_hour"), written, baseTicks, t => (t - DateTime.UnixEpoch.Ticks) * 100);
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    public async Task SpoolFull_DuringOutage_OldestTelemetryEvictedAlertsKept()
    {
        await using var influx = await InfluxDbServer.LaunchAsync("full");
        await influx.StopAsync(); // the outage starts before the gateway does
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var baseTicks = Synthetic.BaseTicks(13);
            using var logs = new CollectingLoggerProvider();
            using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
            var options = Synthetic.Options(spool, influx.Url, v1: true, "full", mode: "Durable", configure: o =>
            {
                o.Spool.MaxMegabytes = 1;
                o.Spool.Compress = false;
            });
            await using var service = new TelemetryService(options, () => Synthetic.FeatureNames, TimeProvider.System, loggerFactory);
            await service.StartAsync(CancellationToken.None);
            const int Windows = 6000;
            const int Alerts = 30;
            for (var n = 0; n < Windows; n++)
            {
                service.WriteWindow(Synthetic.Window(0, n, baseTicks));
                if (n % (Windows / Alerts) == 0)
                {
                    Assert.True(service.WriteAlert(Synthetic.Alert(0, n / (Windows / Alerts), baseTicks)));
                }
            }

            var full = service.GetStatistics();
            Assert.True(full.EvictedLines > 0, "the cap must have been reached");
            Assert.True(full.Spool.Bytes <= 1024 * 1024);
            Assert.Equal(Alerts, full.Spool.AlertLines);
            Assert.Contains(logs.Messages, m => m.Contains("reached its cap of 1 MB", StringComparison.Ordinal));

            await influx.StartAsync();
            await Synthetic.WaitDelivered(service, Windows - full.EvictedLines + Alerts, TimeSpan.FromSeconds(90));
            var windows = (await ReadInflux(influx, "full"))[0];
            Assert.Equal(Windows - full.EvictedLines, windows.Count);
            Assert.Equal(Enumerable.Range((int)full.EvictedLines, Windows - (int)full.EvictedLines).Select(i => (long)i), windows.Select(w => w.Window));
            var alerts = (await influx.SelectAsync("SELECT alert_id FROM fe_alert", "full")).SelectMany(s => s.Rows).Select(r => r["alert_id"].GetString()).ToHashSet();
            Assert.Equal(Alerts, alerts.Count);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cap 1 MB: {Windows} windows and {Alerts} alerts written during the outage; {full.EvictedLines} oldest windows evicted; read back {windows.Count} windows (the newest) and {alerts.Count} alerts"));
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }
}
