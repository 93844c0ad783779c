using FactoryEdge.Gateway.Cli;
using FactoryEdge.Gateway.Hosting;

namespace FactoryEdge.Gateway.Tests;

public sealed class ConfigurationTests
{
    private static string WriteConfig(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fe-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static async Task<(int Code, string Error)> Run(string path)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var code = await GatewayHost.RunAsync(path, cts.Token);
            return (code, error.ToString());
        }
        finally
        {
            Console.SetError(original);
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Run_WindowSizeNotPowerOfTwo_ExitsNonZeroNamingKeyAndAllowedValues()
    {
        var (code, error) = await Run(WriteConfig("""{ "FactoryEdge": { "Pipeline": { "WindowSize": 1000 } } }"""));
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("FactoryEdge:Pipeline:WindowSize", error, StringComparison.Ordinal);
        Assert.Contains("1024", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownFault_ExitsNonZeroListingAllowedFaults()
    {
        var (code, error) = await Run(WriteConfig("""{ "FactoryEdge": { "Sources": { "Simulated": [ { "Machine": "m1", "Fault": "Rust" } ] } } }"""));
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("FactoryEdge:Sources:Simulated:0:Fault", error, StringComparison.Ordinal);
        Assert.Contains("OuterRace", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MisspelledKey_ExitsNonZeroNamingIt()
    {
        var (code, error) = await Run(WriteConfig("""{ "FactoryEdge": { "Pipeline": { "WindowSise": 4096 } } }"""));
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("WindowSise", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MachineWithUnknownBearing_ExitsNonZeroNamingKeyAndCatalogue()
    {
        var (code, error) = await Run(WriteConfig("""{ "FactoryEdge": { "Machines": [ { "Machine": "pump-1", "Bearing": "XYZ 9999" } ] } }"""));
        Assert.Equal(ExitCodes.BadConfig, code);
        Assert.Contains("FactoryEdge:Machines:0", error, StringComparison.Ordinal);
        Assert.Contains("SKF 6205-2RS JEM", error, StringComparison.Ordinal);
    }

    [Fact]
    public void MachineCatalog_EntryForMachine_EnrichesOnlyThatMachinesChannels()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new MachinesOptions
        {
            Machines = [new MachineConfig { Machine = "pump-1", Bearing = "6205", NominalRpm = 1480, Support = Core.IsoSupport.Flexible }],
        });
        var catalog = new MachineCatalog(options, Microsoft.Extensions.Options.Options.Create(new GatewayOptions { Site = "s", Line = "l" }));
        var pump = catalog.Enrich(new Core.ChannelDescriptor { Id = new Core.ChannelId("s", "l", "pump-1", "de", "x"), SampleRateHz = 25600 });
        var fan = catalog.Enrich(new Core.ChannelDescriptor { Id = new Core.ChannelId("s", "l", "fan-2", "de", "x"), SampleRateHz = 25600 });
        Assert.Equal("SKF 6205-2RS JEM", pump.Bearing?.Name);
        Assert.Equal(1480 / 60.0, pump.NominalShaftHz, 9);
        Assert.Equal(Core.IsoSupport.Flexible, pump.Support);
        Assert.Null(fan.Bearing);
        Assert.Equal(0, fan.NominalShaftHz);
    }

    [Fact]
    public async Task Run_MissingConfigFile_ExitsNonZero()
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var code = await GatewayHost.RunAsync("/nonexistent/appsettings.json", CancellationToken.None);
            Assert.Equal(ExitCodes.BadConfig, code);
            Assert.Contains("/nonexistent/appsettings.json", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Console.SetError(original);
        }
    }

    [Fact]
    public void ShippedAppSettings_IsValidAndLoads()
    {
        using var host = GatewayHost.Build(Path.Combine(FactoryEdge.Tests.Shared.TestData.RepoRoot, "config", "appsettings.json"));
        Assert.NotNull(host.Services.GetService(typeof(Pipeline.Hosting.PipelineHostedService)));
    }
}
