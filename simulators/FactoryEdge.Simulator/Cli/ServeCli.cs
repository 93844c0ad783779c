using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator.Cli;

/// <summary>
/// The options and run-loop plumbing the serving subcommands (<c>modbus</c>, <c>opcua</c>) share:
/// bind address, port, pacing, speed, progress, connection limit, stdin handling and log level;
/// the logger, the stop signal, the control thread on stdin and the progress display.
/// </summary>
internal sealed class ServeOptions
{
    public ServeOptions(int defaultPort, string paceDescription)
    {
        Port = new Option<int>("--port", "-p") { Description = "TCP port (0 picks a free one; the ready line tells which).", DefaultValueFactory = _ => defaultPort };
        Pace = new Option<string>("--pace") { Description = paceDescription, DefaultValueFactory = _ => "realtime" };
    }

    public Option<string> Bind { get; } = new("--bind") { Description = "Address to listen on (127.0.0.1; 0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1" };

    public Option<int> Port { get; }

    public Option<string> Pace { get; }

    public Option<double?> Speed { get; } = new("--speed") { Description = "Times real time, e.g. 10 (realtime pacing only; default 1)." };

    public Option<double> Progress { get; } = new("--progress") { Description = "Print replay progress on stderr every N seconds (0 = off; default 10 when a recording is served).", DefaultValueFactory = _ => -1 };

    public Option<int> MaxConnections { get; } = new("--max-connections") { Description = "Connections served at once; more are accepted and closed.", DefaultValueFactory = _ => 16 };

    public Option<bool> ExitOnEof { get; } = new("--exit-on-eof") { Description = "Exit when standard input closes (otherwise only the control channel stops)." };

    public Option<string> LogLevel { get; } = new("--log-level") { Description = "Log level on stderr: trace, debug, information, warning, error, none.", DefaultValueFactory = _ => "information" };

    /// <summary>--bind: an IP address or <c>localhost</c>.</summary>
    public IPAddress ReadBind(ParseResult parse) => ServeCli.ParseBind(parse.GetValue(Bind)!);

    /// <summary>--port: 0–65535.</summary>
    public int ReadPort(ParseResult parse)
    {
        var port = parse.GetValue(Port);
        ServeCli.Require(port is >= 0 and <= 65535, $"--port {port} is out of range 0–65535 (0 picks a free port)");
        return port;
    }

    /// <summary>--pace and --speed (speed 1 unless given; only with realtime pacing).</summary>
    public (SimulatorPacing Pacing, double Speed) ReadPacing(ParseResult parse)
    {
        var paceText = parse.GetValue(Pace)!.Trim().ToLowerInvariant();
        var pacing = paceText switch
        {
            "realtime" or "real-time" => SimulatorPacing.RealTime,
            "on-read" or "onread" => SimulatorPacing.OnRead,
            _ => throw new SimulatorUsageException($"--pace '{paceText}' is not one of realtime, on-read"),
        };
        var speed = parse.GetValue(Speed);
        if (speed is { } s)
        {
            ServeCli.Require(pacing == SimulatorPacing.RealTime, "--speed applies to --pace realtime (on-read pacing follows the reader)");
            ServeCli.Require(s > 0 && s <= 10_000, string.Create(CultureInfo.InvariantCulture, $"--speed {s} is out of range (0, 10000]"));
        }

        return (pacing, speed ?? 1);
    }

    /// <summary>--max-connections: 1–1024.</summary>
    public int ReadMaxConnections(ParseResult parse)
    {
        var connections = parse.GetValue(MaxConnections);
        ServeCli.Require(connections is >= 1 and <= 1024, $"--max-connections {connections} is out of range 1–1024");
        return connections;
    }

    /// <summary>--progress: seconds between progress lines; unless given, 10 when a recording is served and 0 (off) otherwise.</summary>
    public double ReadProgress(ParseResult parse, IReadOnlyList<MachineDefinition> definitions)
    {
        var seconds = parse.GetValue(Progress);
        return seconds < 0 ? (definitions.Any(static d => d.Generator is null) ? 10 : 0) : seconds;
    }

    public LogLevel ReadLogLevel(ParseResult parse) => ServeCli.ParseLogLevel(parse.GetValue(LogLevel)!);

    /// <summary>How the run behaves (log level, progress, stdin) and what it talks to.</summary>
    public ServeRun ReadRun(ParseResult parse, IReadOnlyList<MachineDefinition> definitions, TextReader input, TextWriter output, TextWriter error, TimeProvider timeProvider) =>
        new(parse.GetValue(ExitOnEof), ReadLogLevel(parse), ReadProgress(parse, definitions), input, output, error, timeProvider);
}

/// <summary>
/// What a serving run needs besides its settings and machines: stop on stdin EOF or not, the log
/// level, seconds between progress lines (0 = off), the control channel's input and output, stderr
/// and the clock.
/// </summary>
internal sealed record ServeRun(
    bool ExitOnEof,
    LogLevel LogLevel,
    double ProgressSeconds,
    TextReader Input,
    TextWriter Output,
    TextWriter Error,
    TimeProvider TimeProvider);

