using System.Globalization;
using FactoryEdge.Gateway.Cli;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// The real gateway host, in process, running the demo's three simulated machines (motor-3 develops an
/// outer-race fault early, the baseline learns briefly) with the dashboard on a random port of a
/// non-loopback bind (0.0.0.0), so credentials are required: users olga (operator) and victor (viewer),
/// and one bearer token per role.
/// </summary>
public abstract class GatewayHostFixture(double faultAtSeconds) : IAsyncLifetime
{
    public const string Operator = "olga";
    public const string OperatorPassword = "olga-operator-password";
    public const string Viewer = "victor";
    public const string ViewerPassword = "victor-viewer-password";
    /// <summary>Seconds after start when motor-3's outer-race fault begins.</summary>
    public double FaultAtSeconds { get; } = faultAtSeconds;
    public const string FaultyMachine = "plant/line-1/motor-3";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fe-dashboard-" + Guid.NewGuid().ToString("N")[..8]);

    public IHost Host { get; private set; } = null!;

    public Uri BaseUri { get; private set; } = null!;

    public string OperatorToken { get; } = TokenHasher.NewToken();

    public string ViewerToken { get; } = TokenHasher.NewToken();

    public long StartedTimestamp { get; private set; }

    public IReadOnlyList<DemoMachine> Machines { get; private set; } = [];

    public LiveHub Hub => Host.Services.GetRequiredService<LiveHub>();

    public DisplayTap Tap => Host.Services.GetRequiredService<DisplayTap>();

    public PipelineHostedService Pipeline => Host.Services.GetRequiredService<PipelineHostedService>();

    /// <summary>The gateway's telemetry store (embedded: no InfluxDB configured).</summary>
    public string SpoolPath => Path.Combine(_directory, "telemetry.db");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var overrides = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["FactoryEdge:Gateway:Site"] = "plant",
            ["FactoryEdge:Gateway:Line"] = "line-1",
            ["FactoryEdge:Pipeline:Baseline:WarmupWindows"] = "40",
            ["FactoryEdge:Telemetry:Spool:Path"] = SpoolPath,
            ["FactoryEdge:Operations:Urls"] = "http://127.0.0.1:0",
            ["FactoryEdge:Dashboard:Urls"] = "http://0.0.0.0:0",
            ["FactoryEdge:Dashboard:PushIntervalMs"] = "250",
            ["FactoryEdge:Dashboard:StalledClientSeconds"] = "3",
            ["FactoryEdge:Dashboard:Users:0:Name"] = Operator,
            ["FactoryEdge:Dashboard:Users:0:Role"] = "Operator",
            ["FactoryEdge:Dashboard:Users:0:PasswordHash"] = PasswordHasher.Hash(OperatorPassword, PasswordHasher.MinimumIterations),
            ["FactoryEdge:Dashboard:Users:1:Name"] = Viewer,
            ["FactoryEdge:Dashboard:Users:1:Role"] = "Viewer",
            ["FactoryEdge:Dashboard:Users:1:PasswordHash"] = PasswordHasher.Hash(ViewerPassword, PasswordHasher.MinimumIterations),
            ["FactoryEdge:Dashboard:Tokens:0:Name"] = "scada",
            ["FactoryEdge:Dashboard:Tokens:0:Role"] = "Operator",
            ["FactoryEdge:Dashboard:Tokens:0:Sha256"] = TokenHasher.Sha256Hex(OperatorToken),
            ["FactoryEdge:Dashboard:Tokens:1:Name"] = "wallboard",
            ["FactoryEdge:Dashboard:Tokens:1:Role"] = "Viewer",
            ["FactoryEdge:Dashboard:Tokens:1:Sha256"] = TokenHasher.Sha256Hex(ViewerToken),
        };
        // The demo's machines, generated in process by the simulated source (no sockets needed).
        Machines = DemoCommand.Machines(FaultAtSeconds);
        for (var i = 0; i < Machines.Count; i++)
        {
            var m = Machines[i];
            var key = $"{SourcesOptions.SectionName}:Simulated:{i}:";
            overrides[key + "Machine"] = m.Name;
            overrides[key + "ShaftRpm"] = m.Rpm.ToString(CultureInfo.InvariantCulture);
            overrides[key + "Fault"] = m.Fault.ToString();
            overrides[key + "FaultOnsetSeconds"] = m.FaultOnsetSeconds.ToString(CultureInfo.InvariantCulture);
            overrides[key + "FaultRampSeconds"] = Math.Max(m.FaultRampSeconds, 0.1).ToString(CultureInfo.InvariantCulture);
            overrides[key + "FaultSeverity"] = m.FaultSeverity.ToString(CultureInfo.InvariantCulture);
            overrides[key + "Seed"] = m.Seed.ToString(CultureInfo.InvariantCulture);
        }

        await BeforeStartAsync();
        Host = GatewayHost.Build(Path.Combine(TestData.RepoRoot, "config", "appsettings.json"), overrides: overrides);
        StartedTimestamp = TimeProvider.System.GetTimestamp();
        await Host.StartAsync();
        var address = (await Host.Services.GetRequiredService<DashboardServer>().Addresses)[0];
        BaseUri = new Uri($"http://127.0.0.1:{new Uri(address).Port}/");
    }

    /// <summary>Runs before the host is built (the directory exists): e.g. fills the telemetry store with history.</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The shared gateway of the browser and stalled-client tests: the fault starts early.</summary>
public sealed class GatewayFixture() : GatewayHostFixture(faultAtSeconds: 14);

/// <summary>
/// A gateway of its own for the alert test, started just before it, so that the pages are open
/// before the fault's alarm is raised and it can only arrive live.
/// </summary>
public sealed class FaultGatewayFixture() : GatewayHostFixture(faultAtSeconds: 25);

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway with dashboard";
}
