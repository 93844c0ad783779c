using System.Diagnostics;
using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Telemetry.LineProtocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Telemetry;

/// <summary>
/// Every <see cref="TelemetryOptions.HealthIntervalSeconds"/> writes, from the running pipeline:
/// each channel's health counters (<c>fe_channel_health</c>: windows, blocks, drops, gaps — a
/// reconnect or device restart is a gap —, missed and repeated samples, unhealthy and bad-quality
/// windows), the latest reading of each scalar channel (<c>fe_scalar</c>, at its source time), and
/// gateway metrics (<c>fe_gateway</c>: pipeline counters, latency, sink drops, the spool's depth,
/// age and counters, process memory and CPU). Counters are cumulative since the pipeline started.
/// </summary>
public sealed partial class TelemetryHealthReporter : BackgroundService
{
    private readonly TelemetryService _service;
    private readonly TelemetrySink? _sink;
    private readonly Func<SignalPipeline?> _pipeline;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _gatewaySeries;
    private readonly Dictionary<int, long> _lastScalarTicks = [];

    public TelemetryHealthReporter(TelemetryService service, TelemetrySink? sink, Func<SignalPipeline?> pipeline, TelemetryOptions options, string gatewayId, TimeProvider time, ILogger<TelemetryHealthReporter> logger)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        _service = service;
        _sink = sink;
        _pipeline = pipeline;
        _interval = TimeSpan.FromSeconds(options.HealthIntervalSeconds);
        _time = time;
        _logger = logger;
        _gatewaySeries = PointEncoder.GatewaySeries(gatewayId);
    }

    /// <summary>Creates a reporter that finds the pipeline in the host's <see cref="PipelineHostedService"/>.</summary>
    public TelemetryHealthReporter(TelemetryService service, TelemetrySink? sink, PipelineHostedService? host, TelemetryOptions options, string gatewayId, TimeProvider time, ILogger<TelemetryHealthReporter> logger)
        : this(service, sink, () => host?.Pipeline, options, gatewayId, time, logger)
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    Report();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogReportFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Writes one round of health and metrics points.</summary>
    public void Report()
    {
        var pipeline = _pipeline();
        var now = _time.GetUtcNow().UtcTicks;
        var telemetry = _service.GetStatistics();
        var stats = pipeline?.GetStatistics();
        _service.WriteLines((encoder, writer) =>
        {
            if (pipeline is not null && stats is not null)
            {
                for (var i = 0; i < stats.Channels.Count; i++)
                {
                    var c = stats.Channels[i];
                    if (c is null)
                    {
                        continue;
                    }

                    var (unhealthy, badQuality, gapBefore) = _sink?.HealthCounts(i) ?? (0, 0, 0);
                    encoder.WriteChannelHealth(writer, c.Channel, now, [
                        new("windows", c.Windows), new("blocks", c.Blocks), new("dropped_blocks", c.DroppedBlocks),
                        new("dropped_samples", c.DroppedSamples), new("gaps", c.Gaps), new("missed_samples", c.MissedSamples),
                        new("repeated_samples", c.RepeatedSamples), new("unhealthy_windows", unhealthy),
                        new("bad_quality_windows", badQuality), new("windows_after_gap", gapBefore)]);
                    if (pipeline.Channels[i].Kind == ChannelKind.Scalar && pipeline.TryGetLatestScalar(i, out var value, out var sourceTime))
                    {
                        var ticks = sourceTime.UtcTicks;
                        if (!_lastScalarTicks.TryGetValue(i, out var last) || last != ticks)
                        {
                            _lastScalarTicks[i] = ticks;
                            encoder.WriteScalar(writer, c.Channel, value, ticks);
                        }
                    }
                }
            }

            using var process = Process.GetCurrentProcess();
            long sinkDropped = 0;
            if (stats is not null)
            {
                foreach (var sink in stats.Sinks)
                {
                    sinkDropped += sink.Dropped;
                }
            }

            encoder.WriteGatewayMetrics(writer, _gatewaySeries, now, [
                new("windows", stats?.Windows ?? 0), new("scored", stats?.Scored ?? 0), new("alerts_raised", stats?.AlertsRaised ?? 0),
                new("dropped_windows", stats?.DroppedWindows ?? 0), new("failed_windows", stats?.FailedWindows ?? 0),
                new("sink_dropped", sinkDropped),
                new("latency_p50_us", pipeline?.CompleteToDispatched.Percentile(0.5) ?? double.NaN),
                new("latency_p99_us", pipeline?.CompleteToDispatched.Percentile(0.99) ?? double.NaN),
                new("telemetry_sent", telemetry.SentLines), new("telemetry_drained", telemetry.DrainedLines),
                new("telemetry_spooled", telemetry.SpooledLines), new("telemetry_evicted", telemetry.EvictedLines),
                new("telemetry_quarantined", telemetry.QuarantinedLines), new("telemetry_dropped", telemetry.DroppedLines),
                new("telemetry_failed_requests", telemetry.FailedRequests), new("telemetry_memory_points", telemetry.MemoryLines),
                new("spool_points", telemetry.Spool.Lines), new("spool_alerts", telemetry.Spool.AlertLines),
                new("spool_bytes", telemetry.Spool.Bytes), new("spool_file_bytes", telemetry.SpoolFileBytes),
                new("spool_oldest_age_s", telemetry.SpoolOldestAgeSeconds),
                new("working_set_bytes", process.WorkingSet64), new("cpu_seconds", process.TotalProcessorTime.TotalSeconds),
                new("gc_heap_bytes", GC.GetTotalMemory(false))]);
        });
    }

    [LoggerMessage(EventId = 8040, Level = LogLevel.Warning, Message = "Telemetry health report failed; the next one is tried at the next interval")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
