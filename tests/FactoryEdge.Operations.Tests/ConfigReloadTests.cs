using FactoryEdge.Gateway.Cli;

namespace FactoryEdge.Operations.Tests;

public sealed class ConfigReloadTests
{
    private static string Pipeline(int raiseAfter, int windowSize = 1024) =>
        $$""" "Pipeline": { "WindowSize": {{windowSize}}, "Alerts": { "RaiseAfter": {{raiseAfter}} } }, """;

    [Fact]
    public async Task Reload_ValidThresholdChange_RestartsPipelineInProcessWithNewValue()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, Pipeline(3) + GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "first windows");
        Assert.Equal(3, gw.Runtime.PipelineService!.Pipeline!.Options.Alerts.RaiseAfter);

        await gw.RewriteAsync(gw.ConfigPath, GatewayUnderTest.Config(gw.Directory, Pipeline(7) + GatewayUnderTest.Simulated("pump-1")));

        await gw.WaitForAsync(() => gw.Runtime.Generation == 1 && gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "restarted pipeline processing");
        Assert.Equal(7, gw.Runtime.PipelineService!.Pipeline!.Options.Alerts.RaiseAfter);
        Assert.True(gw.Logs.Contains("FactoryEdge:Pipeline:Alerts:RaiseAfter"), gw.Logs.All);
        await gw.WaitForAsync(() => gw.Monitor.Report.Status == "ready", "ready after restart");
    }

    [Fact]
    public async Task Reload_InvalidValue_RejectedNamingKeyAndOldConfigurationKeepsRunning()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, Pipeline(3) + GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "first windows");
        var pipeline = gw.Runtime.PipelineService!.Pipeline!;

        await gw.RewriteAsync(gw.ConfigPath, GatewayUnderTest.Config(gw.Directory, Pipeline(3, windowSize: 1000) + GatewayUnderTest.Simulated("pump-1")));

        await gw.WaitForAsync(() => gw.Logs.Contains("Configuration change rejected"), "rejection");
        Assert.Contains(gw.Logs.Lines, l => l.Text.Contains("Configuration change rejected", StringComparison.Ordinal) && l.Text.Contains("FactoryEdge:Pipeline:WindowSize", StringComparison.Ordinal));
        Assert.Equal(0, gw.Runtime.Generation);
        Assert.Same(pipeline, gw.Runtime.PipelineService!.Pipeline);
        var before = pipeline.WindowsProcessed;
        await gw.WaitForAsync(() => pipeline.WindowsProcessed > before, "old pipeline still processing");
        Assert.Equal(1024, pipeline.Options.WindowSize);
    }

    [Fact]
    public async Task Reload_UnreadableJson_RejectedAndOldConfigurationKeepsRunning()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, Pipeline(3) + GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "first windows");

        await gw.RewriteAsync(gw.ConfigPath, "{ \"FactoryEdge\": { \"Pipeline\": ");

        await gw.WaitForAsync(() => gw.Logs.Contains("Configuration change rejected"), "rejection");
        Assert.Equal(0, gw.Runtime.Generation);
        Assert.Equal("ready", (await WaitReady(gw)).Status);
    }

    [Fact]
    public async Task Reload_SiteOverrideAddsMachine_NewSensorListRuns()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, Pipeline(3) + GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "first windows");
        var channelsBefore = gw.Runtime.PipelineService!.Pipeline!.Channels.Count;

        // site.json beside the main file overrides the sensor list: two machines now.
        await gw.RewriteAsync(Path.Combine(gw.Directory, "site.json"), """
            { "FactoryEdge": { "Sources": { "Simulated": [
              { "Machine": "pump-1", "SampleRateHz": 12800 }, { "Machine": "fan-2", "SampleRateHz": 12800 } ] } } }
            """);

        await gw.WaitForAsync(() => gw.Runtime.Generation == 1 && gw.Runtime.PipelineService?.Pipeline is not null, "restart");
        var pipeline = gw.Runtime.PipelineService!.Pipeline!;
        Assert.Equal(2 * channelsBefore, pipeline.Channels.Count);
        Assert.Contains(pipeline.Channels, c => c.Id.Machine == "fan-2");
        await gw.WaitForAsync(() => gw.Monitor.Report is { Status: "ready", Sources.Count: 1 } r && r.Sources[0].ChannelsUp == 2 * channelsBefore, "both machines delivering");
    }

    [Fact]
    public async Task Reload_LoggingOnly_AppliesWithoutRestart()
    {
        await using var gw = await GatewayUnderTest.StartAsync(d => GatewayUnderTest.Config(d, GatewayUnderTest.Simulated("pump-1")));
        await gw.WaitForAsync(() => gw.Runtime.PipelineService?.Pipeline?.WindowsProcessed > 0, "first windows");
        var text = (await File.ReadAllTextAsync(gw.ConfigPath)).Replace("\"Default\": \"Information\"", "\"Default\": \"Warning\"", StringComparison.Ordinal);
        await gw.RewriteAsync(gw.ConfigPath, text);
        await gw.WaitForAsync(() => gw.Logs.Contains("changed keys: Logging:LogLevel:Default"), "change seen");
        await Task.Delay(500);
        Assert.Equal(0, gw.Runtime.Generation);
    }

    private static async Task<HealthReport> WaitReady(GatewayUnderTest gw)
    {
        await gw.WaitForAsync(() => gw.Monitor.Report.Status == "ready", "ready");
        return gw.Monitor.Report;
    }
}

