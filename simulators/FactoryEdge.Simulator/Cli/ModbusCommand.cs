using System.CommandLine;
using System.Globalization;
using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Control;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;

namespace FactoryEdge.Simulator.Cli;

/// <summary>The <c>modbus</c> subcommand: options, checks, and the run loop (server, pacing, control channel).</summary>
internal static class ModbusCommand
{
    public static Command Build(TextReader input, TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var machines = new MachineOptions();
        var serve = new ServeOptions(5020, "realtime (one block per period, × --speed) or on-read (the next block once the current one was read).");
        var unit = new Option<int>("--unit") { Description = "Unit id of the first machine; machine i answers on unit + i unless its spec sets unit=.", DefaultValueFactory = _ => 1 };
        var order = new Option<string>("--order") { Description = "Float32 order of every float register: ABCD, CDAB, BADC or DCBA.", DefaultValueFactory = _ => "ABCD" };
        var faultException = new Option<string[]>("--fault-exception") { Description = "Answer with exception CODE (every request, or those covering ADDRESS): CODE[@ADDRESS], e.g. 4 or 2@1000. Repeatable." };
        var slow = new Option<int>("--slow-ms") { Description = "Delay every reply by N ms.", DefaultValueFactory = _ => 0 };
        var dropEvery = new Option<int>("--drop-every") { Description = "Close the connection (no reply) at every Nth request (0 = never).", DefaultValueFactory = _ => 0 };
        var muteEvery = new Option<int>("--mute-every") { Description = "Swallow every Nth request without a reply; the connection stays (0 = never).", DefaultValueFactory = _ => 0 };

        var command = new Command("modbus", "Serve simulated machines over Modbus TCP on our stack: one unit id per machine, a waveform block and scalar registers each (docs/simulators.md).");
        foreach (var option in (Option[])[serve.Bind, serve.Port, unit, order, serve.Pace, serve.Speed, faultException, slow, dropEvery, muteEvery, serve.MaxConnections, serve.ExitOnEof, serve.Progress, serve.LogLevel])
        {
            command.Options.Add(option);
        }

        machines.AddTo(command);
        ServeCli.SetAction(command, error, async (parse, cancellationToken) =>
        {
            var settings = ReadSettings(parse, serve, unit, order, faultException, slow, dropEvery, muteEvery);
            var definitions = MachineCatalog.Resolve(machines.ReadDefaults(parse), machines.ReadSpecs(parse), ModbusWaveformLayout.MaxSampleCount);
            return await RunAsync(settings, definitions, serve.ReadRun(parse, definitions, input, output, error, timeProvider), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Runs the simulator until cancelled, <c>quit</c>, or stdin EOF with <see cref="ServeRun.ExitOnEof"/>.</summary>
    public static async Task<int> RunAsync(ModbusSimulatorSettings settings, IReadOnlyList<MachineDefinition> machines, ServeRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var loggerFactory = ServeCli.CreateLoggerFactory(run.LogLevel);
        var logger = loggerFactory.CreateLogger("FactoryEdge.Simulator");
        var simulator = new ModbusSimulator(settings, machines, loggerFactory, run.TimeProvider);
        await using (simulator.ConfigureAwait(false))
        {
            if (await ServeCli.StartAsync(simulator.Start, run.Error, "modbus", settings.Bind, settings.Port).ConfigureAwait(false) is not { } endpoint)
            {
                return ExitCodes.CannotListen;
            }

            using var stop = new ServeStop(cancellationToken);
            var pacing = simulator.RunPacingAsync(stop.Token);
            _ = pacing.ContinueWith(
                _ => stop.Request("pacing failed"),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
            await run.Output.WriteLineAsync($"listening modbus {endpoint}").ConfigureAwait(false);
            await run.Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            var progressTask = ServeCli.ProgressAsync(() => simulator.Machines.Select(static m => ReplayProgress.Line(m.Definition, m.Readings)), run, stop.Token);
            var control = new ModbusControlChannel(simulator, logger);
            ServeCli.StartControl(line => control.Execute(line) is { } reply ? (reply.Lines, reply.Quit) : null, null, run, logger, stop);
            return await ServeCli.WaitThenStopAsync(stop, logger, run.TimeProvider, pacing, progressTask).ConfigureAwait(false);
        }
    }

    internal static ModbusSimulatorSettings ReadSettings(
        ParseResult parse,
        ServeOptions serve,
        Option<int> unit,
        Option<string> order,
        Option<string[]> faultException,
        Option<int> slow,
        Option<int> dropEvery,
        Option<int> muteEvery)
    {
        var address = serve.ReadBind(parse);
        var portValue = serve.ReadPort(parse);
        var unitValue = parse.GetValue(unit);
        ServeCli.Require(unitValue is >= 0 and <= 255, $"--unit {unitValue} is out of range 0–255");
        var orderText = parse.GetValue(order)!;
        if (!ModbusValueFormat.TryParseOrder(orderText, out var byteOrder, out var wordOrder))
        {
            throw new SimulatorUsageException($"--order '{orderText}' is not one of {ModbusValueFormat.AllowedOrders}");
        }

        var (pacing, speedValue) = serve.ReadPacing(parse);
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
        ServeCli.Require(slowValue is >= 0 and <= ModbusFaultInjector.MaxSlowMilliseconds, string.Create(CultureInfo.InvariantCulture, $"--slow-ms {slowValue} is out of range 0–{ModbusFaultInjector.MaxSlowMilliseconds}"));
        var dropValue = parse.GetValue(dropEvery);
        ServeCli.Require(dropValue >= 0, $"--drop-every {dropValue} must be 0 (never) or a positive count of requests");
        var muteValue = parse.GetValue(muteEvery);
        ServeCli.Require(muteValue >= 0, $"--mute-every {muteValue} must be 0 (never) or a positive count of requests");
        var connections = serve.ReadMaxConnections(parse);
        return new ModbusSimulatorSettings
        {
            Bind = address,
            Port = portValue,
            FirstUnit = unitValue,
            ByteOrder = byteOrder,
            WordOrder = wordOrder,
            Pacing = pacing,
            Speed = speedValue,
            Exceptions = rules,
            SlowMilliseconds = slowValue,
            DropEvery = dropValue,
            MuteEvery = muteValue,
            MaxConnections = connections,
        };
    }
}
