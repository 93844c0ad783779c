using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Telemetry.Tests;

public sealed class OptionsAndHostingTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Validate_Defaults_Pass()
    {
        Assert.True(new TelemetryOptionsValidator().Validate(null, new TelemetryOptions()).Succeeded);
    }

    [Fact]
    public void Validate_BadValues_EachNamesKeyAndAllowedValues()
    {
        var options = new TelemetryOptions
        {
            Mode = "Lossy",
            Precision = "minutes",
            Decimation = 0,
            BatchSize = 0,
            Influx = new InfluxOptions { Url = "ftp://x", Api = "v3" },
            Spool = new SpoolOptions { Synchronous = "Off", MaxMegabytes = 0 },
        };
        var result = new TelemetryOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var text = string.Join("\n", result.Failures);
        Assert.Contains("FactoryEdge:Telemetry:Mode = 'Lossy' is not allowed: use WriteBehind, Durable.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Precision = 'minutes' is not allowed: use ns, us, ms, s.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Decimation = 0", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:BatchSize = 0", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Influx:Url = 'ftp://x'", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Influx:Api = 'v3' is not allowed: use v2, v1.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Spool:Synchronous = 'Off' is not allowed: use Normal, Full.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Spool:MaxMegabytes = 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_V1WithoutDatabase_V2WithoutBucket_Named()
    {
        var v1 = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { Influx = new InfluxOptions { Url = "http://h:8086", Api = "v1" } });
        Assert.Contains("FactoryEdge:Telemetry:Influx:Database is required", string.Join("\n", v1.Failures!), StringComparison.Ordinal);
        var v2 = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { Influx = new InfluxOptions { Url = "http://h:8086" } });
        Assert.Contains("FactoryEdge:Telemetry:Influx:Bucket is required", string.Join("\n", v2.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingSecretFile_NamesTheKeyNotASecret()
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions
        {
            Influx = new InfluxOptions { Url = "https://h", Bucket = "b", TokenFile = "/nonexistent/token", CaFile = "/nonexistent/ca.pem" },
        });
        var text = string.Join("\n", result.Failures!);
        Assert.Contains("FactoryEdge:Telemetry:Influx:TokenFile = '/nonexistent/token': file not found.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Telemetry:Influx:CaFile = '/nonexistent/ca.pem': file not found.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Disabled_NothingChecked()
    {
        Assert.True(new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { Enabled = false, Mode = "nonsense" }).Succeeded);
    }

    [Fact]
    public void SpoolPath_StateDirectory_UsedWhenSet()
    {
        var previous = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        Environment.SetEnvironmentVariable("STATE_DIRECTORY", "/var/lib/factoryedge:/var/lib/other");
        try
        {
            Assert.Equal("/var/lib/factoryedge/telemetry.db", SpoolOptions.DefaultPath());
            Assert.Equal("/data/x.db", new SpoolOptions { Path = "/data/x.db" }.ResolvePath());
        }
        finally
        {
            Environment.SetEnvironmentVariable("STATE_DIRECTORY", previous);
        }
    }

    [Fact]
    public async Task AddFactoryEdgeTelemetry_Registers_SinkNotifierServiceAndHostedServices()
    {
        using var dir = TestData.Temp();
        var configuration = Config(("FactoryEdge:Telemetry:Spool:Path", dir.File("t.db")), ("FactoryEdge:Gateway:Id", "gw-7"));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddFactoryEdgeTelemetry(configuration);
        builder.Services.AddFactoryEdgeTelemetry(configuration); // twice is harmless
        using var host = builder.Build();
        Assert.Single(host.Services.GetServices<ITelemetrySink>().OfType<TelemetrySink>());
        Assert.Single(host.Services.GetServices<IAlertNotifier>().OfType<TelemetryAlertNotifier>());
        await host.StartAsync();
        var service = host.Services.GetRequiredService<TelemetryService>();
        Assert.False(service.HasServer);
        await host.Services.GetServices<IAlertNotifier>().OfType<TelemetryAlertNotifier>().Single().NotifyAsync(TestData.Alert(TestData.ChannelA, 1), CancellationToken.None);
        await host.StopAsync();
        Assert.Equal(1, service.GetStatistics().Spool.AlertLines);
    }

    [Fact]
    public async Task AddFactoryEdgeTelemetry_BadConfiguration_StartFailsNamingTheKey()
    {
        var configuration = Config(("FactoryEdge:Telemetry:Mode", "Sometimes"));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddFactoryEdgeTelemetry(configuration);
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("FactoryEdge:Telemetry:Mode = 'Sometimes'", string.Join("\n", ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFactoryEdgeTelemetry_UnknownKey_StartFails()
    {
        var configuration = Config(("FactoryEdge:Telemetry:Infux:Url", "http://typo"));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddFactoryEdgeTelemetry(configuration);
        using var host = builder.Build();
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());
    }

    [Fact]
    public void AddFactoryEdgeTelemetry_Disabled_NoSinkNoNotifier()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddFactoryEdgeTelemetry(Config(("FactoryEdge:Telemetry:Enabled", "false")));
        using var host = builder.Build();
        Assert.Empty(host.Services.GetServices<ITelemetrySink>());
        Assert.Empty(host.Services.GetServices<IAlertNotifier>());
    }

    [Fact]
    public async Task HealthReporter_NoPipeline_WritesGatewayMetricsLine()
    {
        using var dir = TestData.Temp();
        var options = new TelemetryOptions { Spool = new SpoolOptions { Path = dir.File("t.db") } };
        await using var service = new TelemetryService(options, () => TestData.FeatureNames, transport: null, TimeProvider.System);
        var sink = new TelemetrySink(service);
        var reporter = new TelemetryHealthReporter(service, sink, () => null, options, "gw 1", TimeProvider.System, new Microsoft.Extensions.Logging.Abstractions.NullLogger<TelemetryHealthReporter>());
        reporter.Report();
        service.Flush();
        await service.PumpAsync(CancellationToken.None);
        using var output = new StringWriter();
        await Cli.TelemetryCommands.QueryAsync(new Cli.TelemetryQuerySettings { SpoolPath = dir.File("t.db"), Measurement = TelemetrySchema.GatewayMeasurement, Format = "lp" }, output, TextWriter.Null, null, CancellationToken.None);
        var line = output.ToString().Trim();
        Assert.StartsWith("fe_gateway,gateway=gw\\ 1 ", line, StringComparison.Ordinal);
        var p = LineProtocolParser.Parse(line);
        Assert.NotNull(p.Field("working_set_bytes"));
        Assert.NotNull(p.Field("spool_points"));
        Assert.Null(p.Field("latency_p50_us")); // NaN without a pipeline: omitted
    }

    [Fact]
    public async Task Sink_CountsUnhealthyWindowsPerChannel()
    {
        using var dir = TestData.Temp();
        await using var service = new TelemetryService(new TelemetryOptions { Spool = new SpoolOptions { Path = dir.File("t.db") } }, () => TestData.FeatureNames, transport: null, TimeProvider.System);
        var sink = new TelemetrySink(service);
        var w = TestData.Window(TestData.ChannelB, 1, index: 70);
        w.Health = ChannelHealthFlags.BadQuality | ChannelHealthFlags.GapBefore;
        await sink.WriteAsync(w, CancellationToken.None);
        w.Health = ChannelHealthFlags.GapBefore;
        await sink.WriteAsync(w, CancellationToken.None);
        Assert.Equal((1L, 1L, 2L), sink.HealthCounts(70));
        Assert.Equal((0L, 0L, 0L), sink.HealthCounts(3));
        Assert.Equal("telemetry", sink.Name);
    }
}
