using System.Globalization;
using System.Text.Json;
using FactoryEdge.IntegrationTests.Modbus;
using FactoryEdge.IntegrationTests.OpcUa;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using FactoryEdge.Simulator.OpcUa;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.IntegrationTests.OpcUaServer;

/// <summary>
/// node-opcua's client (tests/peers/opcua/sim-client.js) against our OPC UA server, as the simulator
/// serves it (in process, a free loopback port): endpoints, browse, Read with IndexRange, and a
/// subscription to a Float[2048] waveform, with SecurityPolicy None and with Basic256Sha256 in Sign
/// and SignAndEncrypt (the simulator's own certificate; node-opcua accepts it).
/// </summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaClientTests
{
    private static readonly string ClientScript = Path.Combine(OpcUaPeers.PeerDirectory, "sim-client.js");

    private static async Task<OpcUaSimulator> StartAsync(SimulatorSecurityMode security)
    {
        var spec = MachineSpecParser.Parse("name=bearing,fault=outer-race,rpm=1780,seed=5");
        var machines = MachineCatalog.Resolve(new MachineSpec(), [spec]);
        var settings = SimulatorSecurity.Apply(new OpcUaSimulatorSettings { Port = 0, Pacing = SimulatorPacing.RealTime }, security, TimeProvider.System);
        var simulator = new OpcUaSimulator(settings, machines, NullLoggerFactory.Instance, TimeProvider.System);
        simulator.Start();
        await Task.Yield();
        return simulator;
    }

    private static JsonElement RunClient(string url, string? security)
    {
        OpcUaPeers.Require();
        List<string> args = [ClientScript, "--url", url, "--machine", "bearing", "--seconds", "2"];
        if (security is not null)
        {
            args.AddRange(["--security", security]);
        }

        var (code, stdout, stderr) = ModbusPeers.Run(OpcUaPeers.NodePath!, [.. args], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"node-opcua client failed ({code}): {stderr}\n{stdout}");
        var json = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(static l => l.StartsWith('{'));
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [OpcUaPeerFact]
    public async Task NodeOpcUaClient_None_BrowsesReadsAndSubscribes()
    {
        await using var simulator = await StartAsync(SimulatorSecurityMode.All);
        using var stop = new CancellationTokenSource();
        var pacing = simulator.RunAsync(stop.Token);
        var result = RunClient(simulator.EndpointUrl, null);
        await stop.CancelAsync();
        await pacing;

        Assert.Equal(["None/None", "Basic256Sha256/Sign", "Basic256Sha256/SignAndEncrypt"], result.GetProperty("endpoints").EnumerateArray().Select(static e => e.GetString()));
        Assert.Contains("bearing", result.GetProperty("objects").EnumerateArray().Select(static e => e.GetString()));
        Assert.Equal(["Peak", "Rms", "SampleRate", "Sequence", "Severity", "Speed", "Temperature", "Waveform"], result.GetProperty("variables").EnumerateArray().Select(static e => e.GetString()!));
        AssertWaveform(result);
    }

    [OpcUaPeerFact]
    public async Task NodeOpcUaClient_Basic256Sha256SignAndEncrypt_ReadsAndSubscribes()
    {
        await using var simulator = await StartAsync(SimulatorSecurityMode.Secure);
        using var stop = new CancellationTokenSource();
        var pacing = simulator.RunAsync(stop.Token);
        var result = RunClient(simulator.EndpointUrl, "Basic256Sha256:SignAndEncrypt");
        await stop.CancelAsync();
        await pacing;
        Assert.Equal(["Basic256Sha256/Sign", "Basic256Sha256/SignAndEncrypt"], result.GetProperty("endpoints").EnumerateArray().Select(static e => e.GetString()));
        AssertWaveform(result);
    }

    [OpcUaPeerFact]
    public async Task NodeOpcUaClient_Basic256Sha256Sign_ReadsAndSubscribes()
    {
        await using var simulator = await StartAsync(SimulatorSecurityMode.All);
        using var stop = new CancellationTokenSource();
        var pacing = simulator.RunAsync(stop.Token);
        var result = RunClient(simulator.EndpointUrl, "Basic256Sha256:Sign");
        await stop.CancelAsync();
        await pacing;
        AssertWaveform(result);
    }

    private static void AssertWaveform(JsonElement result)
    {
        Assert.Equal("Good", result.GetProperty("waveformStatus").GetString());
        Assert.Equal(2048, result.GetProperty("waveformLength").GetInt32());
        Assert.Equal("ns=0;i=10", result.GetProperty("dataType").GetString());
        Assert.Equal(25600, result.GetProperty("sampleRate").GetDouble());
        Assert.Equal(10, result.GetProperty("rangeLength").GetInt32());
        Assert.InRange(result.GetProperty("waveformRms").GetDouble(), 0.5, 5); // a developed outer-race fault
        // 2 s at one block per 80 ms: about 25 notifications, all whole blocks, in time order.
        var notifications = result.GetProperty("notifications").GetInt32();
        Assert.True(notifications >= 15, string.Create(CultureInfo.InvariantCulture, $"{notifications} notifications in 2 s"));
        Assert.Equal([2048], result.GetProperty("lengths").EnumerateArray().Select(static e => e.GetInt32()));
        Assert.True(result.GetProperty("ordered").GetBoolean());
    }
}
