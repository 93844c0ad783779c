using System.Diagnostics;
using System.Diagnostics.Metrics;
using FactoryEdge.Pipeline;
using FactoryEdge.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Operations;

/// <summary>
/// Once a tick (1 s, or half the watchdog interval when shorter) looks at the running pipeline:
/// liveness of its threads, the last sample of each channel, each source's state; publishes the
/// <see cref="HealthReport"/>, the metrics (meter <c>FactoryEdge.Operations</c>) and the sd_notify
/// messages: READY=1 once the pipeline has started, WATCHDOG=1 only while the pipeline's own threads
/// loop (a stalled pipeline stops the pings; sources being down does not), STATUS= on every change.
/// </summary>
public sealed partial class OperationsMonitor : BackgroundService
{
    public const string MeterName = "FactoryEdge.Operations";

    /// <summary>Explicit bucket bounds (seconds) of the stage latency histograms.</summary>
    public static readonly double[] LatencyBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly GatewayRuntime _runtime;
    private readonly IServiceNotifier _notifier;
    private readonly OperationsOptions _options;
    private readonly PipelineStallSwitch _stall;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly Histogram<double> _latency;
    private readonly Dictionary<string, ChannelTrack> _tracks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _histogramSeen = new(StringComparer.Ordinal);
    private HealthReport _report = HealthReport.Starting;
    private MetricsSnapshot _snapshot = MetricsSnapshot.Empty;
    private SignalPipeline? _pipeline;
    private long _pipelineSeenTicks;
    private long _restartStartedTicks;
    private bool _readySent;
    private string? _lastStatus;

    public OperationsMonitor(GatewayRuntime runtime, IServiceNotifier notifier, IOptions<OperationsOptions> options, PipelineStallSwitch stall, TimeProvider time, ILogger<OperationsMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _runtime = runtime;
        _notifier = notifier;
        _options = options.Value;
        _stall = stall;
        _time = time;
        _logger = logger;
        _meter = new Meter(MeterName);
        _latency = _meter.CreateHistogram<double>("factoryedge.pipeline.stage.duration", "s", "Pipeline stage latencies (stage = features, alert_after_complete, alert_after_received, scoring)");
        CreateInstruments();
    }

    /// <summary>The latest report (updated every tick).</summary>
    public HealthReport Report => Volatile.Read(ref _report);

    /// <summary>Counts configuration reloads for the metrics (result = applied, rejected, unchanged).</summary>
    internal Counter<long> ConfigReloads { get; private set; } = null!;

