using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FactoryEdge.Operations.Tests;

public sealed class OperationsEndpointTests
{
    [Fact]
    public async Task Healthz_RunningPipeline_Returns200Alive()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, GatewayUnderTest.Simulated("pump-1")));
        var (status, body) = await Http.GetAsync(new Uri(gw.BaseUri, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, status);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("alive").GetBoolean());
    }

    [Fact]
    public async Task Readyz_SimulatedSourceDelivering_Returns200ReadyWithSourceUp()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Monitor.Report.Status == "ready", "ready");
        var (status, body) = await Http.GetAsync(new Uri(gw.BaseUri, "/readyz"));
        Assert.Equal(HttpStatusCode.OK, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
        var source = Assert.Single(json.RootElement.GetProperty("sources").EnumerateArray());
        Assert.Equal("up", source.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Readyz_EverySourceDown_DegradedButReadyAndStillAlive()
    {
        // A recording that ends at once: its channel goes stale, the source is down; the pipeline itself still loops.
        await using var gw = await GatewayUnderTest.StartAsync(d =>
        {
            var csv = Path.Combine(d, "short.csv");
            File.WriteAllLines(csv, ["# sampling_rate_hz=12800 units=g", .. Enumerable.Range(0, 12800).Select(i => (0.1 * Math.Sin(i * 0.05)).ToString("R", CultureInfo.InvariantCulture))]);
            return GatewayUnderTest.Config(d, $$"""
                "Sources": { "Recordings": [ { "Path": "{{csv.Replace("\\", "/", StringComparison.Ordinal)}}", "Machine": "press", "Speed": 100, "Loop": false } ] }
                """);
        });
        await gw.WaitForAsync(() => gw.Monitor.Report.Status == "degraded", "degraded");
        var (ready, readyBody) = await Http.GetAsync(new Uri(gw.BaseUri, "/readyz"));
        var (live, _) = await Http.GetAsync(new Uri(gw.BaseUri, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, ready);
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.Contains("every source is down", readyBody, StringComparison.Ordinal);
        Assert.Contains("\"down\"", readyBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RunningPipeline_ExposesChannelPipelineSinkModelAndLatencyFamilies()
    {
        // A machine name no other test uses: every gateway in this process publishes on the same meter name.
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, GatewayUnderTest.Simulated("metrics-pump")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 3, "windows");
        await Task.Delay(1500); // a monitor tick after the windows
        var (status, text) = await Http.GetAsync(new Uri(gw.BaseUri, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, status);
        foreach (var family in new[]
        {
            "factoryedge_channel_samples_total{", "factoryedge_channel_windows_total{", "factoryedge_channel_gaps_total{",
            "factoryedge_channel_reconnects_total{", "factoryedge_channel_last_sample_age_seconds{",
            "factoryedge_pipeline_windows_total", "factoryedge_pipeline_dropped_windows_total", "factoryedge_pipeline_liveness_age_seconds",
            "factoryedge_pipeline_stage_duration_seconds_bucket{", "factoryedge_sink_depth{", "factoryedge_sink_failed_total{",
            "factoryedge_model_info{", "factoryedge_telemetry_spool_depth", "factoryedge_telemetry_spool_oldest_age_seconds",
        })
        {
            Assert.True(text.Contains(family, StringComparison.Ordinal), $"missing {family} in:{Environment.NewLine}{text}");
        }

        Assert.Contains("stage=\"scoring\"", text, StringComparison.Ordinal);
        var samples = text.Split('\n').First(l => l.StartsWith("factoryedge_channel_samples_total{", StringComparison.Ordinal) && l.Contains("machine=\"metrics-pump\"", StringComparison.Ordinal));
        Assert.True(double.Parse(samples[(samples.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture) > 0, samples);
    }

    [Fact]
    public async Task Endpoint_UnknownPathOrWriteMethod_Returns404Or405()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, GatewayUnderTest.Simulated("pump-1")));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync(new Uri(gw.BaseUri, "/"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync(new Uri(gw.BaseUri, "/config"))).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Http.GetAsync(new Uri(gw.BaseUri, "/readyz"), HttpMethod.Post)).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Http.GetAsync(new Uri(gw.BaseUri, "/healthz"), HttpMethod.Delete)).Status);
    }

    [Fact]
    public void Options_DefaultBind_IsLoopbackPort9470()
    {
        var options = new OperationsOptions();
        var uri = Assert.Single(options.ParsedUrls());
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(uri.Host)));
        Assert.Equal(9470, uri.Port);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9470", true)]
    [InlineData("http://[::1]:9470", true)]
    [InlineData("http://localhost:9470;http://10.0.0.5:9470", true)]
    [InlineData("http://0.0.0.0:9470", true)]
    [InlineData("http://*:9470", false)]
    [InlineData("http://gateway.plant.local:9470", false)]
    [InlineData("https://127.0.0.1:9470", false)]
    [InlineData("http://127.0.0.1:9470/metrics", false)]
    [InlineData("127.0.0.1:9470", false)]
    public void OptionsValidator_Urls_AcceptsOnlyHttpWithIpOrLocalhost(string urls, bool valid)
    {
        var result = new OperationsOptionsValidator().Validate(null, new OperationsOptions { Urls = urls });
        Assert.Equal(valid, result.Succeeded);
    }

    [Fact]
    public void OptionsValidator_HttpsOrPathOrBadNumbers_NamesEachKey()
    {
        var result = new OperationsOptionsValidator().Validate(null, new OperationsOptions { Urls = "https://0.0.0.0:9470/x", StallAfterSeconds = 0, ReloadPollSeconds = -1 });
        Assert.True(result.Failed);
        var failures = string.Join("\n", result.Failures!);
        Assert.Contains("FactoryEdge:Operations:Urls", failures, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Operations:StallAfterSeconds", failures, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Operations:ReloadPollSeconds", failures, StringComparison.Ordinal);
    }
}
