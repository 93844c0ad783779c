using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.OpcUa.Server;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using FactoryEdge.Simulator.OpcUa;
using Microsoft.Extensions.Logging;

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
        var bind = new Option<string>("--bind") { Description = "Address to listen on (127.0.0.1; 0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0 picks a free one; the ready line tells which).", DefaultValueFactory = _ => 4840 };
        var pace = new Option<string>("--pace") { Description = "realtime (one block per period, × --speed) or on-read (the next block once a client has read or been sent the current one).", DefaultValueFactory = _ => "realtime" };
        var speed = new Option<double?>("--speed") { Description = "Times real time, e.g. 10 (realtime pacing only; default 1)." };
        var security = new Option<string>("--security") { Description = "Endpoints: all (None + Basic256Sha256 Sign and SignAndEncrypt, own certificate), none, secure.", DefaultValueFactory = _ => "all" };
        var delay = new Option<int>("--delay-ms") { Description = "Delay every response by N ms (Publish responses too).", DefaultValueFactory = _ => 0 };
        var dropNotifications = new Option<int>("--drop-notifications-every") { Description = "Lose every Nth notification message (kept for Republish; 0 = never).", DefaultValueFactory = _ => 0 };
        var disconnectEvery = new Option<double>("--disconnect-every") { Description = "Close every connection every N seconds (sessions survive; 0 = never).", DefaultValueFactory = _ => 0 };
        var restartEvery = new Option<double>("--restart-every") { Description = "Restart the server every N seconds: connections, sessions and subscriptions are lost (0 = never).", DefaultValueFactory = _ => 0 };
        var restartDowntime = new Option<int>("--restart-downtime-ms") { Description = "How long a restart keeps the port closed.", DefaultValueFactory = _ => 1000 };
        var progress = new Option<double>("--progress") { Description = "Print replay progress on stderr every N seconds (0 = off; default 10 when a recording is served).", DefaultValueFactory = _ => -1 };
        var maxConnections = new Option<int>("--max-connections") { Description = "Connections served at once; more are accepted and closed.", DefaultValueFactory = _ => 16 };
        var exitOnEof = new Option<bool>("--exit-on-eof") { Description = "Exit when standard input closes (otherwise only the control channel stops)." };
        var logLevel = new Option<string>("--log-level") { Description = "Log level on stderr: trace, debug, information, warning, error, none.", DefaultValueFactory = _ => "information" };

        var command = new Command("opcua", "Serve simulated machines over OPC UA on our stack: a folder per machine with Waveform (Float[N]), SampleRate, Sequence, Rms, Peak, Temperature, Speed, Severity (docs/simulators.md).");
        foreach (var option in (Option[])[bind, port, pace, speed, security, delay, dropNotifications, disconnectEvery, restartEvery, restartDowntime, progress, maxConnections, exitOnEof, logLevel])
        {
            command.Options.Add(option);
        }

        machines.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var address = ParseBind(parse.GetValue(bind)!);
                var portValue = parse.GetValue(port);
                Require(portValue is >= 0 and <= 65535, $"--port {portValue} is out of range 0–65535 (0 picks a free port)");
                var pacing = parse.GetValue(pace)!.Trim().ToLowerInvariant() switch
                {
                    "realtime" or "real-time" => SimulatorPacing.RealTime,
                    "on-read" or "onread" => SimulatorPacing.OnRead,
                    var other => throw new SimulatorUsageException($"--pace '{other}' is not one of realtime, on-read"),
                };
                var speedValue = parse.GetValue(speed);
                if (speedValue is { } s)
                {
                    Require(pacing == SimulatorPacing.RealTime, "--speed applies to --pace realtime (on-read pacing follows the reader)");
                    Require(s > 0 && s <= 10_000, string.Create(CultureInfo.InvariantCulture, $"--speed {s} is out of range (0, 10000]"));
                }

                var securityMode = parse.GetValue(security)!.Trim().ToLowerInvariant() switch
                {
                    "all" => SimulatorSecurityMode.All,
                    "none" => SimulatorSecurityMode.None,
                    "secure" => SimulatorSecurityMode.Secure,
                    var other => throw new SimulatorUsageException($"--security '{other}' is not one of all, none, secure"),
                };
                var delayValue = parse.GetValue(delay);
                Require(delayValue is >= 0 and <= 600_000, $"--delay-ms {delayValue} is out of range 0–600000");
                var dropValue = parse.GetValue(dropNotifications);
                Require(dropValue >= 0, $"--drop-notifications-every {dropValue} must be 0 (never) or a positive count");
                var disconnectValue = parse.GetValue(disconnectEvery);
                Require(disconnectValue >= 0, "--disconnect-every must be 0 (never) or a positive number of seconds");
                var restartValue = parse.GetValue(restartEvery);
                Require(restartValue >= 0, "--restart-every must be 0 (never) or a positive number of seconds");
                var downtime = parse.GetValue(restartDowntime);
                Require(downtime is >= 0 and <= 600_000, $"--restart-downtime-ms {downtime} is out of range 0–600000");
                var connections = parse.GetValue(maxConnections);
                Require(connections is >= 1 and <= 1024, $"--max-connections {connections} is out of range 1–1024");
                var level = ModbusCommand.ParseLogLevel(parse.GetValue(logLevel)!);
                var definitions = MachineCatalog.Resolve(machines.ReadDefaults(parse), machines.ReadSpecs(parse));
                var settings = new OpcUaSimulatorSettings
                {
                    Bind = address,
                    Port = portValue,
                    Pacing = pacing,
                    Speed = speedValue ?? 1,
                    MaxConnections = connections,
                    DelayMilliseconds = delayValue,
                    DropNotificationsEvery = dropValue,
                    DisconnectEverySeconds = disconnectValue,
                    RestartEverySeconds = restartValue,
                    RestartDowntime = TimeSpan.FromMilliseconds(downtime),
                };
                settings = SimulatorSecurity.Apply(settings, securityMode, timeProvider);
                var progressSeconds = parse.GetValue(progress);
                if (progressSeconds < 0)
                {
                    progressSeconds = definitions.Any(static d => d.Generator is null) ? 10 : 0;
                }

                return await RunAsync(settings, definitions, progressSeconds, parse.GetValue(exitOnEof), level, input, output, error, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (SimulatorUsageException ex)
            {
                await error.WriteLineAsync($"factoryedge-sim opcua: {ex.Message}").ConfigureAwait(false);
                return ex.ExitCode;
            }
        });
        return command;
    }

    private static IPAddress ParseBind(string text)
    {
        text = text.Trim();
        if (text.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(text, out var address)
            ? address
            : throw new SimulatorUsageException($"--bind '{text}' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new SimulatorUsageException(message);
        }
    }

    public static async Task<int> RunAsync(
        OpcUaSimulatorSettings settings,
        IReadOnlyList<MachineDefinition> machines,
        double progressSeconds,
        bool exitOnEof,
        LogLevel logLevel,
        TextReader input,
        TextWriter output,
        TextWriter error,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(logLevel)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggerFactory.CreateLogger("FactoryEdge.Simulator");
        var simulator = new OpcUaSimulator(settings, machines, loggerFactory, timeProvider);
        await using (simulator.ConfigureAwait(false))
        {
            string endpoint;
            try
            {
                endpoint = simulator.Start();
            }
            catch (SocketException ex)
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"factoryedge-sim opcua: cannot listen on {new IPEndPoint(settings.Bind, settings.Port)} (--bind/--port): {ex.Message}")).ConfigureAwait(false);
                return ExitCodes.CannotListen;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            string? reason = null;
            var running = simulator.RunAsync(stop.Token);
            var policies = string.Join(",", settings.Endpoints.Select(static e => UaServer.ShortPolicy(e.PolicyUri) + "/" + e.Mode));
            await output.WriteLineAsync($"listening opcua {endpoint} namespace={SimulatorNodes.NamespaceUri} endpoints={policies}").ConfigureAwait(false);
            foreach (var machine in simulator.Machines)
            {
                await output.WriteLineAsync($"machine {machine.Name} {SimulatorNodes.Id(machine.Name, SimulatorNodes.Waveform)}").ConfigureAwait(false);
            }

            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var progressTask = progressSeconds > 0 ? ProgressAsync(simulator, progressSeconds, error, timeProvider, stop.Token) : Task.CompletedTask;
            _ = Task.Factory.StartNew(
                () =>
                {
                    var why = ReadControl(simulator, input, output, exitOnEof, logger, stop.Token);
                    if (why is not null)
                    {
                        reason = why;
                        stop.Cancel();
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, timeProvider, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Log.Stopping(logger, reason ?? "signal (Ctrl+C or SIGTERM)");
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(running, progressTask).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.Failed(logger, ex);
                return ExitCodes.Failure;
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>One line per recording every <paramref name="seconds"/>: block, pass and position in the pass.</summary>
    private static async Task ProgressAsync(OpcUaSimulator simulator, double seconds, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var line in ProgressLines(simulator))
                {
                    await error.WriteLineAsync(line).ConfigureAwait(false);
                }

                await error.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
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

    /// <summary>The control loop on its own thread; returns why to stop, or null to keep serving.</summary>
    private static string? ReadControl(OpcUaSimulator simulator, TextReader input, TextWriter output, bool exitOnEof, ILogger logger, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var line = input.ReadLine();
                if (line is null)
                {
                    Log.InputClosed(logger, exitOnEof ? "exiting (--exit-on-eof)" : "control channel off, still serving");
                    return exitOnEof ? "standard input closed (--exit-on-eof)" : null;
                }

                if (Execute(simulator, line) is not { } reply)
                {
                    continue;
                }

                lock (output)
                {
                    foreach (var text in reply.Lines)
                    {
                        output.WriteLine(text);
                    }

                    output.Flush();
                }

                Log.ControlCommand(logger, line.Trim(), reply.Lines[^1]);
                if (reply.Quit)
                {
                    return "quit command";
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
        catch (IOException ex)
        {
            Log.InputClosed(logger, "read error: " + ex.Message);
        }

        return null;
    }
}
