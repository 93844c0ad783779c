using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Telemetry;

/// <summary>
/// The pipeline's telemetry sink: each window result goes to the <see cref="TelemetryService"/>
/// (encoded into the open batch, or committed to the spool in durable mode) before the call returns.
/// Also counts each channel's unhealthy windows for the health reporter.
/// </summary>
public sealed class TelemetrySink : ITelemetrySink
{
    private readonly TelemetryService _service;
    private readonly Lock _lock = new();
    private long[] _unhealthy = new long[64];
    private long[] _badQuality = new long[64];
    private long[] _gapBefore = new long[64];

    public TelemetrySink(TelemetryService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
    }

    public string Name => "telemetry";

    public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Health != ChannelHealthFlags.None)
        {
            Count(result.ChannelIndex, result.Health);
        }

        _service.WriteWindow(result);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _service.Flush();
        return ValueTask.CompletedTask;
    }

    /// <summary>Windows of a channel (by pipeline index) that were unhealthy, had bad source quality, or followed a gap.</summary>
    public (long Unhealthy, long BadQuality, long GapBefore) HealthCounts(int channelIndex)
    {
        lock (_lock)
        {
            return channelIndex < _unhealthy.Length
                ? (_unhealthy[channelIndex], _badQuality[channelIndex], _gapBefore[channelIndex])
                : (0, 0, 0);
        }
    }

    private void Count(int index, ChannelHealthFlags flags)
    {
        lock (_lock)
        {
            if (index >= _unhealthy.Length)
            {
                var size = Math.Max(index + 1, _unhealthy.Length * 2);
                Array.Resize(ref _unhealthy, size);
                Array.Resize(ref _badQuality, size);
                Array.Resize(ref _gapBefore, size);
            }

            if (flags.ExcludesWindow())
            {
                _unhealthy[index]++;
            }

            if ((flags & ChannelHealthFlags.BadQuality) != 0)
            {
                _badQuality[index]++;
            }

            if ((flags & ChannelHealthFlags.GapBefore) != 0)
            {
                _gapBefore[index]++;
            }
        }
    }
}

/// <summary>
/// Writes alerts as events (<c>fe_alert</c>): committed to the spool before the call returns, then
/// forwarded with priority. Runs on its own notifier queue, so it never holds up other notifiers.
/// </summary>
public sealed partial class TelemetryAlertNotifier : IAlertNotifier
{
    private readonly TelemetryService _service;
    private readonly ILogger _logger;

    public TelemetryAlertNotifier(TelemetryService service, ILogger<TelemetryAlertNotifier> logger)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(logger);
        _service = service;
        _logger = logger;
    }

    public string Name => "telemetry";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (_service.WriteAlert(alert))
        {
            LogSpooled(_logger, alert.AlertId, alert.State, alert.Channel.ToString());
        }
        else
        {
            LogInMemory(_logger, alert.AlertId, alert.State, alert.Channel.ToString());
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 8030, Level = LogLevel.Information, Message = "Alert {AlertId} {State} on {Channel} spooled")]
    private static partial void LogSpooled(ILogger logger, string alertId, AlertState state, string channel);

    [LoggerMessage(EventId = 8031, Level = LogLevel.Warning, Message = "Alert {AlertId} {State} on {Channel} held in memory: the spool is unavailable")]
    private static partial void LogInMemory(ILogger logger, string alertId, AlertState state, string channel);
}
