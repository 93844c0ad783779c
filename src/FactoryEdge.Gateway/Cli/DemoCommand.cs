using System.Collections.Concurrent;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Gateway.Cli;

/// <summary>
/// The first thing a newcomer runs: the real gateway host with three simulated machines (physics
/// generator, real time). The motor develops an outer-race bearing fault after <c>faultAt</c>
/// seconds; alerts print as they fire. No external service needed.
/// </summary>
public static class DemoCommand
{
    public const string FaultyMachine = "motor-3";

    public static IReadOnlyList<SimulatedMachineConfig> Machines(double faultAtSeconds) =>
    [
        new() { Machine = "pump-1", ShaftRpm = 1480, Seed = 11 },
        new() { Machine = "fan-2", ShaftRpm = 2950, Seed = 22 },
        new() { Machine = FaultyMachine, ShaftRpm = 1780, Fault = "OuterRace", FaultOnsetSeconds = faultAtSeconds, FaultRampSeconds = 6, FaultSeverity = 1.0, Seed = 33 },
    ];

    /// <summary>Runs the demo; <paramref name="extraOverrides"/> adds configuration keys on top of the demo's own (an InfluxDB to write to, a store path).</summary>
    public static async Task<int> RunAsync(double? durationSeconds, double faultAtSeconds, TextWriter stdout, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string?>>? extraOverrides = null)
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

        var machines = Machines(faultAtSeconds);
        var overrides = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            ["Logging:LogLevel:FactoryEdge.Gateway.Hosting.LogAlertNotifier"] = "None",
        };
        for (var i = 0; i < machines.Count; i++)
        {
            var m = machines[i];
            var key = $"{SourcesOptions.SectionName}:Simulated:{i}:";
            overrides[key + "Machine"] = m.Machine;
            overrides[key + "ShaftRpm"] = m.ShaftRpm.ToString(CultureInfo.InvariantCulture);
            overrides[key + "Fault"] = m.Fault;
            overrides[key + "FaultOnsetSeconds"] = m.FaultOnsetSeconds.ToString(CultureInfo.InvariantCulture);
            overrides[key + "FaultRampSeconds"] = m.FaultRampSeconds.ToString(CultureInfo.InvariantCulture);
            overrides[key + "FaultSeverity"] = m.FaultSeverity.ToString(CultureInfo.InvariantCulture);
            overrides[key + "Seed"] = m.Seed.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in extraOverrides ?? [])
        {
            overrides[key] = value;
        }

        var console = new ConsoleAlertNotifier(stdout, TimeProvider.System);
        using var host = GatewayHost.Build(
            GatewayHost.ResolveConfigPath(null),
            services => services.AddSingleton<IAlertNotifier>(console),
            overrides);

        stdout.WriteLine("FactoryEdge demo: 3 simulated machines at 25.6 kHz (pump-1, fan-2 healthy; motor-3 develops an outer-race fault).");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Baseline learning for the first ~8 s; motor-3's fault starts at {faultAtSeconds:0} s. Ctrl+C stops."));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (durationSeconds is { } seconds)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        console.Start();
        await host.StartAsync(stop.Token).ConfigureAwait(false);
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
            var first = console.Raised.Where(a => a.Channel.Machine == machine.Machine).OrderBy(a => a.SourceTime).FirstOrDefault();
            var text = first is null
                ? "no alert"
                : machine.Fault != "None"
                    ? string.Create(CultureInfo.InvariantCulture, $"first alert {(first.SourceTime - console.Started).TotalSeconds - machine.FaultOnsetSeconds:0.0} s after fault onset")
                    : "ALERT on a healthy machine";
            stdout.WriteLine($"  {machine.Machine,-8} fault {machine.Fault,-10} {text}");
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
