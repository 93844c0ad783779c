using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Machines;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.Modbus;

/// <summary>How blocks are paced.</summary>
internal enum SimulatorPacing
{
    /// <summary>One block per acquisition period on the clock, divided by the speed factor.</summary>
    RealTime,

    /// <summary>The next block is published at the first request after the current one was read completely.</summary>
    OnRead,
}

/// <summary>Settings of the Modbus simulator (from the <c>modbus</c> subcommand).</summary>
internal sealed record ModbusSimulatorSettings
{
    public IPAddress Bind { get; init; } = IPAddress.Loopback;

    public int Port { get; init; } = 5020;

    public int FirstUnit { get; init; } = 1;

    public ModbusByteOrder ByteOrder { get; init; } = ModbusByteOrder.BigEndian;

    public ModbusWordOrder WordOrder { get; init; } = ModbusWordOrder.HighWordFirst;

    public SimulatorPacing Pacing { get; init; } = SimulatorPacing.RealTime;

    public double Speed { get; init; } = 1;

    public int MaxConnections { get; init; } = 16;

    public IReadOnlyList<ExceptionRule> Exceptions { get; init; } = [];

    public int SlowMilliseconds { get; init; }

    public int DropEvery { get; init; }

    public int MuteEvery { get; init; }
}

/// <summary>
/// The Modbus simulator: one <see cref="ModbusMachine"/> per unit id behind one <see cref="ModbusServer"/>
/// (units without a machine answer exception 0B, as a gateway does), blocks paced in real time (× speed)
/// or on read, transport faults from <see cref="Faults"/>.
/// </summary>
internal sealed class ModbusSimulator : IAsyncDisposable
{
    private readonly ModbusSimulatorSettings _settings;
    private readonly ModbusMachine?[] _byUnit = new ModbusMachine?[256];
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ModbusServer _server;

    public ModbusSimulator(ModbusSimulatorSettings settings, IReadOnlyList<MachineDefinition> machines, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(machines);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger("FactoryEdge.Simulator.Modbus");
        var list = new List<ModbusMachine>(machines.Count);
        foreach (var definition in machines)
        {
            var unit = AssignUnit(definition, settings.FirstUnit);
            if (_byUnit[unit] is { } other)
            {
                throw new SimulatorUsageException(string.Create(CultureInfo.InvariantCulture, $"unit {unit} is used by machines '{other.Name}' and '{definition.Name}'; give each its own unit= (or another --unit)"));
            }

            var machine = new ModbusMachine(definition, (byte)unit, settings.ByteOrder, settings.WordOrder);
            _byUnit[unit] = machine;
            list.Add(machine);
        }

        Machines = list;
        Faults = new ModbusFaultInjector();
        foreach (var rule in settings.Exceptions)
        {
            Faults.AddException(rule);
        }

        Faults.SetSlow(TimeSpan.FromMilliseconds(settings.SlowMilliseconds));
        Faults.SetDrop(new FaultSchedule(settings.DropEvery, Next: false));
        Faults.SetMute(new FaultSchedule(settings.MuteEvery, Next: false));
        _server = new ModbusServer(
            unit => _byUnit[unit]?.Bank,
            new ModbusServerOptions { Address = settings.Bind, Port = settings.Port, MaxConnections = settings.MaxConnections },
            loggerFactory.CreateLogger<ModbusServer>(),
            timeProvider);
        _server.Faults.Rule = OnRequest;
    }

    public IReadOnlyList<ModbusMachine> Machines { get; }

    public ModbusFaultInjector Faults { get; }

    public ModbusServerStatistics ServerStatistics => _server.Statistics;

    public int ActiveConnections => _server.ActiveConnections;

    /// <summary>The listening endpoint as printed in the ready line, e.g. <c>127.0.0.1:5020</c> or <c>[::1]:5020</c>.</summary>
    public string Endpoint { get; private set; } = string.Empty;

    public ModbusSimulatorSettings Settings => _settings;

    /// <summary>Publishes every machine's first block and starts listening. Throws <see cref="SocketException"/> when it cannot bind.</summary>
    public string Start()
    {
        foreach (var machine in Machines)
        {
            machine.PublishNext();
            Log.MachineServed(
                _logger,
                machine.Name,
                machine.Unit,
                machine.Definition.Description,
                machine.Definition.BlockSize,
                machine.Definition.PeriodSeconds * 1000 / (_settings.Pacing == SimulatorPacing.RealTime ? _settings.Speed : 1));
        }

        var port = _server.Start();
        Endpoint = new IPEndPoint(_settings.Bind, port).ToString();
        return Endpoint;
    }

    /// <summary>Closes every open connection now (a device restart as clients see it). Returns how many.</summary>
    public int CloseAllConnections() => _server.DropConnections();

    /// <summary>Paces the machines until cancelled (real time); returns at once for on-read pacing.</summary>
    public Task RunPacingAsync(CancellationToken cancellationToken)
    {
        if (_settings.Pacing == SimulatorPacing.OnRead)
        {
            return Task.CompletedTask;
        }

        var loops = new Task[Machines.Count];
        for (var i = 0; i < loops.Length; i++)
        {
            var machine = Machines[i];
            loops[i] = Task.Run(() => machine.PaceAsync(_timeProvider, _settings.Speed, m => Log.ReplayEnded(_logger, m.Name, m.Readings.Blocks), cancellationToken), CancellationToken.None);
        }

        return Task.WhenAll(loops);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static int AssignUnit(MachineDefinition definition, int firstUnit)
    {
        var unit = definition.Unit ?? (firstUnit + definition.Index);
        if (unit is < 0 or > 255)
        {
            throw new SimulatorUsageException(definition.Unit is null
                ? string.Create(CultureInfo.InvariantCulture, $"machine '{definition.Name}': unit {unit} (--unit {firstUnit} + {definition.Index}) is out of range 0–255; give a lower --unit or unit= per machine")
                : string.Create(CultureInfo.InvariantCulture, $"machine '{definition.Name}': unit={unit} is out of range 0–255"));
        }

        return unit;
    }

    private ModbusFault OnRequest(ModbusRequestInfo request)
    {
        var fault = Faults.Decide(request);
        if (_settings.Pacing == SimulatorPacing.OnRead && _byUnit[request.UnitId] is { } machine)
        {
            machine.OnRequest(request, answered: fault.Kind is ModbusFaultKind.None or ModbusFaultKind.Delay);
        }

        return fault;
    }
}
