using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Tests;

public sealed class TelemetryServiceTests : IDisposable
{
    private readonly TempDirectory _dir = TestData.Temp();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public TelemetryServiceTests()
    {
        _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
    }

    public void Dispose()
    {
        _loggerFactory.Dispose();
        _logs.Dispose();
        _dir.Dispose();
    }

    private TelemetryOptions Options(string mode = "WriteBehind", bool server = true, Action<TelemetryOptions>? configure = null)
    {
        var o = new TelemetryOptions
        {
            Mode = mode,
            BatchSize = 100,
            FlushIntervalMs = 1000,
            MemoryBufferLines = 1000,
            Influx = new InfluxOptions { Url = server ? "http://127.0.0.1:1" : "", Bucket = "b" },
            Spool = new SpoolOptions { Path = _dir.File("spool.db"), DrainLinesPerSecond = 0 },
        };
        configure?.Invoke(o);
        return o;
    }

    private TelemetryService Service(TelemetryOptions options, FakeTransport? transport) =>
        new(options, () => TestData.FeatureNames, transport, _time, _loggerFactory);

    private static async Task PumpUntilIdle(TelemetryService service, int rounds = 50)
    {
        for (var i = 0; i < rounds; i++)
        {
            if (await service.PumpAsync(CancellationToken.None) > TimeSpan.Zero)
            {
                return;
            }
        }
    }

    private static long WindowNumber(string line) => LineProtocolParser.Parse(line).Field("window")!.Value.Integer;

