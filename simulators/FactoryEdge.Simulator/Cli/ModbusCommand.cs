using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Control;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.Cli;

/// <summary>The <c>modbus</c> subcommand: options, checks, and the run loop (server, pacing, control channel).</summary>
internal static class ModbusCommand
{
    public static Command Build(TextReader input, TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var machines = new MachineOptions();
        var bind = new Option<string>("--bind") { Description = "Address to listen on (127.0.0.1; 0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0 picks a free one; the ready line tells which).", DefaultValueFactory = _ => 5020 };
        var unit = new Option<int>("--unit") { Description = "Unit id of the first machine; machine i answers on unit + i unless its spec sets unit=.", DefaultValueFactory = _ => 1 };
        var order = new Option<string>("--order") { Description = "Float32 order of every float register: ABCD, CDAB, BADC or DCBA.", DefaultValueFactory = _ => "ABCD" };
        var pace = new Option<string>("--pace") { Description = "realtime (one block per period, × --speed) or on-read (the next block once the current one was read).", DefaultValueFactory = _ => "realtime" };
        var speed = new Option<double?>("--speed") { Description = "Times real time, e.g. 10 (realtime pacing only; default 1)." };
        var faultException = new Option<string[]>("--fault-exception") { Description = "Answer with exception CODE (every request, or those covering ADDRESS): CODE[@ADDRESS], e.g. 4 or 2@1000. Repeatable." };
        var slow = new Option<int>("--slow-ms") { Description = "Delay every reply by N ms.", DefaultValueFactory = _ => 0 };
        var dropEvery = new Option<int>("--drop-every") { Description = "Close the connection (no reply) at every Nth request (0 = never).", DefaultValueFactory = _ => 0 };
        var muteEvery = new Option<int>("--mute-every") { Description = "Swallow every Nth request without a reply; the connection stays (0 = never).", DefaultValueFactory = _ => 0 };
        var maxConnections = new Option<int>("--max-connections") { Description = "Connections served at once; more are accepted and closed.", DefaultValueFactory = _ => 16 };
        var exitOnEof = new Option<bool>("--exit-on-eof") { Description = "Exit when standard input closes (otherwise only the control channel stops)." };
        var progress = new Option<double>("--progress") { Description = "Print replay progress on stderr every N seconds (0 = off; default 10 when a recording is served).", DefaultValueFactory = _ => -1 };
        var logLevel = new Option<string>("--log-level") { Description = "Log level on stderr: trace, debug, information, warning, error, none.", DefaultValueFactory = _ => "information" };

        var command = new Command("modbus", "Serve simulated machines over Modbus TCP on our stack: one unit id per machine, a waveform block and scalar registers each (docs/simulators.md).");
        foreach (var option in (Option[])[bind, port, unit, order, pace, speed, faultException, slow, dropEvery, muteEvery, maxConnections, exitOnEof, progress, logLevel])
        {
            command.Options.Add(option);
        }

        machines.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var settings = ReadSettings(parse, bind, port, unit, order, pace, speed, faultException, slow, dropEvery, muteEvery, maxConnections);
                var level = ParseLogLevel(parse.GetValue(logLevel)!);
                var definitions = MachineCatalog.Resolve(machines.ReadDefaults(parse), machines.ReadSpecs(parse), ModbusWaveformLayout.MaxSampleCount);
                var progressSeconds = parse.GetValue(progress);
                if (progressSeconds < 0)
                {
                    progressSeconds = definitions.Any(static d => d.Generator is null) ? 10 : 0;
                }

                return await RunAsync(settings, definitions, parse.GetValue(exitOnEof), level, input, output, error, timeProvider, cancellationToken, progressSeconds).ConfigureAwait(false);
            }
            catch (SimulatorUsageException ex)
            {
                await error.WriteLineAsync($"factoryedge-sim modbus: {ex.Message}").ConfigureAwait(false);
                return ex.ExitCode;
            }
        });
        return command;
    }

    /// <summary>Runs the simulator until cancelled, <c>quit</c>, or stdin EOF with <paramref name="exitOnEof"/>.</summary>
    public static async Task<int> RunAsync(
        ModbusSimulatorSettings settings,
        IReadOnlyList<MachineDefinition> machines,
        bool exitOnEof,
        LogLevel logLevel,
        TextReader input,
        TextWriter output,
        TextWriter error,
        TimeProvider timeProvider,
        CancellationToken cancellationToken,
        double progressSeconds = 0)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(logLevel)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggerFactory.CreateLogger("FactoryEdge.Simulator");
        var simulator = new ModbusSimulator(settings, machines, loggerFactory, timeProvider);
        await using (simulator.ConfigureAwait(false))
        {
            string endpoint;
            try
            {
                endpoint = simulator.Start();
            }
            catch (SocketException ex)
            {
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"factoryedge-sim modbus: cannot listen on {new IPEndPoint(settings.Bind, settings.Port)} (--bind/--port): {ex.Message}")).ConfigureAwait(false);
                return ExitCodes.CannotListen;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reason = new StopReason();
            var pacing = simulator.RunPacingAsync(stop.Token);
            _ = pacing.ContinueWith(
                _ =>
                {
                    reason.Text = "pacing failed";
                    stop.Cancel();
                },
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
            await output.WriteLineAsync($"listening modbus {endpoint}").ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            var progressTask = progressSeconds > 0 ? ProgressAsync(simulator, progressSeconds, error, timeProvider, stop.Token) : Task.CompletedTask;
            var control = new ModbusControlChannel(simulator, logger);
            _ = Task.Factory.StartNew(
                () => ReadControl(control, input, output, exitOnEof, logger, reason, stop),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);

            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, timeProvider, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C / SIGTERM (the token), quit or EOF (the control thread).
            }

            Log.Stopping(logger, reason.Text ?? "signal (Ctrl+C or SIGTERM)");
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await pacing.ConfigureAwait(false);
                await progressTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.Failed(logger, ex);
                return ExitCodes.Failure;
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>One progress line per machine every <paramref name="seconds"/> on stderr.</summary>
    private static async Task ProgressAsync(ModbusSimulator simulator, double seconds, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var machine in simulator.Machines)
                {
                    await error.WriteLineAsync(ReplayProgress.Line(machine.Definition, machine.Readings)).ConfigureAwait(false);
                }

                await error.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal static ModbusSimulatorSettings ReadSettings(
        ParseResult parse,
        Option<string> bind,
        Option<int> port,
        Option<int> unit,
        Option<string> order,
        Option<string> pace,
        Option<double?> speed,
        Option<string[]> faultException,
        Option<int> slow,
        Option<int> dropEvery,
        Option<int> muteEvery,
        Option<int> maxConnections)
    {
        var bindText = parse.GetValue(bind)!.Trim();
        IPAddress address;
        if (bindText.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(bindText, out address!))
        {
            throw new SimulatorUsageException($"--bind '{bindText}' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
        }

        var portValue = parse.GetValue(port);
        Require(portValue is >= 0 and <= 65535, $"--port {portValue} is out of range 0–65535 (0 picks a free port)");
        var unitValue = parse.GetValue(unit);
        Require(unitValue is >= 0 and <= 255, $"--unit {unitValue} is out of range 0–255");
        var orderText = parse.GetValue(order)!;
        if (!ModbusValueFormat.TryParseOrder(orderText, out var byteOrder, out var wordOrder))
        {
            throw new SimulatorUsageException($"--order '{orderText}' is not one of {ModbusValueFormat.AllowedOrders}");
        }

        var paceText = parse.GetValue(pace)!.Trim().ToLowerInvariant();
        var pacing = paceText switch
        {
            "realtime" or "real-time" => SimulatorPacing.RealTime,
            "on-read" or "onread" => SimulatorPacing.OnRead,
            _ => throw new SimulatorUsageException($"--pace '{paceText}' is not one of realtime, on-read"),
        };
        var speedValue = parse.GetValue(speed);
        if (speedValue is { } s)
        {
            Require(pacing == SimulatorPacing.RealTime, "--speed applies to --pace realtime (on-read pacing follows the reader)");
            Require(s > 0 && s <= 10_000, string.Create(CultureInfo.InvariantCulture, $"--speed {s} is out of range (0, 10000]"));
        }

        var rules = new List<ExceptionRule>();
        foreach (var text in parse.GetValue(faultException) ?? [])
        {
            if (!ExceptionRule.TryParse(text, out var rule, out var problem))
            {
                throw new SimulatorUsageException($"--fault-exception: {problem}");
            }

            rules.Add(rule);
        }

        var slowValue = parse.GetValue(slow);
        Require(slowValue is >= 0 and <= ModbusFaultInjector.MaxSlowMilliseconds, string.Create(CultureInfo.InvariantCulture, $"--slow-ms {slowValue} is out of range 0–{ModbusFaultInjector.MaxSlowMilliseconds}"));
        var dropValue = parse.GetValue(dropEvery);
        Require(dropValue >= 0, $"--drop-every {dropValue} must be 0 (never) or a positive count of requests");
        var muteValue = parse.GetValue(muteEvery);
        Require(muteValue >= 0, $"--mute-every {muteValue} must be 0 (never) or a positive count of requests");
        var connections = parse.GetValue(maxConnections);
        Require(connections is >= 1 and <= 1024, $"--max-connections {connections} is out of range 1–1024");
        return new ModbusSimulatorSettings
        {
            Bind = address,
            Port = portValue,
            FirstUnit = unitValue,
            ByteOrder = byteOrder,
            WordOrder = wordOrder,
            Pacing = pacing,
            Speed = speedValue ?? 1,
            Exceptions = rules,
            SlowMilliseconds = slowValue,
            DropEvery = dropValue,
            MuteEvery = muteValue,
            MaxConnections = connections,
        };
    }

    internal static LogLevel ParseLogLevel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" or "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "none" or "off" => LogLevel.None,
        _ => throw new SimulatorUsageException($"--log-level '{text}' is not one of trace, debug, information, warning, error, none"),
    };

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new SimulatorUsageException(message);
        }
    }

    /// <summary>The control loop, on its own thread (reading stdin blocks).</summary>
    private static void ReadControl(ModbusControlChannel control, TextReader input, TextWriter output, bool exitOnEof, ILogger logger, StopReason reason, CancellationTokenSource stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var line = input.ReadLine();
                if (line is null)
                {
                    Log.InputClosed(logger, exitOnEof ? "exiting (--exit-on-eof)" : "control channel off, still serving");
                    if (exitOnEof)
                    {
                        reason.Text = "standard input closed (--exit-on-eof)";
                        stop.Cancel();
                    }

                    return;
                }

                var reply = control.Execute(line);
                if (reply is null)
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

                if (reply.Quit)
                {
                    reason.Text = "quit command";
                    stop.Cancel();
                    return;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
        catch (IOException ex)
        {
            Log.InputClosed(logger, "read error: " + ex.Message);
        }
    }

    private sealed class StopReason
    {
        public string? Text { get; set; }
    }
}