public sealed class ConfigCheckTests
{
    [Fact]
    public async Task Check_ShippedAppsettings_ReturnsOk()
    {
        var (code, stdout, stderr) = await Check(Path.Combine(Repo.Root, "config", "appsettings.json"));
        Assert.True(code == 0, stderr);
        Assert.StartsWith("OK", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_BadWindowSize_ExitCode4NamingKey()
    {
        var (code, _, stderr) = await CheckText("""{ "FactoryEdge": { "Pipeline": { "WindowSize": 1000 } } }""");
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("FactoryEdge:Pipeline:WindowSize = 1000", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_UnknownKey_ExitCode4NamingIt()
    {
        var (code, _, stderr) = await CheckText("""{ "FactoryEdge": { "Pipeline": { "WindowSise": 4096 } } }""");
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("WindowSise", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_DuplicateMachine_ExitCode4()
    {
        var (code, _, stderr) = await CheckText("""{ "FactoryEdge": { "Sources": { "Simulated": [ { "Machine": "a" }, { "Machine": "a" } ] } } }""");
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("FactoryEdge:Sources:Simulated:1:Machine", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_BrokenJson_ExitCode4()
    {
        var (code, _, stderr) = await CheckText("""{ "FactoryEdge": { """);
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.StartsWith("configuration error:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_MissingFile_ExitCode3()
    {
        var (code, _, stderr) = await Check(Path.Combine(Path.GetTempPath(), "no-such-factoryedge.json"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("not found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_SiteOverrideWithBadOperationsBind_ExitCode4()
    {
        var site = Path.Combine(Path.GetTempPath(), $"fe-site-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(site, """{ "FactoryEdge": { "Operations": { "Urls": "https://0.0.0.0:9470" } } }""");
        try
        {
            var (code, _, stderr) = await Check(Path.Combine(Repo.Root, "config", "appsettings.json"), site);
            Assert.Equal(ExitCodes.BadConfig, code);
            Assert.Contains("FactoryEdge:Operations:Urls", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(site);
        }
    }

    [Fact]
    public async Task Check_WebhookSecretOnlyInCredentials_FailsWithoutAndPassesWithThem()
    {
        var dir = Directory.CreateTempSubdirectory("fe-check-cred-");
        try
        {
            var file = Path.Combine(dir.FullName, "appsettings.json");
            await File.WriteAllTextAsync(file, """{ "FactoryEdge": { "Alerts": { "Webhooks": [ { "Name": "ops", "Url": "https://example.invalid/hook" } ] } } }""");
            var credentials = Directory.CreateDirectory(Path.Combine(dir.FullName, "credentials"));
            await File.WriteAllTextAsync(Path.Combine(credentials.FullName, "FactoryEdge__Alerts__Webhooks__0__Secret"), "0123456789abcdef-secret\n");

            var (without, _, stderr) = await Check(file);
            Assert.Equal(ExitCodes.BadConfig, without);
            Assert.Contains("Webhooks:0:Secret", stderr, StringComparison.Ordinal);

            using var stdout = new StringWriter();
            using var errors = new StringWriter();
            var with = await ConfigCommand.CheckAsync(file, null, environment: false, stdout, errors, CancellationToken.None, credentials.FullName);
            Assert.True(with == 0, errors.ToString());
            Assert.DoesNotContain("0123456789abcdef-secret", stdout + errors.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> CheckText(string json)
    {
        var file = Path.Combine(Path.GetTempPath(), $"fe-check-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, json);
        try
        {
            return await Check(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Check(string file, string? site = null)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await ConfigCommand.CheckAsync(file, site, environment: false, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
