using FactoryEdge.Telemetry.Cli;
using FactoryEdge.Telemetry.LineProtocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Tests;

public sealed class CliTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = TestData.Temp();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 8, 10, 0, TimeSpan.Zero));

    private string Store => _dir.File("store.db");

    public async Task InitializeAsync()
    {
        // An embedded store with two machines' windows and one alert.
        await using var service = new TelemetryService(
            new TelemetryOptions { Spool = new SpoolOptions { Path = Store }, BatchSize = 7 },
            () => TestData.FeatureNames,
            transport: null,
            _time);
        for (var i = 0; i < 30; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
            service.WriteWindow(TestData.Window(TestData.ChannelB, i, index: 1));
        }

        service.WriteAlert(TestData.Alert(TestData.ChannelA, 1));
        service.Flush();
        await service.PumpAsync(CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private static string[] Lines(StringWriter w) => w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Tail_Machine_NewestPointsOfThatMachineInOrder()
    {
        using var output = new StringWriter();
        var code = await TelemetryCommands.TailAsync(new TelemetryTailSettings { SpoolPath = Store, Machine = "fan-2", Count = 5, Format = "lp" }, output, TextWriter.Null, CancellationToken.None);
        Assert.Equal(TelemetryCommands.Ok, code);
        var lines = Lines(output);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Contains(",machine=fan-2,", l, StringComparison.Ordinal));
        Assert.Equal([25L, 26L, 27L, 28L, 29L], lines.Select(l => LineProtocolParser.Parse(l).Field("window")!.Value.Integer));
    }

    [Fact]
    public async Task Tail_Table_HumanReadableLine()
    {
        using var output = new StringWriter();
        await TelemetryCommands.TailAsync(new TelemetryTailSettings { SpoolPath = Store, Machine = "pump-1", Count = 1, Measurement = TelemetrySchema.AlertMeasurement }, output, TextWriter.Null, CancellationToken.None);
        var line = Assert.Single(Lines(output));
        Assert.StartsWith("2026-05-01T09:00:01.000Z fe_alert plant/line-1/pump-1/de/x raised alarm", line, StringComparison.Ordinal);
        Assert.Contains("alert_id=\"a", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_Follow_PrintsNewPointsUntilCancelled()
    {
        using var output = new StringWriter();
        using var cts = new CancellationTokenSource();
        var tail = TelemetryCommands.TailAsync(new TelemetryTailSettings { SpoolPath = Store, Count = 1, Follow = true, PollInterval = TimeSpan.FromMilliseconds(20), Format = "lp" }, output, TextWriter.Null, cts.Token);
        await using (var service = new TelemetryService(new TelemetryOptions { Spool = new SpoolOptions { Path = Store } }, () => TestData.FeatureNames, transport: null, _time))
        {
            service.WriteAlert(TestData.Alert(TestData.ChannelB, 9));
        }

        for (var i = 0; i < 200 && !output.ToString().Contains("machine=fan-2,sensor=nde,axis=y,state=raised", StringComparison.Ordinal); i++)
        {
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        Assert.Equal(TelemetryCommands.Ok, await tail);
        Assert.Contains("fe_alert,site=plant,line=line-1,machine=fan-2", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_FieldsAndTimeRange_CsvInTimeOrder()
    {
        using var output = new StringWriter();
        var code = await TelemetryCommands.QueryAsync(
            new TelemetryQuerySettings
            {
                SpoolPath = Store,
                Machine = "pump-1",
                Fields = ["rms", "score"],
                Since = "2026-05-01T08:00:00.400Z",
                Until = "2026-05-01T08:00:00.800Z",
                Format = "csv",
            },
            output,
            TextWriter.Null,
            _time,
            CancellationToken.None);
        Assert.Equal(TelemetryCommands.Ok, code);
        var lines = Lines(output);
        Assert.Equal("time,measurement,site,line,machine,sensor,axis,rms,score", lines[0]);
        Assert.Equal(["2026-05-01T08:00:00.400Z", "2026-05-01T08:00:00.480Z", "2026-05-01T08:00:00.560Z", "2026-05-01T08:00:00.640Z", "2026-05-01T08:00:00.720Z", "2026-05-01T08:00:00.800Z"], lines.Skip(1).Select(l => l.Split(',')[0]));
        var first = TestData.Window(TestData.ChannelA, 5);
        Assert.Equal(first.Features[0], float.Parse(lines[1].Split(',')[7], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Query_RelativeSinceAndLimit_NewestKept()
    {
        using var output = new StringWriter();
        await TelemetryCommands.QueryAsync(new TelemetryQuerySettings { SpoolPath = Store, Since = "1h", Limit = 3, Format = "json" }, output, TextWriter.Null, _time, CancellationToken.None);
        var lines = Lines(output);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"measurement\":\"fe_window\"", l, StringComparison.Ordinal));
        Assert.Contains("\"window\":29", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Store_DepthAndQuarantine()
    {
        using var output = new StringWriter();
        Assert.Equal(TelemetryCommands.Ok, await TelemetryCommands.StatusAsync(Store, output, TextWriter.Null, _time, CancellationToken.None));
        Assert.Contains("points       61 (1 alerts)", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("quarantine   0 points", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_NoStore_ExitCode3WithMessage()
    {
        using var error = new StringWriter();
        var code = await TelemetryCommands.TailAsync(new TelemetryTailSettings { SpoolPath = _dir.File("missing.db") }, TextWriter.Null, error, CancellationToken.None);
        Assert.Equal(TelemetryCommands.NoStore, code);
        Assert.Contains("No telemetry store at", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_BadFormatOrTime_Usage()
    {
        using var error = new StringWriter();
        Assert.Equal(TelemetryCommands.Usage, await TelemetryCommands.QueryAsync(new TelemetryQuerySettings { SpoolPath = Store, Format = "xml" }, TextWriter.Null, error, _time, CancellationToken.None));
        Assert.Equal(TelemetryCommands.Usage, await TelemetryCommands.QueryAsync(new TelemetryQuerySettings { SpoolPath = Store, Since = "yesterday-ish" }, TextWriter.Null, error, _time, CancellationToken.None));
        Assert.Contains("--format xml is not allowed: use table, csv, json, lp.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveSpoolPath_FromConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("FactoryEdge:Telemetry:Spool:Path", "/data/fe.db")]).Build();
        Assert.Equal("/data/fe.db", TelemetryCommands.ResolveSpoolPath(configuration));
    }

    [Fact]
    public void ResolveSpoolPath_OptionThenConfigFileThenDefault()
    {
        var config = _dir.File("gateway.json");
        File.WriteAllText(config, "{ // comments allowed\n \"FactoryEdge\": { \"Telemetry\": { \"Spool\": { \"Path\": \"/srv/fe/t.db\" } } } }");
        Assert.Equal("/data/x.db", TelemetryCommands.ResolveSpoolPath("/data/x.db", config));
        Assert.Equal("/srv/fe/t.db", TelemetryCommands.ResolveSpoolPath(null, config));
        Assert.Equal(Path.GetFullPath(new SpoolOptions().ResolvePath()), TelemetryCommands.ResolveSpoolPath(null, _dir.File("missing.json")));
    }

    [Fact]
    public void InfluxOverrides_DemoOptions_MapToConfigurationKeys()
    {
        var v1 = TelemetryCommands.InfluxOverrides("http://h:8086", "v1", database: "plant").ToDictionary();
        Assert.Equal("v1", v1["FactoryEdge:Telemetry:Influx:Api"]);
        Assert.Equal("plant", v1["FactoryEdge:Telemetry:Influx:Database"]);
        var v2 = TelemetryCommands.InfluxOverrides("http://h:8428", bucket: "b").ToDictionary();
        Assert.Equal("v2", v2["FactoryEdge:Telemetry:Influx:Api"]);
        Assert.Equal("b", v2["FactoryEdge:Telemetry:Influx:Bucket"]);
        Assert.Empty(TelemetryCommands.InfluxOverrides(null));
    }
}
