using System.Diagnostics;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>
/// The <see cref="IAlertNotifier"/> the pipeline sees (named <c>alerts</c>): each alert passes the alarm
/// board, and what the board lets through goes to every configured notifier concurrently.
/// </summary>
internal sealed partial class AlarmGateNotifier : IAlertNotifier, IAlarmAnnunciator
{
    /// <summary>Alerts awaiting their acknowledgement at once; beyond it the pipeline's alert queue waits.</summary>
    internal const int MaxInFlight = 256;

    private readonly AlarmBoard _board;
    private readonly IReadOnlyList<OutboxAlertNotifier> _notifiers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);

    public AlarmGateNotifier(AlarmBoard board, IReadOnlyList<OutboxAlertNotifier> notifiers, ILogger logger)
    {
        _board = board;
        _notifiers = notifiers;
        _logger = logger;
        board.Attach(this);
        board.ChannelHealthChanged += (_, e) => _ = AnnounceHealthAsync(e);
    }

    public string Name => "alerts";

    /// <summary>Alerts handed to the notifiers whose first attempt has not returned yet.</summary>
    public int InFlight => MaxInFlight - _inFlight.CurrentCount;

    /// <summary>
    /// Passes the alert through the board and starts its delivery without waiting for the broker's
    /// acknowledgement: a burst of alerts (windows of many channels complete together) is published
    /// back to back, pipelined on the connection, instead of one PUBACK after the other. Persistence
    /// and retries are the notifiers' (outbox); at most <see cref="MaxInFlight"/> are outstanding.
    /// </summary>
    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken) =>
        _board.Admit(alert, out var toSend) ? DispatchAsync(toSend, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Waits until every started delivery has had its first attempt (shutdown, tests).</summary>
    public async Task WhenIdleAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (InFlight > 0 && watch.Elapsed < timeout)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <summary>Channel-health events go to every notifier once (MQTT: retained per channel; webhooks: one POST).</summary>
    private async Task AnnounceHealthAsync(ChannelHealthEvent e)
    {
        var payload = e.ToJson();
        foreach (var notifier in _notifiers)
        {
            try
            {
                await notifier.NotifyChannelHealthAsync(e, payload, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogDeliveryFailed(_logger, "channel-health " + e.Channel, ex);
            }
        }
    }

    private async ValueTask DispatchAsync(Alert alert, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        ValueTask pending;
        try
        {
            pending = AnnounceAsync(alert, cancellationToken);
        }
        catch
        {
            _inFlight.Release();
            throw;
        }

        if (pending.IsCompleted)
        {
            _inFlight.Release();
            await pending.ConfigureAwait(false);
            return;
        }

        _ = CompleteAsync(pending, alert.AlertId);
    }

    private async Task CompleteAsync(ValueTask pending, string alertId)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogDeliveryFailed(_logger, alertId, ex);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    public ValueTask AnnounceAsync(Alert alert, CancellationToken cancellationToken)
    {
        if (_notifiers.Count == 1)
        {
            return _notifiers[0].NotifyAsync(alert, cancellationToken);
        }

        if (_notifiers.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(Task.WhenAll(_notifiers.Select(n => n.NotifyAsync(alert, cancellationToken).AsTask())));
    }

    public ValueTask AnnounceFloodAsync(FloodSummary summary, CancellationToken cancellationToken)
    {
        var payload = summary.ToJson();
        return new ValueTask(Task.WhenAll(_notifiers.Select(n => n.NotifyFloodAsync(payload, cancellationToken).AsTask())));
    }
}

internal sealed partial class AlarmGateNotifier
{
    [LoggerMessage(EventId = 9409, Level = LogLevel.Error, Message = "Alert {AlertId}: delivery to the notifiers failed")]
    private static partial void LogDeliveryFailed(ILogger logger, string alertId, Exception exception);
}

/// <summary>Feeds the alarm board with each window's channel health and machine state (suppression by design).</summary>
internal sealed class AlarmBoardHealthSink(AlarmBoard board) : ITelemetrySink
{
    public string Name => "alarm-board";

    public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        board.ObserveWindow(result.Channel, result.Health, result.MachineState);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