/// <summary>Run-loop helpers shared by the serving subcommands.</summary>
internal static class ServeCli
{
    public static IPAddress ParseBind(string text)
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

    public static LogLevel ParseLogLevel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" or "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "none" or "off" => LogLevel.None,
        _ => throw new SimulatorUsageException($"--log-level '{text}' is not one of trace, debug, information, warning, error, none"),
    };

    /// <summary>Sets the subcommand's action: <paramref name="run"/>, with a usage error printed as <c>factoryedge-sim NAME: message</c> and its exit code.</summary>
    public static void SetAction(Command command, TextWriter error, Func<ParseResult, CancellationToken, Task<int>> run) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await run(parse, cancellationToken).ConfigureAwait(false);
            }
            catch (SimulatorUsageException ex)
            {
                await error.WriteLineAsync($"factoryedge-sim {command.Name}: {ex.Message}").ConfigureAwait(false);
                return ex.ExitCode;
            }
        });

    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new SimulatorUsageException(message);
        }
    }

    /// <summary>Logs on stderr, one line each, at <paramref name="level"/> and above.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogLevel level) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(level)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o => o.SingleLine = true));

    /// <summary>
    /// Starts the server (<paramref name="start"/> returns its endpoint); null, after the message
    /// <c>factoryedge-sim COMMAND: cannot listen on …</c>, when it cannot bind.
    /// </summary>
    public static async Task<string?> StartAsync(Func<string> start, TextWriter error, string command, IPAddress bind, int port)
    {
        try
        {
            return start();
        }
        catch (SocketException ex)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"factoryedge-sim {command}: cannot listen on {new IPEndPoint(bind, port)} (--bind/--port): {ex.Message}")).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The lines of <paramref name="lines"/> on stderr every <see cref="ServeRun.ProgressSeconds"/> until cancelled (none when 0).</summary>
    public static Task ProgressAsync(Func<IEnumerable<string>> lines, ServeRun run, CancellationToken cancellationToken) =>
        run.ProgressSeconds > 0 ? ProgressAsync(lines, run.ProgressSeconds, run.Error, run.TimeProvider, cancellationToken) : Task.CompletedTask;

    /// <summary>Runs the control loop on stdin on its own thread; stops <paramref name="stop"/> with the reason it returns.</summary>
    public static void StartControl(Func<string, (IReadOnlyList<string> Lines, bool Quit)?> execute, Action<string, string>? logCommand, ServeRun run, ILogger logger, ServeStop stop) =>
        _ = Task.Factory.StartNew(
            () =>
            {
                if (ReadControl(execute, logCommand, run.Input, run.Output, run.ExitOnEof, logger, stop.Token) is { } why)
                {
                    stop.Request(why);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static async Task ProgressAsync(Func<IEnumerable<string>> lines, double seconds, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var line in lines())
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

    /// <summary>
    /// Waits until <paramref name="stop"/> is requested (or the outer token fires), logs why, stops the
    /// simulator's tasks and awaits them; <see cref="ExitCodes.Failure"/> when one failed.
    /// </summary>
    public static async Task<int> WaitThenStopAsync(ServeStop stop, ILogger logger, TimeProvider time, params Task[] work)
    {
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C / SIGTERM (the token), quit or EOF (the control thread).
        }

        Log.Stopping(logger, stop.Reason ?? "signal (Ctrl+C or SIGTERM)");
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(work).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(logger, ex);
            return ExitCodes.Failure;
        }

        return ExitCodes.Ok;
    }

    /// <summary>The control loop (reading stdin blocks); returns why to stop, or null to keep serving.</summary>
    private static string? ReadControl(Func<string, (IReadOnlyList<string> Lines, bool Quit)?> execute, Action<string, string>? logCommand, TextReader input, TextWriter output, bool exitOnEof, ILogger logger, CancellationToken stop)
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

                if (execute(line) is not { } reply)
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

                logCommand?.Invoke(line.Trim(), reply.Lines[^1]);
                if (reply.Quit)
                {
                    return "quit command";
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

        return null;
    }
}

/// <summary>The stop signal of a serving run and the reason it was given (null: Ctrl+C or SIGTERM).</summary>
internal sealed class ServeStop : IDisposable
{
    private readonly CancellationTokenSource _source;
    private string? _reason;

    public ServeStop(CancellationToken outer) => _source = CancellationTokenSource.CreateLinkedTokenSource(outer);

    public CancellationToken Token => _source.Token;

    public string? Reason => Volatile.Read(ref _reason);

    /// <summary>Stops the run for <paramref name="reason"/>.</summary>
    public void Request(string reason)
    {
        Volatile.Write(ref _reason, reason);
        _source.Cancel();
    }

    public Task CancelAsync() => _source.CancelAsync();

    public void Dispose() => _source.Dispose();
}