    [Fact]
    public async Task WriteBehind_ServerKeepsUp_SentStraightWithoutTouchingTheSpool()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options(), transport);
        service.Initialize();
        for (var i = 0; i < 250; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.Flush();
        await PumpUntilIdle(service);
        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), transport.AcceptedLines.Select(WindowNumber));
        Assert.All(transport.Batches, b => Assert.True(b.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 100));
        var stats = service.GetStatistics();
        Assert.Equal(0, stats.SpooledLines);
        Assert.Equal(250, stats.SentLines);
        Assert.Equal(0, stats.MemoryLines);
    }

    [Fact]
    public async Task WriteBehind_OpenBatch_SentOnlyAfterFlushInterval()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options(), transport);
        service.WriteWindow(TestData.Window(TestData.ChannelA, 0));
        await PumpUntilIdle(service);
        Assert.Empty(transport.Batches);
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        await PumpUntilIdle(service);
        Assert.Single(transport.AcceptedLines);
    }

    [Fact]
    public async Task WriteBehind_ServerDown_SpilledToSpoolThenDrainedInOrderAfterRecovery()
    {
        var transport = new FakeTransport { Default = new WriteResult(WriteStatus.Unavailable, 0, null, "connection refused") };
        await using var service = Service(Options(), transport);
        for (var i = 0; i < 120; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.Flush();
        await PumpUntilIdle(service);
        var down = service.GetStatistics();
        Assert.False(down.ServerAvailable);
        Assert.Equal(120, down.Spool.Lines);
        Assert.Equal(0, down.MemoryLines);
        Assert.Contains(_logs.Entries, e => e.EventId == 8012 && e.Level == LogLevel.Warning);

        // More arrives during the outage; then the server comes back.
        for (var i = 120; i < 180; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.Flush();
        transport.Default = WriteResult.Success();
        for (var round = 0; round < 20; round++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await PumpUntilIdle(service);
        }

        Assert.Equal(Enumerable.Range(0, 180).Select(i => (long)i), transport.AcceptedLines.Select(WindowNumber).Order());
        var perSeries = transport.AcceptedLines.Select(WindowNumber).ToList();
        Assert.Equal(perSeries.Distinct().Count(), perSeries.Count);
        var up = service.GetStatistics();
        Assert.Equal(0, up.Spool.Lines);
        Assert.Equal(120, up.DrainedLines); // the 60 written after the server came back went live
        Assert.True(up.ServerAvailable);
        Assert.Contains(_logs.Entries, e => e.EventId == 8014);
    }

    [Fact]
    public async Task WriteBehind_ServerBehind_MemoryOverCapSpillsOldestToSpool()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options(configure: o => o.MemoryBufferLines = 150), transport);
        for (var i = 0; i < 400; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        var stats = service.GetStatistics();
        Assert.True(stats.MemoryLines <= 150 + 100, $"memory {stats.MemoryLines}");
        Assert.True(stats.Spool.Lines >= 200);
        service.Flush();
        await PumpUntilIdle(service, 100);
        Assert.Equal(Enumerable.Range(0, 400).Select(i => (long)i), transport.AcceptedLines.Select(WindowNumber).Order());
    }

    [Fact]
    public async Task Rejected400_BatchQuarantinedAndQueueGoesOn()
    {
        var transport = new FakeTransport();
        transport.Script(new WriteResult(WriteStatus.Rejected, 400, null, "unable to parse 'x': invalid field format"));
        await using var service = Service(Options(), transport);
        for (var i = 0; i < 150; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.Flush();
        await PumpUntilIdle(service);
        var stats = service.GetStatistics();
        Assert.Equal(100, stats.QuarantinedLines);
        Assert.Equal(100, stats.Spool.QuarantinedLines);
        Assert.Equal(50, transport.AcceptedLines.Count);
        Assert.True(stats.ServerAvailable);
        Assert.Contains(_logs.Entries, e => e.EventId == 8015 && e.Level == LogLevel.Error && e.Message.Contains("invalid field format", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rejected400_FromSpool_QuarantinedNotRetried()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options("Durable"), transport);
        service.WriteWindow(TestData.Window(TestData.ChannelA, 0));
        service.WriteWindow(TestData.Window(TestData.ChannelA, 1));
        transport.Script(new WriteResult(WriteStatus.Rejected, 400, null, "bad"));
        await PumpUntilIdle(service);
        var stats = service.GetStatistics();
        Assert.Equal(2, stats.QuarantinedLines);
        Assert.Equal(0, stats.Spool.Lines);
        Assert.Equal(1, transport.Calls);
    }

    [Fact]
    public async Task Throttled429_RetryAfterHonouredBeforeNextAttempt()
    {
        var transport = new FakeTransport();
        transport.Script(new WriteResult(WriteStatus.Throttled, 429, TimeSpan.FromSeconds(20), "slow down"));
        await using var service = Service(Options(), transport);
        service.WriteWindow(TestData.Window(TestData.ChannelA, 0));
        service.Flush();
        var wait = await service.PumpAsync(CancellationToken.None);
        Assert.Equal(1, transport.Calls);
        Assert.Equal(1, service.GetStatistics().Spool.Lines);
        for (var s = 0; s < 19; s++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await PumpUntilIdle(service);
        }

        Assert.Equal(1, transport.Calls);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        await PumpUntilIdle(service);
        Assert.Equal(2, transport.Calls);
        Assert.Single(transport.AcceptedLines);
        Assert.True(wait >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Unavailable_RepeatedFailures_BackoffGrowsToTheCap()
    {
        var transport = new FakeTransport { Default = new WriteResult(WriteStatus.Unavailable, 0, null, "refused") };
        await using var service = Service(Options(configure: o => o.Influx.MaxRetryDelayMs = 8000), transport);
        service.WriteWindow(TestData.Window(TestData.ChannelA, 0));
        service.Flush();
        var callTimes = new List<DateTimeOffset>();
        while (transport.Calls < 7)
        {
            var before = transport.Calls;
            var wait = await service.PumpAsync(CancellationToken.None);
            if (transport.Calls > before)
            {
                callTimes.Add(_time.GetUtcNow());
            }

            _time.Advance(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1));
        }

        var gaps = callTimes.Zip(callTimes.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        Assert.InRange(gaps[0], 0.8, 1.3);   // 1 s ± 20 %
        Assert.InRange(gaps[1], 1.6, 2.5);   // 2 s
        Assert.InRange(gaps[2], 3.2, 4.9);   // 4 s
        Assert.All(gaps.Skip(3), g => Assert.InRange(g, 6.4, 9.7)); // capped at 8 s
        Assert.Equal(1, service.GetStatistics().Spool.Lines);
    }

    [Fact]
    public async Task TooLarge413_BatchHalvedAndEverythingDelivered()
    {
        var transport = new FakeTransport();
        transport.Script(new WriteResult(WriteStatus.TooLarge, 413, null, "too large"));
        await using var service = Service(Options(configure: o => o.BatchSize = 40), transport);
        for (var i = 0; i < 40; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        // One batch of 40; the 413 makes the engine send it in halves, and later batches smaller.
        service.Flush();
        await PumpUntilIdle(service);
        Assert.Equal(40, transport.AcceptedLines.Count);
        Assert.Equal([40, 20, 20], transport.Batches.Select(b => b.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length));
        Assert.Equal(0, service.GetStatistics().QuarantinedLines);
    }

    [Fact]
    public async Task Alerts_AlwaysCommittedToSpoolFirst_AndSentBeforeTelemetry()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options(), transport);
        for (var i = 0; i < 10; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.Flush();
        Assert.True(service.WriteAlert(TestData.Alert(TestData.ChannelA, 1)));
        Assert.Equal(1, service.GetStatistics().Spool.AlertLines); // in the spool before any send
        await PumpUntilIdle(service);
        Assert.StartsWith(TelemetrySchema.AlertMeasurement, transport.Batches[0], StringComparison.Ordinal);
        Assert.Equal(0, service.GetStatistics().Spool.Lines);
        Assert.Equal(11, transport.AcceptedLines.Count);
    }

    [Fact]
    public async Task Durable_RecordCommittedBeforeWriteReturns()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options("Durable"), transport);
        service.WriteWindow(TestData.Window(TestData.ChannelA, 0));
        service.WriteWindow(TestData.Window(TestData.ChannelA, 1));
        var stats = service.GetStatistics();
        Assert.Equal(2, stats.Spool.Records);
        Assert.Equal(0, stats.MemoryLines);
        await PumpUntilIdle(service);
        Assert.Equal([0L, 1L], transport.AcceptedLines.Select(WindowNumber));
        Assert.Equal(0, service.GetStatistics().Spool.Lines);
    }

    [Fact]
    public async Task Durable_CommitInterval_GroupsRecordsIntoOneRow()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options("Durable", configure: o => o.Spool.CommitIntervalMs = 200), transport);
        for (var i = 0; i < 30; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        Assert.Equal(0, service.GetStatistics().Spool.Records);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await service.PumpAsync(CancellationToken.None);
        Assert.True(service.GetStatistics().Spool.Records <= 1);
        await PumpUntilIdle(service);
        Assert.Equal(30, transport.AcceptedLines.Count);
    }

    [Fact]
    public async Task Durable_ProcessDiesWithoutStopping_NextRunSendsEverything()
    {
        var transport = new FakeTransport { Default = new WriteResult(WriteStatus.Unavailable, 0, null, "down") };
        var first = Service(Options("Durable"), transport);
        for (var i = 0; i < 50; i++)
        {
            first.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        first.WriteAlert(TestData.Alert(TestData.ChannelA, 7));
        // "Crash": the first instance is abandoned, never stopped or disposed.

        var second = new FakeTransport();
        await using var restarted = new TelemetryService(Options("Durable"), () => TestData.FeatureNames, second, _time, _loggerFactory);
        await PumpUntilIdle(restarted);
        Assert.Equal(51, second.AcceptedLines.Count);
        Assert.StartsWith(TelemetrySchema.AlertMeasurement, second.Batches[0], StringComparison.Ordinal);
        Assert.Contains(_logs.Entries, e => e.EventId == 8010 && e.Message.Contains("holds 51 points (1 alerts)", StringComparison.Ordinal));
        GC.KeepAlive(first);
    }

    [Fact]
    public async Task WriteBehind_ProcessDiesWithServerUp_LosesAtMostTheMemoryWindow()
    {
        var transport = new FakeTransport();
        var first = Service(Options(configure: o => o.BatchSize = 10), transport);
        for (var i = 0; i < 95; i++)
        {
            first.WriteWindow(TestData.Window(TestData.ChannelA, i));
            if (i % 10 == 9)
            {
                await first.PumpAsync(CancellationToken.None);
            }
        }

        // Crash: nothing stopped. What was not yet sent is at most the open batch and the memory queue.
        var lost = 95 - transport.AcceptedLines.Count;
        Assert.InRange(lost, 0, 10);
        var restartedTransport = new FakeTransport();
        await using var restarted = new TelemetryService(Options(), () => TestData.FeatureNames, restartedTransport, _time, _loggerFactory);
        await PumpUntilIdle(restarted);
        Assert.Empty(restartedTransport.AcceptedLines); // nothing of it was in the spool
        GC.KeepAlive(first);
    }

    [Fact]
    public async Task SpoolFull_OldestTelemetryEvicted_AlertsKept_CountedAndLogged()
    {
        var transport = new FakeTransport { Default = new WriteResult(WriteStatus.Unavailable, 0, null, "down") };
        await using var service = Service(Options("Durable", configure: o =>
        {
            o.Spool.MaxMegabytes = 1;
            o.Spool.Compress = false;
        }), transport);
        service.WriteAlert(TestData.Alert(TestData.ChannelA, 1));
        for (var i = 0; i < 6000; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.WriteAlert(TestData.Alert(TestData.ChannelA, 2));
        var stats = service.GetStatistics();
        Assert.True(stats.EvictedLines > 0);
        Assert.True(stats.Spool.Bytes <= 1024 * 1024);
        Assert.Equal(2, stats.Spool.AlertLines);
        Assert.Contains(_logs.Entries, e => e.EventId == 8017 && e.Level == LogLevel.Warning);

        transport.Default = WriteResult.Success();
        _time.Advance(TimeSpan.FromMinutes(5));
        await PumpUntilIdle(service, 500);
        var windows = transport.AcceptedLines.Where(l => l.StartsWith(TelemetrySchema.WindowMeasurement, StringComparison.Ordinal)).Select(WindowNumber).ToList();
        Assert.Equal(6000 - stats.EvictedLines, windows.Count);
        Assert.Equal(5999, windows.Max()); // the newest survive
        Assert.Equal(stats.EvictedLines, windows.Min()); // the oldest went first
        Assert.Equal(2, transport.AcceptedLines.Count(l => l.StartsWith(TelemetrySchema.AlertMeasurement, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Embedded_NoServer_EverythingKeptInSpoolWithRetention()
    {
        await using var service = Service(Options(server: false, configure: o => o.Spool.RetentionHours = 1), null);
        for (var i = 0; i < 20; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        service.WriteAlert(TestData.Alert(TestData.ChannelA, 1));
        _time.Advance(TimeSpan.FromSeconds(1));
        await service.PumpAsync(CancellationToken.None);
        Assert.Equal(21, service.GetStatistics().Spool.Lines);
        Assert.Equal("embedded store " + _dir.File("spool.db"), service.Destination);

        _time.Advance(TimeSpan.FromHours(2));
        service.WriteWindow(TestData.Window(TestData.ChannelA, 99));
        _time.Advance(TimeSpan.FromSeconds(1));
        await service.PumpAsync(CancellationToken.None);
        var stats = service.GetStatistics();
        Assert.Equal(21, stats.ExpiredLines);
        Assert.Equal(1, stats.Spool.Lines);
    }

    [Fact]
    public async Task Decimation_EveryNthWindow_AnomalousAndUnhealthyAlwaysWritten()
    {
        var transport = new FakeTransport();
        await using var service = Service(Options(configure: o => o.Decimation = 5), transport);
        for (var i = 0; i < 20; i++)
        {
            var w = TestData.Window(TestData.ChannelA, i);
            w.Anomalous = i == 7;
            w.Health = i == 8 ? ChannelHealthFlags.FlatLine : ChannelHealthFlags.None;
            service.WriteWindow(w);
        }

        service.Flush();
        await PumpUntilIdle(service);
        Assert.Equal([0L, 5L, 7L, 8L, 10L, 15L], transport.AcceptedLines.Select(WindowNumber));
        Assert.Equal(14, service.GetStatistics().WindowsDecimated);
    }

    [Fact]
    public async Task Stop_MemoryUndeliverable_GoesToSpoolForNextRun()
    {
        var transport = new FakeTransport { Default = new WriteResult(WriteStatus.Unavailable, 0, null, "down") };
        var options = Options();
        var service = Service(options, transport);
        await service.StartAsync(CancellationToken.None);
        for (var i = 0; i < 30; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
        }

        await service.StopAsync(CancellationToken.None);
        // The pipeline drains after telemetry stopped: those records go to the spool too.
        service.WriteWindow(TestData.Window(TestData.ChannelA, 30));
        service.Flush();
        await service.DisposeAsync();

        var next = new FakeTransport();
        await using var restarted = new TelemetryService(options, () => TestData.FeatureNames, next, _time, _loggerFactory);
        await PumpUntilIdle(restarted);
        Assert.Equal(Enumerable.Range(0, 31).Select(i => (long)i), next.AcceptedLines.Select(WindowNumber).Order());
        Assert.True(transport.Disposed);
    }

    [Fact]
    public async Task CorruptSpoolAtStart_MovedAsideAndServiceKeepsWorking()
    {
        File.WriteAllText(_dir.File("spool.db"), "this is not a database, it is a text file that got copied over the spool");
        var transport = new FakeTransport();
        await using var service = Service(Options("Durable"), transport);
        service.WriteAlert(TestData.Alert(TestData.ChannelA, 1));
        await PumpUntilIdle(service);
        Assert.NotNull(service.CorruptSpoolMovedTo);
        Assert.True(File.Exists(service.CorruptSpoolMovedTo));
        Assert.Single(transport.AcceptedLines);
        Assert.Contains(_logs.Entries, e => e.EventId == 8001 && e.Level == LogLevel.Error);
    }

    [Fact]
    public async Task SpoolUnavailable_AlertHeldInMemoryAndStillSent()
    {
        var blocked = _dir.File("file-not-dir");
        File.WriteAllText(blocked, "x");
        var transport = new FakeTransport();
        await using var service = Service(Options(configure: o => o.Spool.Path = Path.Combine(blocked, "spool.db")), transport);
        Assert.False(service.WriteAlert(TestData.Alert(TestData.ChannelA, 3)));
        await PumpUntilIdle(service);
        Assert.Single(transport.AcceptedLines);
        Assert.Contains(_logs.Entries, e => e.EventId == 8020 && e.Level == LogLevel.Critical);
    }

    [Fact]
    public async Task Start_BackgroundSender_DeliversWithoutManualPumping()
    {
        var transport = new FakeTransport();
        var options = Options(configure: o => o.FlushIntervalMs = 10);
        await using var service = new TelemetryService(options, () => TestData.FeatureNames, transport, TimeProvider.System, _loggerFactory);
        await service.StartAsync(CancellationToken.None);
        service.WriteAlert(TestData.Alert(TestData.ChannelA, 4));
        for (var i = 0; i < 200 && transport.AcceptedLines.Count == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Single(transport.AcceptedLines);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => Service(Options(configure: o => o.BatchSize = 0), new FakeTransport()));
        Assert.Contains("FactoryEdge:Telemetry:BatchSize", ex.Message, StringComparison.Ordinal);
    }
}
