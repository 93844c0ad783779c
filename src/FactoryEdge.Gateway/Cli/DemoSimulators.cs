using System.Globalization;
using System.Net;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using FactoryEdge.Simulator.OpcUa;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Gateway.Cli;

/// <summary>Over which protocol the demo serves a machine.</summary>
public enum DemoTransport
{
    OpcUa,
    Modbus,
}

/// <summary>A machine of the demo: generated (with an optional fault) or a replayed recording.</summary>
public sealed record DemoMachine(string Name, double Rpm, int Seed, DemoTransport Transport, FaultType Fault = FaultType.None, double FaultOnsetSeconds = 0, double FaultRampSeconds = 0, double FaultSeverity = 1)
{
    public string TransportName => Transport == DemoTransport.OpcUa ? "OPC UA" : "Modbus";
}

/// <summary>
/// The demo's machines, served over the wire in process on loopback ephemeral ports with our own
/// stacks (the simulators of <c>factoryedge-sim</c>): an OPC UA server for some machines and a
/// Modbus TCP server (one unit id each) for the others. <see cref="Overrides"/> is the gateway
/// configuration that reads them back through its real OPC UA and Modbus sources.
/// </summary>
internal sealed class DemoSimulators : IAsyncDisposable
{
    public const int BlockSize = 2048;
    public const double SampleRateHz = 25600;
    public const string Bearing = "SKF 6205-2RS JEM";

    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    private DemoSimulators(IReadOnlyList<DemoMachine> machines, OpcUaSimulator opcUa, ModbusSimulator? modbus)
    {
        Machines = machines;
        OpcUa = opcUa;
        Modbus = modbus;
    }

    public IReadOnlyList<DemoMachine> Machines { get; }

    public OpcUaSimulator OpcUa { get; }

    public ModbusSimulator? Modbus { get; }

    public string ModbusEndpoint { get; private set; } = "";

    /// <summary>The demo's generated machines: four over OPC UA (motor-3 develops an outer-race fault), two over Modbus.</summary>
    public static IReadOnlyList<DemoMachine> Generated(double faultAtSeconds) =>
    [
        new("pump-1", 1480, 11, DemoTransport.OpcUa),
        new("fan-2", 2950, 22, DemoTransport.OpcUa),
        new(DemoCommand.FaultyMachine, 1780, 33, DemoTransport.OpcUa, FaultType.OuterRace, faultAtSeconds, 6, 1.0),
        new("compressor-4", 1180, 44, DemoTransport.OpcUa),
        new("press-5", 1780, 55, DemoTransport.Modbus),
        new("conveyor-6", 980, 66, DemoTransport.Modbus),
    ];