    /// <summary>How often the monitor ticks.</summary>
    public TimeSpan TickInterval => _notifier.WatchdogInterval is { } w && w / 2 < TimeSpan.FromSeconds(1) ? w / 2 : TimeSpan.FromSeconds(1);

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_stall.IsArmed)
        {
            LogStallArmed(_logger, _stall.Delay.TotalSeconds);
        }
        else if (_stall.IsRequestedButRefused)
        {
            LogStallRefused(_logger, PipelineStallSwitch.DelayVariable, PipelineStallSwitch.ConfirmVariable);
        }

        // Started after the pipeline's hosted service: wait (bounded) for it, so the host reports
        // itself started (and systemd's own READY=1) only once the pipeline runs.
        if (_runtime.PipelineService is { } service)
        {
            try
            {
                await service.Ready.WaitAsync(TimeSpan.FromSeconds(_options.RestartTimeoutSeconds), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                LogSlowStart(_logger);
            }
        }

        try
        {
            Tick();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogTickFailed(_logger, ex);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _notifier.Notify("STOPPING=1\nSTATUS=stopping");
        Volatile.Write(ref _report, _report with { Status = "stopping", Ready = false, Reason = "the service is stopping" });
        _stall.Release();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TickInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    Tick();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failing look must not stop the loop; the watchdog then stays silent for this tick.
                    LogTickFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One look at the pipeline: report, metrics, notifications.</summary>
    internal void Tick()
    {
        var report = Evaluate();
        Volatile.Write(ref _report, report);
        if (!_readySent && report.Status is not "restarting" and not "failed" && _runtime.PipelineService?.Ready.IsCompleted == true)
        {
            _readySent = true;
            _notifier.Notify("READY=1\nSTATUS=" + StatusLine(report));
            _lastStatus = StatusLine(report);
        }

        var status = StatusLine(report);
        if (report.Alive && _notifier.WatchdogInterval is not null)
        {
            _notifier.Notify(status == _lastStatus ? "WATCHDOG=1" : "WATCHDOG=1\nSTATUS=" + status);
        }
        else if (status != _lastStatus)
        {
            _notifier.Notify("STATUS=" + status);
        }

        if (status != _lastStatus)
        {
            LogStatus(_logger, status);
            _lastStatus = status;
        }
    }

    private static string StatusLine(HealthReport r) => r.Reason is null
        ? $"{r.Status}: {r.Sources.Count} sources, {r.Sources.Sum(s => s.ChannelsUp)} channels delivering"
        : $"{r.Status}: {r.Reason}";

    private HealthReport Evaluate()
    {
        var now = Stopwatch.GetTimestamp();
        var generation = _runtime.Generation;
        if (_runtime.HasFailed)
        {
            return new HealthReport("failed", false, false, "the configuration could not be started; see the log", null, generation, 0, []);
        }

        if (_runtime.IsRestarting)
        {
            if (_restartStartedTicks == 0)
            {
                _restartStartedTicks = now;
            }

            var restartSeconds = Seconds(now - _restartStartedTicks);
            var alive = restartSeconds <= _options.RestartTimeoutSeconds;
            return new HealthReport("restarting", alive, false, "applying a configuration change", null, generation, 0, []);
        }

        _restartStartedTicks = 0;
        var service = _runtime.PipelineService;
        if (service is null || !service.Ready.IsCompleted)
        {
            return HealthReport.Starting with { Generation = generation };
        }

        var sources = _runtime.Sources;
        var pipeline = service.Pipeline;
        if (pipeline is null)
        {
            _snapshot = MetricsSnapshot.Empty;
            return new HealthReport("degraded", true, true, "no sensor source declares any channel", null, generation, 0, []);
        }

        if (!ReferenceEquals(pipeline, _pipeline))
        {
            _pipeline = pipeline;
            _pipelineSeenTicks = now;
            _tracks.Clear();
            _histogramSeen.Clear();
        }

        var stats = pipeline.GetStatistics();
        var livenessAge = Seconds(now - pipeline.LivenessTicks);
        var stale = (long)(_options.SourceStaleSeconds * Stopwatch.Frequency);
        var inGrace = Seconds(now - _pipelineSeenTicks) < _options.StartupGraceSeconds;

        var channelMetrics = new ChannelMetric[stats.Channels.Count];
        var sourceHealth = new List<SourceHealth>(sources.Count);
        var offset = 0;
        foreach (var source in sources)
        {
            var count = source.Channels.Count;
            if (count == 0)
            {
                // An adapter with nothing configured (e.g. no Modbus devices) is not a source of this gateway.
                continue;
            }

            int up = 0, never = 0;
            double? newestAge = null;
            for (var i = offset; i < offset + count && i < stats.Channels.Count; i++)
            {
                var c = stats.Channels[i];
                var key = c.Channel.ToString();
                if (!_tracks.TryGetValue(key, out var track))
                {
                    track = new ChannelTrack();
                    _tracks[key] = track;
                }

                var received = c.LastReceivedTicks != 0;
                var isUp = received && now - c.LastReceivedTicks <= stale;
                if (isUp && track.WasDown && track.EverUp)
                {
                    track.Reconnects++;
                }

                track.EverUp |= isUp;
                track.WasDown = !isUp;
                double? age = received ? Seconds(now - c.LastReceivedTicks) : null;
                if (age is { } a && (newestAge is null || a < newestAge))
                {
                    newestAge = a;
                }

                up += isUp ? 1 : 0;
                never += received ? 0 : 1;
                channelMetrics[i] = new ChannelMetric(key, c.Channel.Machine, source.Name, c, age, isUp, track.Reconnects);
            }

            offset += count;
            var state = up > 0 ? "up" : never == count && inGrace ? "starting" : "down";
            sourceHealth.Add(new SourceHealth(source.Name, state, count, up, newestAge));
        }

        for (var i = 0; i < channelMetrics.Length; i++)
        {
            channelMetrics[i] ??= new ChannelMetric(stats.Channels[i].Channel.ToString(), stats.Channels[i].Channel.Machine, "", stats.Channels[i], null, false, 0);
        }

        var scorer = _runtime.Services.GetService<Core.IAnomalyScorer>() as InstrumentedScorer;
        RecordLatencies(pipeline, scorer);
        IReadOnlyList<ModelSlotStatus> models = [];
        if (_runtime.Services.GetService<OnnxAnomalyScorer>() is { } onnx)
        {
            try
            {
                models = onnx.GetStatus();
            }
            catch (InvalidOperationException)
            {
                // Not initialised yet.
            }
        }

        Volatile.Write(ref _snapshot, new MetricsSnapshot(stats, channelMetrics, sourceHealth, livenessAge, pipeline.ModelId, models, _runtime.Generation, _runtime.Restarts));

        if (livenessAge > _options.StallAfterSeconds)
        {
            return new HealthReport("stalled", false, false, FormattableString.Invariant($"a pipeline thread has not looped for {livenessAge:0.0} s"), livenessAge, generation, stats.Windows, sourceHealth);
        }

        var starting = sourceHealth.Where(s => s.State == "starting").Select(s => s.Name).ToList();
        var down = sourceHealth.Where(s => s.State == "down").Select(s => s.Name).ToList();
        if (starting.Count > 0)
        {
            return new HealthReport("starting", true, false, "waiting for the first samples of " + string.Join(", ", starting), livenessAge, generation, stats.Windows, sourceHealth);
        }

        if (down.Count > 0)
        {
            var reason = down.Count == sourceHealth.Count ? "every source is down: " : "sources down: ";
            return new HealthReport("degraded", true, true, reason + string.Join(", ", down), livenessAge, generation, stats.Windows, sourceHealth);
        }

        return new HealthReport("ready", true, true, null, livenessAge, generation, stats.Windows, sourceHealth);
    }

    private void RecordLatencies(SignalPipeline pipeline, InstrumentedScorer? scorer)
    {
        Record("features", pipeline.FeatureLatency);
        Record("alert_after_complete", pipeline.CompleteToDispatched);
        Record("alert_after_received", pipeline.ReceivedToDispatched);
        if (scorer is not null)
        {
            Record("scoring", scorer.ScoringLatency);
        }

        void Record(string stage, LatencyHistogram histogram)
        {
            if (!_histogramSeen.TryGetValue(stage, out var seen))
            {
                seen = new long[LatencyBounds.Length + 1];
                _histogramSeen[stage] = seen;
            }

            var tag = new KeyValuePair<string, object?>("stage", stage);
            long below = 0;
            for (var b = 0; b <= LatencyBounds.Length; b++)
            {
                var cumulative = b < LatencyBounds.Length ? histogram.CountAtMost(LatencyBounds[b] * 1e6) : histogram.Count;
                var inBucket = Math.Max(0, cumulative - below);
                below = Math.Max(below, cumulative);
                var delta = inBucket - seen[b];
                if (delta <= 0)
                {
                    continue;
                }

                seen[b] = inBucket;
                var value = b == 0 ? LatencyBounds[0] / 2
                    : b < LatencyBounds.Length ? (LatencyBounds[b - 1] + LatencyBounds[b]) / 2
                    : LatencyBounds[^1] * 1.5;
                for (long k = 0; k < delta; k++)
                {
                    _latency.Record(value, tag);
                }
            }
        }
    }

    private void CreateInstruments()
    {
        MetricsSnapshot S() => Volatile.Read(ref _snapshot);
        ConfigReloads = _meter.CreateCounter<long>("factoryedge.config.reloads", "{reload}", "Configuration changes seen (result = applied, rejected)");

        _meter.CreateObservableCounter("factoryedge.channel.samples", () => S().Channel(c => c.Stats.Samples), "{sample}", "Samples received per channel (rate() = samples/s)");
        _meter.CreateObservableCounter("factoryedge.channel.windows", () => S().Channel(c => c.Stats.Windows), "{window}", "Windows assembled per channel (rate() = windows/s)");
        _meter.CreateObservableCounter("factoryedge.channel.blocks", () => S().Channel(c => c.Stats.Blocks), "{block}", "Sample blocks received per channel");
        _meter.CreateObservableCounter("factoryedge.channel.gaps", () => S().Channel(c => c.Stats.Gaps), "{gap}", "Gaps (sequence jumps, reconnects, ring drops) per channel");
        _meter.CreateObservableCounter("factoryedge.channel.dropped_samples", () => S().Channel(c => c.Stats.DroppedSamples), "{sample}", "Samples dropped because the channel's ring was full");
        _meter.CreateObservableCounter("factoryedge.channel.reconnects", () => S().Channel(c => c.Reconnects), "{reconnect}", "Times a channel delivered again after being stale");
        _meter.CreateObservableGauge("factoryedge.channel.last_sample_age", () => S().ChannelAges(), "s", "Seconds since the channel's last sample block");
        _meter.CreateObservableGauge("factoryedge.channel.up", () => S().Channel(c => c.Up ? 1L : 0L), "{state}", "1 when the channel delivered within SourceStaleSeconds");
        _meter.CreateObservableGauge("factoryedge.source.up", () => S().Sources.Select(s => new Measurement<long>(s.State == "up" ? 1 : 0, new KeyValuePair<string, object?>("source", s.Name))), "{state}", "1 when some channel of the source delivers");

        _meter.CreateObservableCounter("factoryedge.pipeline.windows", () => S().Pipeline(p => p.Windows), "{window}", "Windows through the pipeline");
        _meter.CreateObservableCounter("factoryedge.pipeline.scored", () => S().Pipeline(p => p.Scored), "{window}", "Windows scored");
        _meter.CreateObservableCounter("factoryedge.pipeline.alerts_raised", () => S().Pipeline(p => p.AlertsRaised), "{alert}", "Alerts raised");
        _meter.CreateObservableCounter("factoryedge.pipeline.dropped_windows", () => S().Pipeline(p => p.DroppedWindows), "{window}", "Windows dropped between workers and scoring (queue full)");
        _meter.CreateObservableCounter("factoryedge.pipeline.failed_windows", () => S().Pipeline(p => p.FailedWindows), "{window}", "Windows whose processing threw");
        _meter.CreateObservableGauge("factoryedge.pipeline.liveness_age", () => S().LivenessAge(), "s", "Seconds since the slowest pipeline thread looped (the watchdog's input)");
        _meter.CreateObservableGauge("factoryedge.pipeline.generation", () => (long)S().Generation, "{generation}", "0 at start, +1 per in-process restart after a configuration change");

        _meter.CreateObservableGauge("factoryedge.sink.depth", () => S().Sink(s => s.Depth), "{item}", "Items waiting in each sink's queue");
        _meter.CreateObservableGauge("factoryedge.sink.capacity", () => S().Sink(s => s.Capacity), "{item}", "Capacity of each sink's queue");
        _meter.CreateObservableCounter("factoryedge.sink.dropped", () => S().Sink(s => s.Dropped), "{item}", "Items a full sink queue dropped");
        _meter.CreateObservableCounter("factoryedge.sink.failed", () => S().Sink(s => s.Failed), "{item}", "Sink write errors");
        _meter.CreateObservableCounter("factoryedge.sink.handled", () => S().Sink(s => s.Handled), "{item}", "Items a sink handled");

        _meter.CreateObservableGauge("factoryedge.model.info", () => S().ModelInfo(), "{model}", "1 for the active scorer (tag model_id)");
        _meter.CreateObservableGauge("factoryedge.model.version", () => S().ModelVersions(), "{version}", "Active model version per model slot");
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    private sealed class ChannelTrack
    {
        public bool EverUp;
        public bool WasDown;
        public long Reconnects;
    }

    [LoggerMessage(EventId = 12001, Level = LogLevel.Information, Message = "Service status: {Status}")]
    private static partial void LogStatus(ILogger logger, string status);

    [LoggerMessage(EventId = 12002, Level = LogLevel.Critical, Message = "TEST STALL SWITCH ARMED: the pipeline's scoring thread will block after {Seconds} s and the watchdog will stop. Never set this outside a test.")]
    private static partial void LogStallArmed(ILogger logger, double seconds);

    [LoggerMessage(EventId = 12003, Level = LogLevel.Warning, Message = "{DelayVariable}/{ConfirmVariable} are set but not both valid: the test stall switch stays off")]
    private static partial void LogStallRefused(ILogger logger, string delayVariable, string confirmVariable);

    [LoggerMessage(EventId = 12004, Level = LogLevel.Warning, Message = "The pipeline did not report started in time; the service reports itself started anyway (/readyz says starting)")]
    private static partial void LogSlowStart(ILogger logger);

    [LoggerMessage(EventId = 12005, Level = LogLevel.Error, Message = "Health evaluation failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}
