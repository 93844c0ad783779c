using System.Net;
using FactoryEdge.OpcUa.Server;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.OpcUa;

/// <summary>Settings of the OPC UA simulator (from the <c>opcua</c> subcommand, or the demo).</summary>
internal sealed record OpcUaSimulatorSettings
{
    public IPAddress Bind { get; init; } = IPAddress.Loopback;

    public int Port { get; init; } = 4840;

    public SimulatorPacing Pacing { get; init; } = SimulatorPacing.RealTime;

    public double Speed { get; init; } = 1;

    public int MaxConnections { get; init; } = 16;

    /// <summary>Endpoints (None by default; the command line adds Basic256Sha256 ones).</summary>
    public IReadOnlyList<ServerSecurityEndpoint> Endpoints { get; init; } = [ServerSecurityEndpoint.None];

    public byte[]? Certificate { get; init; }

    public Func<string, byte[], byte[], FactoryEdge.OpcUa.Protocol.SignatureData>? SignSession { get; init; }

    public Func<string, byte[], FactoryEdge.OpcUa.Protocol.SignatureData, byte[], bool>? VerifyClientSignature { get; init; }

    /// <summary>Every response waits this long (0 = off).</summary>
    public int DelayMilliseconds { get; init; }

    /// <summary>Every Nth notification message is lost (0 = off).</summary>
    public int DropNotificationsEvery { get; init; }

    /// <summary>Close every connection every so many seconds (0 = off).</summary>
    public double DisconnectEverySeconds { get; init; }

    /// <summary>Restart the server (sessions lost) every so many seconds (0 = off).</summary>
    public double RestartEverySeconds { get; init; }

    /// <summary>How long a restart keeps the port closed.</summary>
    public TimeSpan RestartDowntime { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The OPC UA simulator: one <see cref="OpcUaMachine"/> folder per machine in the namespace
/// <see cref="SimulatorNodes.NamespaceUri"/> of one <see cref="UaServer"/>; blocks paced in real
/// time (× speed) or as fast as a client consumes them; transport faults from the settings and
/// <see cref="Server"/>'s <see cref="UaServer.Faults"/>.
/// </summary>
internal sealed partial class OpcUaSimulator : IAsyncDisposable
{
    private readonly OpcUaSimulatorSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _disconnects;
    private long _restarts;

    public OpcUaSimulator(OpcUaSimulatorSettings settings, IReadOnlyList<MachineDefinition> machines, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(machines);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _settings = settings;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("FactoryEdge.Simulator.OpcUa");
        var options = new UaServerOptions
        {
            Address = settings.Bind,
            Port = settings.Port,
            ApplicationUri = "urn:factoryedge:simulator:server",
            ApplicationName = "FactoryEdge simulator",
            MaxConnections = settings.MaxConnections,
            Endpoints = settings.Endpoints,
            Certificate = settings.Certificate,
            SignSession = settings.SignSession,
            VerifyClientSignature = settings.VerifyClientSignature,
        };
        var space = new AddressSpace(options.ApplicationUri, timeProvider);
        var ns = space.AddNamespace(SimulatorNodes.NamespaceUri);
        var start = timeProvider.GetUtcNow().UtcDateTime;
        var list = new List<OpcUaMachine>(machines.Count);
        foreach (var definition in machines)
        {
            var machine = new OpcUaMachine(definition, space, ns, start);
            if (settings.Pacing == SimulatorPacing.OnRead)
            {
                machine.WaveformNode.Consumed += _ => machine.PublishNext();
            }

            list.Add(machine);
        }

        Machines = list;
        Server = new UaServer(options, space, loggerFactory.CreateLogger<UaServer>(), timeProvider);
        Server.Faults.ResponseDelay = TimeSpan.FromMilliseconds(settings.DelayMilliseconds);
        Server.Faults.DropNotificationsEvery = settings.DropNotificationsEvery;
    }

    public IReadOnlyList<OpcUaMachine> Machines { get; }

    public UaServer Server { get; }

    public OpcUaSimulatorSettings Settings => _settings;

    public string EndpointUrl => Server.EndpointUrl;

    public long Disconnects => Interlocked.Read(ref _disconnects);

    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Publishes every machine's first block and starts listening; returns the endpoint URL. Throws <see cref="System.Net.Sockets.SocketException"/> when it cannot bind.</summary>
    public string Start()
    {
        foreach (var machine in Machines)
        {
            machine.PublishNext();
            Log.OpcUaMachineServed(_logger, machine.Name, SimulatorNodes.Id(machine.Name, SimulatorNodes.Waveform), machine.Definition.Description, machine.Definition.BlockSize,
                machine.Definition.PeriodSeconds * 1000 / (_settings.Pacing == SimulatorPacing.RealTime ? _settings.Speed : 1));
        }

        Server.Start();
        return Server.EndpointUrl;
    }

    /// <summary>Paces the machines and runs the scheduled transport faults until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var tasks = new List<Task>();
        if (_settings.Pacing == SimulatorPacing.RealTime)
        {
            foreach (var machine in Machines)
            {
                tasks.Add(Task.Run(() => machine.PaceAsync(_time, _settings.Speed, m => Log.ReplayEnded(_logger, m.Name, m.Readings.Blocks), cancellationToken), CancellationToken.None));
            }
        }

        if (_settings.DisconnectEverySeconds > 0)
        {
            tasks.Add(Task.Run(() => EveryAsync(_settings.DisconnectEverySeconds, () =>
            {
                var closed = Server.CloseAllConnections();
                Interlocked.Increment(ref _disconnects);
                Log.Disconnected(_logger, closed);
                return Task.CompletedTask;
            }, cancellationToken), CancellationToken.None));
        }

        if (_settings.RestartEverySeconds > 0)
        {
            tasks.Add(Task.Run(() => EveryAsync(_settings.RestartEverySeconds, async () =>
            {
                Interlocked.Increment(ref _restarts);
                await Server.RestartAsync(_settings.RestartDowntime, cancellationToken).ConfigureAwait(false);
            }, cancellationToken), CancellationToken.None));
        }

        return Task.WhenAll(tasks);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private async Task EveryAsync(double seconds, Func<Task> action, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await action().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6110, Level = LogLevel.Information, Message = "Machine {Name} at {NodeId}: {Description}; block of {BlockSize} samples every {PeriodMs:0.###} ms")]
        public static partial void OpcUaMachineServed(ILogger logger, string name, string nodeId, string description, int blockSize, double periodMs);

        [LoggerMessage(EventId = 6111, Level = LogLevel.Information, Message = "Replay of machine {Name} ended after {Blocks} blocks (no --loop); the last block stays")]
        public static partial void ReplayEnded(ILogger logger, string name, long blocks);

        [LoggerMessage(EventId = 6112, Level = LogLevel.Information, Message = "Fault: closed {Connections} connection(s)")]
        public static partial void Disconnected(ILogger logger, int connections);
    }
}
