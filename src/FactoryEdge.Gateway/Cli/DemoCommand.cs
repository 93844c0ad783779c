using System.Collections.Concurrent;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Gateway.Cli;

/// <summary>
/// The first thing a newcomer runs: the real gateway host reading six simulated machines (physics
/// generator, real time) over the wire — four over OPC UA, two over Modbus TCP, served in process on
/// loopback by our own stacks (the simulators of <c>factoryedge-sim</c>) and read by the gateway's
/// real sources. The motor develops an outer-race bearing fault after <c>faultAt</c> seconds; alerts
/// print as they fire. <c>--replay FILE</c> serves a recording over OPC UA instead. No external
/// service needed.
/// </summary>
public static class DemoCommand
{
    public const string FaultyMachine = "motor-3";

    public static IReadOnlyList<DemoMachine> Machines(double faultAtSeconds) => DemoSimulators.Generated(faultAtSeconds);

    /// <summary>
    /// Runs the demo; <paramref name="extraOverrides"/> adds configuration keys on top of the demo's own
    /// (an InfluxDB to write to, a store path); <paramref name="replay"/> serves that recording (CSV or
    /// WAV, looping) over OPC UA instead of the generated machines.
    /// </summary>
    public static async Task<int> RunAsync(double? durationSeconds, double faultAtSeconds, TextWriter stdout, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string?>>? extraOverrides = null, string? replay = null)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        if (durationSeconds is { } d && !(d > 0))
        {
            await Console.Error.WriteLineAsync($"error: --duration must be a positive number of seconds (was {d}).").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (!(faultAtSeconds >= 0))
        {
            await Console.Error.WriteLineAsync($"error: --fault-at must be 0 or more seconds (was {faultAtSeconds}).").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (replay is not null && !File.Exists(replay))
        {
            await Console.Error.WriteLineAsync($"error: --replay '{replay}': file not found.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var console = new ConsoleAlertNotifier(stdout, TimeProvider.System);
        console.Start();
        DemoSimulators simulators;
        try
        {
            simulators = DemoSimulators.Start(Machines(faultAtSeconds), replay, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System);
        }
        catch (Simulator.SimulatorUsageException ex)
        {
            await Console.Error.WriteLineAsync($"error: --replay: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        await using var _ = simulators;
        simulators.Run();
        var machines = simulators.Machines;
        var overrides = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            ["Logging:LogLevel:FactoryEdge.Gateway.Hosting.LogAlertNotifier"] = "None",
        };
        foreach (var (key, value) in simulators.Overrides("plant", "line-1"))
        {
            overrides[key] = value;
        }

        foreach (var (key, value) in extraOverrides ?? [])
        {
            overrides[key] = value;
        }

        using var host = GatewayHost.Build(
            GatewayHost.ResolveConfigPath(null),
            services => services.AddSingleton<IAlertNotifier>(console),
            overrides);

        var overOpcUa = string.Join(", ", machines.Where(static m => m.Transport == DemoTransport.OpcUa).Select(static m => m.Name));
        var overModbus = string.Join(", ", machines.Where(static m => m.Transport == DemoTransport.Modbus).Select(static m => m.Name));
        stdout.WriteLine(replay is null
            ? $"FactoryEdge demo: {machines.Count} simulated machines at 25.6 kHz, served over the wire and read by the gateway's own sources."
            : $"FactoryEdge demo: the recording {replay} served over OPC UA (looping) and read by the gateway.");
        stdout.WriteLine($"  OPC UA {simulators.OpcUa.EndpointUrl}: {overOpcUa}");
        if (overModbus.Length > 0)
        {
            stdout.WriteLine($"  Modbus TCP {simulators.ModbusEndpoint}: {overModbus}");
        }

        stdout.WriteLine(replay is null
            ? string.Create(CultureInfo.InvariantCulture, $"Baseline learning for the first ~8 s; {FaultyMachine}'s outer-race fault starts at {faultAtSeconds:0} s. Ctrl+C stops.")
            : "Baseline learning for the first ~8 s of the recording. Ctrl+C stops.");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (durationSeconds is { } seconds)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        await host.StartAsync(stop.Token).ConfigureAwait(false);
        stdout.WriteLine(Dashboard.DashboardServer.Describe(host.Services)); // the page: line overview, spectra, trends, alarms
        var service = host.Services.GetRequiredService<PipelineHostedService>();
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        var stats = service.Pipeline?.GetStatistics();
        stdout.WriteLine();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Demo finished after {console.Elapsed.TotalSeconds:0.0} s: {stats?.Windows ?? 0} windows, {console.Raised.Count} alert(s) raised."));
        foreach (var machine in machines)
        {
            var first = console.Raised.Where(a => a.Channel.Machine == machine.Name).OrderBy(a => a.SourceTime).FirstOrDefault();
            var text = first is null
                ? "no alert"
                : machine.Fault != Simulation.FaultType.None
                    ? string.Create(CultureInfo.InvariantCulture, $"first alert {(first.SourceTime - console.Started).TotalSeconds - machine.FaultOnsetSeconds:0.0} s after fault onset")
                    : replay is null ? "ALERT on a healthy machine" : "alert";
            stdout.WriteLine($"  {machine.Name,-12} {machine.TransportName,-6} fault {machine.Fault,-10} {text}");
        }

        if (service.Pipeline is { } pipeline)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  latency window complete → alert stage: p50 {pipeline.CompleteToDispatched.Percentile(0.5):0} µs, p99 {pipeline.CompleteToDispatched.Percentile(0.99):0} µs"));
        }

        var configuration = host.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var store = Telemetry.Cli.TelemetryCommands.ResolveSpoolPath(configuration);
        stdout.WriteLine(string.IsNullOrEmpty(configuration["FactoryEdge:Telemetry:Influx:Url"])
            ? $"  telemetry kept in the embedded store {store}: factoryedge telemetry tail --spool {store}"
            : $"  telemetry written to {configuration["FactoryEdge:Telemetry:Influx:Url"]} (spool {store})");

        return ExitCodes.Ok;
    }
}

/// <summary>Prints alerts as they fire, with the time since the demo started.</summary>
public sealed class ConsoleAlertNotifier(TextWriter output, TimeProvider time) : IAlertNotifier
{
    private long _startTimestamp;

    public string Name => "console";

    public DateTimeOffset Started { get; private set; }

    public ConcurrentQueue<Alert> Raised { get; } = new();

    public TimeSpan Elapsed => time.GetElapsedTime(_startTimestamp);

    public void Start()
    {
        Started = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();
    }

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.State == AlertState.Raised)
        {
            Raised.Enqueue(alert);
        }

        var top = alert.Explanation?.Summary
            ?? string.Join(", ", alert.TopFeatures.Take(6).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}={f.Value:0.###}")));
        lock (output)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{Elapsed.TotalSeconds,6:0.0} s] ALERT {alert.State} {alert.Severity} {alert.Channel} score {alert.Score:0.0} (threshold {alert.Threshold:0.0}), processed in {alert.ProcessingLatencyMicroseconds:0} µs — {top}"));
        }

        return ValueTask.CompletedTask;
    }
}
