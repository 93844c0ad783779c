using System.Globalization;
using FactoryEdge.Simulator.Modbus;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.Control;

/// <summary>The reply to one control command: its lines (the last starts with <c>ok </c> or <c>error </c>) and whether it asks to stop.</summary>
internal sealed record ControlReply(IReadOnlyList<string> Lines, bool Quit = false)
{
    public static ControlReply Ok(string text) => new([$"ok {text}"]);

    public static ControlReply Error(string text) => new([$"error {text}"]);
}

/// <summary>
/// The line-based control channel of the Modbus simulator (stdin → stdout). Each command is
/// answered on stdout: zero or more information lines, then one line <c>ok COMMAND …</c> or
/// <c>error MESSAGE</c>. Blank lines and lines starting with '#' are ignored.
/// </summary>
internal sealed class ModbusControlChannel
{
    public const string Help =
        "slow MS | exception CODE[@ADDRESS] | exception off | drop [N|off] | mute [N|off] | close-all | clear (or ok) | status | help | quit";

    private readonly ModbusSimulator _simulator;
    private readonly ILogger _logger;

    public ModbusControlChannel(ModbusSimulator simulator, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(logger);
        _simulator = simulator;
        _logger = logger;
    }

    /// <summary>Executes one line; null for blank and comment lines.</summary>
    public ControlReply? Execute(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0 || words[0].StartsWith('#'))
        {
            return null;
        }

        var command = words[0].ToLowerInvariant();
        var args = words.AsSpan(1);
        var reply = command switch
        {
            "slow" => Slow(args),
            "exception" => Exception(args),
            "drop" => Schedule(args, "drop", _simulator.Faults.SetDrop),
            "mute" => Schedule(args, "mute", _simulator.Faults.SetMute),
            "close-all" or "closeall" => NoArguments(args, "close-all") ?? CloseAll(),
            "clear" or "ok" => NoArguments(args, "clear") ?? Clear(),
            "status" => NoArguments(args, "status") ?? Status(),
            "help" or "?" => new ControlReply([$"help {Help}", "ok help"]),
            "quit" or "exit" => new ControlReply(["ok quit"], Quit: true),
            _ => ControlReply.Error($"unknown command '{words[0]}' (commands: {Help})"),
        };
        Log.ControlCommand(_logger, line.Trim(), reply.Lines[^1]);
        return reply;
    }

    private static ControlReply? NoArguments(ReadOnlySpan<string> args, string command) =>
        args.Length == 0 ? null : ControlReply.Error($"{command} takes no argument");

    private ControlReply Slow(ReadOnlySpan<string> args)
    {
        if (args.Length != 1
            || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || ms > ModbusFaultInjector.MaxSlowMilliseconds)
        {
            return ControlReply.Error(string.Create(CultureInfo.InvariantCulture, $"slow: expected a delay in milliseconds, 0–{ModbusFaultInjector.MaxSlowMilliseconds} (0 = off), e.g. 'slow 200'"));
        }

        _simulator.Faults.SetSlow(TimeSpan.FromMilliseconds(ms));
        return ControlReply.Ok(string.Create(CultureInfo.InvariantCulture, $"slow {ms}"));
    }

    private ControlReply Exception(ReadOnlySpan<string> args)
    {
        if (args.Length != 1)
        {
            return ControlReply.Error("exception: expected CODE[@ADDRESS] (e.g. 'exception 4', 'exception 2@1000') or 'exception off'");
        }

        if (args[0].Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            _simulator.Faults.ClearExceptions();
            return ControlReply.Ok("exception off");
        }

        if (!ExceptionRule.TryParse(args[0], out var rule, out var problem))
        {
            return ControlReply.Error($"exception: {problem}");
        }

        _simulator.Faults.AddException(rule);
        return ControlReply.Ok($"exception {rule}");
    }

    private static ControlReply Schedule(ReadOnlySpan<string> args, string command, Action<FaultSchedule> set)
    {
        FaultSchedule schedule;
        if (args.Length == 0)
        {
            schedule = new FaultSchedule(0, Next: true);
        }
        else if (args.Length == 1 && args[0].Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            schedule = FaultSchedule.Off;
        }
        else if (args.Length == 1 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var every) && every >= 1)
        {
            schedule = new FaultSchedule(every, Next: false);
        }
        else
        {
            return ControlReply.Error($"{command}: expected nothing (the next request), N ≥ 1 (every Nth request) or 'off'");
        }

        set(schedule);
        return ControlReply.Ok($"{command} {schedule}");
    }

    private ControlReply CloseAll()
    {
        var closed = _simulator.CloseAllConnections();
        return ControlReply.Ok(string.Create(CultureInfo.InvariantCulture, $"close-all {closed}"));
    }

    private ControlReply Clear()
    {
        _simulator.Faults.Clear();
        return ControlReply.Ok("clear");
    }

    private ControlReply Status()
    {
        var settings = _simulator.Settings;
        var counters = _simulator.Faults.Counters;
        var lines = new List<string>
        {
            string.Create(
                CultureInfo.InvariantCulture,
                $"status server endpoint={_simulator.Endpoint} connections={_simulator.ActiveConnections} requests={counters.Requests} pace={(settings.Pacing == SimulatorPacing.OnRead ? "on-read" : "realtime")} speed={settings.Speed:0.###}"),
            string.Create(
                CultureInfo.InvariantCulture,
                $"status faults {_simulator.Faults.Describe()} applied-exceptions={counters.Exceptions} applied-slow={counters.Slowed} applied-drops={counters.Dropped} applied-mutes={counters.Muted}"),
        };
        foreach (var machine in _simulator.Machines)
        {
            var r = machine.Readings;
            lines.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"status machine name={machine.Name} unit={machine.Unit} blocks={r.Blocks} sequence={r.Sequence} rms={r.Rms:0.#####} peak={r.Peak:0.#####} temperature={r.TemperatureC:0.##} rpm={r.Rpm:0.###} severity={r.Severity:0.####} running={(r.Running ? 1 : 0)} ended={(r.Ended ? 1 : 0)}"));
        }

        lines.Add("ok status");
        return new ControlReply(lines);
    }
}
