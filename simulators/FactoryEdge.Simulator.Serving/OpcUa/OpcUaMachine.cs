using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Server;
using FactoryEdge.Simulator.Machines;

namespace FactoryEdge.Simulator.OpcUa;

/// <summary>The simulator's node ids: namespace <see cref="NamespaceUri"/>, string ids <c>MACHINE</c> and <c>MACHINE.VARIABLE</c>.</summary>
internal static class SimulatorNodes
{
    public const string NamespaceUri = "urn:factoryedge:simulator";
    public const string Waveform = "Waveform";
    public const string SampleRate = "SampleRate";
    public const string Sequence = "Sequence";
    public const string Rms = "Rms";
    public const string Peak = "Peak";
    public const string Temperature = "Temperature";
    public const string Speed = "Speed";
    public const string Severity = "Severity";

    /// <summary>The <c>nsu=</c> form of a machine's variable, as the gateway's configuration writes it.</summary>
    public static string Id(string machine, string variable) => $"nsu={NamespaceUri};s={machine}.{variable}";
}

/// <summary>
/// One simulated machine in the OPC UA address space: a folder <c>Objects/MACHINE</c> with
/// <c>Waveform</c> (Float[N], the last block, source timestamp = its first sample's time),
/// <c>SampleRate</c> (Double, Hz), <c>Sequence</c> (UInt32, blocks published), <c>Rms</c>, <c>Peak</c>
/// (Double, the block's), <c>Temperature</c> (Double, °C), <c>Speed</c> (Double, rpm) and
/// <c>Severity</c> (Double), each with EngineeringUnits where it has a unit. A block and its scalars
/// change together (scalars first, the waveform last).
/// </summary>
internal sealed class OpcUaMachine : SimulatedMachine
{
    private readonly DateTime _start;
    private readonly UaVariable _waveform;
    private readonly UaVariable _sampleRate;
    private readonly UaVariable _sequence;
    private readonly UaVariable _rms;
    private readonly UaVariable _peak;
    private readonly UaVariable _temperatureNode;
    private readonly UaVariable _speed;
    private readonly UaVariable _severity;

    public OpcUaMachine(MachineDefinition definition, AddressSpace space, ushort ns, DateTime start)
        : base(definition)
    {
        ArgumentNullException.ThrowIfNull(space);
        _start = start;
        var name = definition.Name;
        var folder = space.AddObject(new NodeId(name, ns), new NodeId(WellKnownNodes.ObjectsFolder), new QualifiedName(ns, name), name, new NodeId(ServerNodeIds.FolderType), WellKnownNodes.Organizes);
        UaVariable Add(string variable, Variant initial, BuiltInType type, int rank = -1, uint length = 0) =>
            space.AddVariable(new NodeId($"{name}.{variable}", ns), folder.NodeId, new QualifiedName(ns, variable), variable, initial, ServerNodeIds.DataTypeOf(type), rank, length);
        _waveform = Add(SimulatorNodes.Waveform, new Variant(new float[definition.BlockSize]), BuiltInType.Float, 1, (uint)definition.BlockSize);
        _sampleRate = Add(SimulatorNodes.SampleRate, new Variant(definition.SampleRateHz), BuiltInType.Double);
        _sequence = Add(SimulatorNodes.Sequence, new Variant(0u), BuiltInType.UInt32);
        _rms = Add(SimulatorNodes.Rms, new Variant(0.0), BuiltInType.Double);
        _peak = Add(SimulatorNodes.Peak, new Variant(0.0), BuiltInType.Double);
        _temperatureNode = Add(SimulatorNodes.Temperature, new Variant(TemperatureModel.BaseC), BuiltInType.Double);
        _speed = Add(SimulatorNodes.Speed, new Variant(definition.Rpm), BuiltInType.Double);
        _severity = Add(SimulatorNodes.Severity, new Variant(0.0), BuiltInType.Double);
        const string unit = "g";
        space.AddEngineeringUnits(_waveform, unit, "G");
        space.AddEngineeringUnits(_rms, unit, "G");
        space.AddEngineeringUnits(_peak, unit, "G");
        space.AddEngineeringUnits(_sampleRate, "Hz", "HTZ");
        space.AddEngineeringUnits(_temperatureNode, "°C", "CEL");
        space.AddEngineeringUnits(_speed, "rpm", "RPM");
    }

    /// <summary>The waveform node (its <see cref="UaVariable.Consumed"/> paces on-read replays).</summary>
    public UaVariable WaveformNode => _waveform;

    protected override void OnEnded()
    {
        // The nodes keep the last block's values.
    }

    protected override void Publish(float[] block, BlockInfo info, double rms, double peak, double temperature)
    {
        var blockStart = info.SignalSeconds - (block.Length / Source.SampleRateHz);
        var stamp = _start.AddTicks((long)Math.Round(blockStart * TimeSpan.TicksPerSecond));
        var blocks = CurrentReadings.Blocks + 1;
        CurrentReadings = new MachineReadings(blocks, unchecked((ushort)blocks), rms, peak, temperature, Definition.Rpm, info.Severity, Running: true, Ended: false);
        _rms.SetValue(new Variant(rms), stamp);
        _peak.SetValue(new Variant(peak), stamp);
        _temperatureNode.SetValue(new Variant(temperature), stamp);
        _speed.SetValue(new Variant(Definition.Rpm), stamp);
        _severity.SetValue(new Variant(info.Severity), stamp);
        _sequence.SetValue(new Variant((uint)Math.Min(blocks, uint.MaxValue)), stamp);
        _waveform.SetValue(new Variant((float[])block.Clone()), stamp);
    }
}
