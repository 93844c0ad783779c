using System.CommandLine;
using System.Globalization;
using FactoryEdge.OpcUa.Server;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.OpcUa;

namespace FactoryEdge.Simulator.Cli;

/// <summary>
/// The <c>opcua</c> subcommand: machines in the address space of our OPC UA server (a folder each,
/// namespace <c>urn:factoryedge:simulator</c>), the same machine options as <c>modbus</c>, pacing,
/// transport faults, a progress display for long replays and a control channel on stdin.
/// </summary>
internal static class OpcUaCommand
{
    public const string Help = "disconnect | restart [MS] | delay MS | drop N|off | clear | status | help | quit";

    public static Command Build(TextReader input, TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var machines = new MachineOptions();
        var serve = new ServeOptions(4840, "realtime (one block per period, × --speed) or on-read (the next block once a client has read or been sent the current one).");
        var security = new Option<string>("--security") { Description = "Endpoints: all (None + Basic256Sha256 Sign and SignAndEncrypt, own certificate), none, secure.", DefaultValueFactory = _ => "all" };
        var delay = new Option<int>("--delay-ms") { Description = "Delay every response by N ms (Publish responses too).", DefaultValueFactory = _ => 0 };
        var dropNotifications = new Option<int>("--drop-notifications-every") { Description = "Lose every Nth notification message (kept for Republish; 0 = never).", DefaultValueFactory = _ => 0 };
        var disconnectEvery = new Option<double>("--disconnect-every") { Description = "Close every connection every N seconds (sessions survive; 0 = never).", DefaultValueFactory = _ => 0 };
        var restartEvery = new Option<double>("--restart-every") { Description = "Restart the server every N seconds: connections, sessions and subscriptions are lost (0 = never).", DefaultValueFactory = _ => 0 };
        var restartDowntime = new Option<int>("--restart-downtime-ms") { Description = "How long a restart keeps the port closed.", DefaultValueFactory = _ => 1000 };

        var command = new Command("opcua", "Serve simulated machines over OPC UA on our stack: a folder per machine with Waveform (Float[N]), SampleRate, Sequence, Rms, Peak, Temperature, Speed, Severity (docs/simulators.md).");
        foreach (var option in (Option[])[serve.Bind, serve.Port, serve.Pace, serve.Speed, security, delay, dropNotifications, disconnectEvery, restartEvery, restartDowntime, serve.Progress, serve.MaxConnections, serve.ExitOnEof, serve.LogLevel])
        {
            command.Options.Add(option);
        }

        machines.AddTo(command);
        ServeCli.SetAction(command, error, async (parse, cancellationToken) =>
        {
            var address = serve.ReadBind(parse);
            var portValue = serve.ReadPort(parse);
            var (pacing, speedValue) = serve.ReadPacing(parse);

            var securityMode = parse.GetValue(security)!.Trim().ToLowerInvariant() switch
            {
                "all" => SimulatorSecurityMode.All,
                "none" => SimulatorSecurityMode.None,
                "secure" => SimulatorSecurityMode.Secure,
                var other => throw new SimulatorUsageException($"--security '{other}' is not one of all, none, secure"),
            };
            var delayValue = parse.GetValue(delay);
            ServeCli.Require(delayValue is >= 0 and <= 600_000, $"--delay-ms {delayValue} is out of range 0–600000");
            var dropValue = parse.GetValue(dropNotifications);
            ServeCli.Require(dropValue >= 0, $"--drop-notifications-every {dropValue} must be 0 (never) or a positive count");
            var disconnectValue = parse.GetValue(disconnectEvery);
            ServeCli.Require(disconnectValue >= 0, "--disconnect-every must be 0 (never) or a positive number of seconds");
            var restartValue = parse.GetValue(restartEvery);
            ServeCli.Require(restartValue >= 0, "--restart-every must be 0 (never) or a positive number of seconds");
            var downtime = parse.GetValue(restartDowntime);
            ServeCli.Require(downtime is >= 0 and <= 600_000, $"--restart-downtime-ms {downtime} is out of range 0–600000");
            var connections = serve.ReadMaxConnections(parse);
            var definitions = MachineCatalog.Resolve(machines.ReadDefaults(parse), machines.ReadSpecs(parse));
            var settings = new OpcUaSimulatorSettings
            {
                Bind = address,
                Port = portValue,
                Pacing = pacing,
                Speed = speedValue,
                MaxConnections = connections,
                DelayMilliseconds = delayValue,
                DropNotificationsEvery = dropValue,
                DisconnectEverySeconds = disconnectValue,
                RestartEverySeconds = restartValue,
                RestartDowntime = TimeSpan.FromMilliseconds(downtime),
            };
            settings = SimulatorSecurity.Apply(settings, securityMode, timeProvider);
            return await RunAsync(settings, definitions, serve.ReadRun(parse, definitions, input, output, error, timeProvider), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the simulator until cancelled, <c>quit</c>, or stdin EOF with <see cref="ServeRun.ExitOnEof"/>.</summary>
    public static async Task<int> RunAsync(OpcUaSimulatorSettings settings, IReadOnlyList<MachineDefinition> machines, ServeRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var loggerFactory = ServeCli.CreateLoggerFactory(run.LogLevel);
        var logger = loggerFactory.CreateLogger("FactoryEdge.Simulator");
        var simulator = new OpcUaSimulator(settings, machines, loggerFactory, run.TimeProvider);
        await using (simulator.ConfigureAwait(false))
        {
            if (await ServeCli.StartAsync(simulator.Start, run.Error, "opcua", settings.Bind, settings.Port).ConfigureAwait(false) is not { } endpoint)
            {
                return ExitCodes.CannotListen;
            }

            using var stop = new ServeStop(cancellationToken);
            var running = simulator.RunAsync(stop.Token);
            var policies = string.Join(",", settings.Endpoints.Select(static e => UaServer.ShortPolicy(e.PolicyUri) + "/" + e.Mode));
            await run.Output.WriteLineAsync($"listening opcua {endpoint} namespace={SimulatorNodes.NamespaceUri} endpoints={policies}").ConfigureAwait(false);
            foreach (var machine in simulator.Machines)
            {
                await run.Output.WriteLineAsync($"machine {machine.Name} {SimulatorNodes.Id(machine.Name, SimulatorNodes.Waveform)}").ConfigureAwait(false);
            }

            await run.Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var progressTask = ServeCli.ProgressAsync(() => ProgressLines(simulator), run, stop.Token);
            ServeCli.StartControl(line => Execute(simulator, line), (command, reply) => Log.ControlCommand(logger, command, reply), run, logger, stop);
            return await ServeCli.WaitThenStopAsync(stop, logger, run.TimeProvider, running, progressTask).ConfigureAwait(false);
        }
    }

    internal static IEnumerable<string> ProgressLines(OpcUaSimulator simulator) =>
        simulator.Machines.Select(static m => ReplayProgress.Line(m.Definition, m.Readings));

    /// <summary>Executes one control command; returns the reply lines (the last one "ok …" or "error …").</summary>
    internal static (IReadOnlyList<string> Lines, bool Quit)? Execute(OpcUaSimulator simulator, string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#'))
        {
            return null;
        }

        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var faults = simulator.Server.Faults;
        switch (parts[0].ToLowerInvariant())
        {
            case "disconnect":
                return ([string.Create(CultureInfo.InvariantCulture, $"ok disconnect {simulator.Server.CloseAllConnections()}")], false);
            case "restart":
                var ms = parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var m) && m >= 0 ? m : 1000;
                _ = simulator.Server.RestartAsync(TimeSpan.FromMilliseconds(ms), CancellationToken.None);
                return ([string.Create(CultureInfo.InvariantCulture, $"ok restart {ms}")], false);
            case "delay" when parts.Length == 2 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var delay) && delay is >= 0 and <= 600_000:
                faults.ResponseDelay = TimeSpan.FromMilliseconds(delay);
                return ([string.Create(CultureInfo.InvariantCulture, $"ok delay {delay}")], false);
            case "drop" when parts.Length == 2 && parts[1].Equals("off", StringComparison.OrdinalIgnoreCase):
                faults.DropNotificationsEvery = 0;
                return (["ok drop off"], false);
            case "drop" when parts.Length == 2 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var every) && every > 0:
                faults.DropNotificationsEvery = every;
                return ([string.Create(CultureInfo.InvariantCulture, $"ok drop every {every}")], false);
            case "clear" or "ok":
                faults.ResponseDelay = TimeSpan.Zero;
                faults.DropNotificationsEvery = 0;
                return (["ok clear"], false);
            case "status":
                var s = simulator.Server.Statistics;
                var lines = new List<string>
                {
                    string.Create(CultureInfo.InvariantCulture, $"status server endpoint={simulator.EndpointUrl} connections={s.ActiveConnections} sessions={s.Sessions} subscriptions={s.Subscriptions} requests={s.Requests} publish-responses={s.PublishResponses}"),
                    string.Create(CultureInfo.InvariantCulture, $"status faults delay={faults.ResponseDelay.TotalMilliseconds} drop={(faults.DropNotificationsEvery == 0 ? "off" : "every-" + faults.DropNotificationsEvery)} delayed={faults.DelayedResponses} dropped={faults.DroppedNotifications} disconnects={simulator.Disconnects} restarts={simulator.Restarts}"),
                };
                foreach (var machine in simulator.Machines)
                {
                    var r = machine.Readings;
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"status machine name={machine.Name} blocks={r.Blocks} rms={r.Rms:0.####} peak={r.Peak:0.####} temperature={r.TemperatureC:0.##} rpm={r.Rpm:0.#} severity={r.Severity:0.###} running={(r.Running ? 1 : 0)} ended={(r.Ended ? 1 : 0)}"));
                }

                lines.Add("ok status");
                return (lines, false);
            case "help":
                return (["help " + Help, "ok help"], false);
            case "quit" or "exit":
                return (["ok quit"], true);
            default:
                return ([$"error unknown or malformed command '{text}' (commands: {Help})"], false);
        }
    }
}