    /// <summary>Starts the servers (first blocks published, sockets listening); <see cref="Run"/> starts the pacing.</summary>
    public static DemoSimulators Start(IReadOnlyList<DemoMachine> machines, string? replay, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(machines);
        List<MachineDefinition> opcUa;
        var modbus = new List<MachineDefinition>();
        if (replay is not null)
        {
            var spec = MachineSpecParser.Parse($"name=replay,recording={replay},loop=true,block={BlockSize}");
            opcUa = [.. MachineCatalog.Resolve(new MachineSpec(), [spec])];
            var d = opcUa[0];
            machines = [new DemoMachine("replay", d.Rpm, 0, DemoTransport.OpcUa)];
        }
        else
        {
            opcUa = [];
            for (var i = 0; i < machines.Count; i++)
            {
                var m = machines[i];
                (m.Transport == DemoTransport.OpcUa ? opcUa : modbus).Add(Define(m, m.Transport == DemoTransport.OpcUa ? opcUa.Count : modbus.Count));
            }
        }

        var opcUaSimulator = new OpcUaSimulator(new OpcUaSimulatorSettings { Bind = IPAddress.Loopback, Port = 0 }, opcUa, loggerFactory, time);
        ModbusSimulator? modbusSimulator = null;
        try
        {
            opcUaSimulator.Start();
            if (modbus.Count > 0)
            {
                modbusSimulator = new ModbusSimulator(new ModbusSimulatorSettings { Bind = IPAddress.Loopback, Port = 0 }, modbus, loggerFactory, time);
            }

            var demo = new DemoSimulators(machines, opcUaSimulator, modbusSimulator);
            demo.ModbusEndpoint = modbusSimulator?.Start() ?? "";
            return demo;
        }
        catch
        {
            opcUaSimulator.DisposeAsync().AsTask().GetAwaiter().GetResult();
            modbusSimulator?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static MachineDefinition Define(DemoMachine m, int index) => new()
    {
        Name = m.Name,
        Index = index,
        BlockSize = BlockSize,
        StrideSamples = BlockSize,
        SampleRateHz = SampleRateHz,
        Rpm = m.Rpm,
        Generator = new MachineSignalOptions
        {
            SampleRateHz = SampleRateHz,
            ShaftHz = m.Rpm / 60.0,
            Seed = m.Seed,
            Faults = m.Fault == FaultType.None ? [] : [new MachineFault(m.Fault, m.FaultSeverity, m.FaultOnsetSeconds, m.FaultRampSeconds)],
        },
        Description = string.Create(CultureInfo.InvariantCulture, $"generator rpm={m.Rpm} fault={m.Fault} seed={m.Seed}"),
    };

    /// <summary>Paces every machine in real time until disposed.</summary>
    public void Run()
    {
        var token = _stop.Token;
        _running = Task.WhenAll(
            OpcUa.RunAsync(token),
            Modbus?.RunPacingAsync(token) ?? Task.CompletedTask);
    }

    /// <summary>Gateway configuration keys that read every machine through the OPC UA and Modbus sources.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Overrides(string site, string line)
    {
        var server = "FactoryEdge:OpcUa:Servers:0:";
        yield return new(server + "Name", "demo-opcua");
        yield return new(server + "EndpointUrl", OpcUa.EndpointUrl);

        // Loopback inside one process: no certificates to trust for a first run.
        yield return new(server + "SecurityPolicy", "None");
        yield return new(server + "AllowSecurityPolicyNone", "true");
        yield return new(server + "PublishingIntervalMs", "50");
        yield return new(server + "KeepAliveCount", "20");
        var waveform = 0;
        var device = 0;
        foreach (var m in Machines)
        {
            var channel = $"{site}/{line}/{m.Name}/de/x";
            if (m.Transport == DemoTransport.OpcUa)
            {
                var key = $"{server}Waveforms:{waveform++}:";
                yield return new(key + "Channel", channel);
                yield return new(key + "NodeId", SimulatorNodes.Id(m.Name, SimulatorNodes.Waveform));
                yield return new(key + "SampleRateNodeId", "../" + SimulatorNodes.SampleRate);
                yield return new(key + "Unit", "g");
                yield return new(key + "Contiguous", "true");
                yield return new(key + "QueueSize", "16");
            }
            else
            {
                var unit = Modbus!.Machines.First(x => x.Name == m.Name).Unit;
                var key = $"FactoryEdge:Modbus:Devices:{device++}:";
                var endpoint = IPEndPoint.Parse(ModbusEndpoint);
                yield return new(key + "Name", "demo-modbus-" + m.Name);
                yield return new(key + "Host", endpoint.Address.ToString());
                yield return new(key + "Port", endpoint.Port.ToString(CultureInfo.InvariantCulture));
                yield return new(key + "UnitId", unit.ToString(CultureInfo.InvariantCulture));
                yield return new(key + "AddressBase", "0");
                yield return new(key + "PollIntervalMs", "1000");
                yield return new(key + "MaxInFlight", "4");
                yield return new(key + "Waveforms:0:Channel", channel);
                yield return new(key + "Waveforms:0:Table", "Input");
                yield return new(key + "Waveforms:0:Address", "1000");
                yield return new(key + "Waveforms:0:SampleCount", BlockSize.ToString(CultureInfo.InvariantCulture));
                yield return new(key + "Waveforms:0:SampleRateHz", SampleRateHz.ToString(CultureInfo.InvariantCulture));
                yield return new(key + "Waveforms:0:PollIntervalMs", "10");
                yield return new(key + "Waveforms:0:Contiguous", "true");
                yield return new(key + "Waveforms:0:Unit", "g");
            }
        }

        // What the site knows about the machines: a waveform carries samples, not the bearing or the speed.
        for (var i = 0; i < Machines.Count; i++)
        {
            var key = $"FactoryEdge:Machines:{i}:";
            yield return new(key + "Machine", Machines[i].Name);
            yield return new(key + "Bearing", Bearing);
            if (Machines[i].Rpm > 0)
            {
                yield return new(key + "NominalRpm", Machines[i].Rpm.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await OpcUa.DisposeAsync().ConfigureAwait(false);
        if (Modbus is not null)
        {
            await Modbus.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
