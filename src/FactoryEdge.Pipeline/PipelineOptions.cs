using System.Numerics;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Pipeline;

/// <summary>What a sink queue does when it is full.</summary>
public enum SinkFullMode
{
    /// <summary>Drop the new item and count it (live operation: the hot path never waits).</summary>
    DropNewest,
    /// <summary>
    /// Wait for room (offline analysis of recordings, where nothing may be lost). In this mode the
    /// worker → scoring hand-over waits too, instead of dropping windows.
    /// </summary>
    Wait,
}

/// <summary>Settings of the signal pipeline (section <c>FactoryEdge:Pipeline</c>).</summary>
public sealed class PipelineOptions
{
    public const string SectionName = "FactoryEdge:Pipeline";

    /// <summary>Samples per window: a power of two in [1024, 65536].</summary>
    public int WindowSize { get; set; } = 4096;

    /// <summary>Overlap between consecutive windows as a fraction in [0, 0.9].</summary>
    public double Overlap { get; set; } = 0.5;

    /// <summary>Feature worker threads; 0 = one per core, at most 8.</summary>
    public int Workers { get; set; }

    /// <summary>Seconds of samples each channel's ring holds before the source's writes are dropped.</summary>
    public double RingSeconds { get; set; } = 2.0;

    /// <summary>Items each sink queue holds before it drops (or waits, see <see cref="SinkFullMode"/>).</summary>
    public int SinkQueueCapacity { get; set; } = 4096;

    public SinkFullMode SinkFullMode { get; set; } = SinkFullMode.DropNewest;

    public AlertRuleOptions Alerts { get; set; } = new();

    public BaselineOptions Baseline { get; set; } = new();

    /// <summary>Machine-state detection (running/stopped).</summary>
    public MachineStateOptions MachineState { get; set; } = new();

    public int Hop => Math.Max(1, (int)Math.Round(WindowSize * (1.0 - Overlap)));

    public int EffectiveWorkers => Workers > 0 ? Workers : Math.Clamp(Environment.ProcessorCount, 1, 8);
}

/// <summary>Alert rules with hysteresis (section <c>FactoryEdge:Pipeline:Alerts</c>).</summary>
public sealed class AlertRuleOptions
{
    /// <summary>Consecutive anomalous windows that raise an alert.</summary>
    public int RaiseAfter { get; set; } = 3;

    /// <summary>Consecutive normal windows that clear it.</summary>
    public int ClearAfter { get; set; } = 10;

    /// <summary>Score/threshold ratio from which an alert is an Alarm.</summary>
    public double AlarmRatio { get; set; } = 2.0;

    /// <summary>Score/threshold ratio from which an alert is Critical.</summary>
    public double CriticalRatio { get; set; } = 4.0;

    /// <summary>
    /// True (the default): while an alert is active only an escalation is sent again. False sends one
    /// <c>Raised</c> alert, with its own id, for every anomalous window of an active alert — for latency
    /// benchmarks and commissioning, never for production.
    /// </summary>
    public bool Dedupe { get; set; } = true;
}

/// <summary>The built-in statistical baseline scorer (used until an ONNX model is configured).</summary>
public sealed class BaselineOptions
{
    /// <summary>Windows per channel learned before scoring starts.</summary>
    public int WarmupWindows { get; set; } = 100;

    /// <summary>Score (max |z| over the monitored features) above which a window is anomalous.</summary>
    public double Threshold { get; set; } = 6.0;
}

/// <summary>Running/stopped detection: a stopped machine raises no alerts.</summary>
public sealed class MachineStateOptions
{
    /// <summary>Overall RMS (in the channel's unit) below which the machine counts as stopped; 0 disables.</summary>
    public double StoppedRms { get; set; } = 0.005;

    /// <summary>Tracked shaft speed (Hz) below which the machine counts as stopped, when speed is known; 0 disables.</summary>
    public double StoppedSpeedHz { get; set; }

    /// <summary>Consecutive windows needed to change state (debounce).</summary>
    public int Debounce { get; set; } = 3;
}

/// <summary>Validates pipeline options; every failure names the key and the allowed values.</summary>
public sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    private const string S = PipelineOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.WindowSize is < 1024 or > 65536 || !BitOperations.IsPow2(options.WindowSize))
        {
            failures.Add($"{S}:WindowSize = {options.WindowSize} is not allowed: use a power of two from 1024 to 65536 (1024, 2048, 4096, 8192, 16384, 32768, 65536).");
        }

        Range(failures, "Overlap", options.Overlap, 0, 0.9);
        Range(failures, "Workers", options.Workers, 0, 64);
        Range(failures, "RingSeconds", options.RingSeconds, 0.1, 60);
        Range(failures, "SinkQueueCapacity", options.SinkQueueCapacity, 16, 1_000_000);
        if (!Enum.IsDefined(options.SinkFullMode))
        {
            failures.Add($"{S}:SinkFullMode = {options.SinkFullMode} is not allowed: use DropNewest or Wait.");
        }

        var a = options.Alerts ?? new AlertRuleOptions();
        Range(failures, "Alerts:RaiseAfter", a.RaiseAfter, 1, 1000);
        Range(failures, "Alerts:ClearAfter", a.ClearAfter, 1, 10000);
        Range(failures, "Alerts:AlarmRatio", a.AlarmRatio, 1, 1000);
        Range(failures, "Alerts:CriticalRatio", a.CriticalRatio, 1, 1000);
        if (a.CriticalRatio < a.AlarmRatio)
        {
            failures.Add($"{S}:Alerts:CriticalRatio ({a.CriticalRatio}) must be at least Alerts:AlarmRatio ({a.AlarmRatio}).");
        }

        var b = options.Baseline ?? new BaselineOptions();
        Range(failures, "Baseline:WarmupWindows", b.WarmupWindows, 5, 1_000_000);
        Range(failures, "Baseline:Threshold", b.Threshold, 1, 1000);
        var m = options.MachineState ?? new MachineStateOptions();
        Range(failures, "MachineState:StoppedRms", m.StoppedRms, 0, 1e6);
        Range(failures, "MachineState:StoppedSpeedHz", m.StoppedSpeedHz, 0, 1e5);
        Range(failures, "MachineState:Debounce", m.Debounce, 1, 1000);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            failures.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{S}:{key} = {value} is not allowed: use a value from {min} to {max}."));
        }
    }
}
