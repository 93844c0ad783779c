using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>Result of one delivery attempt.</summary>
public enum DeliveryOutcome
{
    /// <summary>The peer acknowledged the alert (PUBACK, HTTP 2xx).</summary>
    Delivered,

    /// <summary>Not delivered now (peer down, timeout, 5xx): try again with backoff.</summary>
    RetryLater,

    /// <summary>The peer refused it for good (HTTP 4xx other than 408/429): drop it.</summary>
    Rejected,
}

/// <summary>The first delivery attempt of an alert returned: how, and when (<see cref="Stopwatch"/> ticks).</summary>
public sealed class AlertAttemptEventArgs(Alert alert, DeliveryOutcome outcome, long timestamp) : EventArgs
{
    public Alert Alert { get; } = alert;

    public DeliveryOutcome Outcome { get; } = outcome;

    public long Timestamp { get; } = timestamp;
}

/// <summary>
/// A notifier with routing, rate limiting and an outbox. On the hot path the alert is persisted
/// concurrently with its first delivery attempt (never in front of it); the entry is removed once the
/// peer acknowledged it, otherwise <see cref="RunAsync"/> resends it with backoff. The alert id (and
/// the idempotency key <c>{alertId}:{state}</c>) stays the same, so a resend is harmless.
/// </summary>
public abstract partial class OutboxAlertNotifier : IAlertNotifier
{
    private readonly AlertRoute _route;
    private readonly AlertRateLimiter _rateLimiter;
    private readonly ConcurrentDictionary<(string, AlertState), byte> _inFlight = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _delivered;
    private long _redelivered;
    private long _filtered;
    private long _dropped;

    protected OutboxAlertNotifier(string name, AlertRouteOptions route, IAlertOutbox outbox, TimeSpan retryScanInterval, TimeSpan maxAlertAge, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(route);
        Name = name;
        _route = new AlertRoute(route);
        Outbox = outbox;
        Time = time;
        Logger = logger;
        RetryScanInterval = retryScanInterval;
        MaxAlertAge = maxAlertAge;
        _rateLimiter = new AlertRateLimiter(route.MaxAlertsPerMachinePerMinute, time);
    }

    public string Name { get; }

    /// <summary>Raised when the first attempt of an alert returned (PUBACK, HTTP answer, or not), with a Stopwatch timestamp.</summary>
    public event EventHandler<AlertAttemptEventArgs>? FirstAttemptCompleted;

    /// <summary>Alerts acknowledged by the peer on the first attempt.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Alerts acknowledged on a later attempt (from the outbox).</summary>
    public long Redelivered => Interlocked.Read(ref _redelivered);

    /// <summary>Alerts not routed to this notifier (severity, machine).</summary>
    public long Filtered => Interlocked.Read(ref _filtered);

    /// <summary>Alerts held back by the rate limit.</summary>
    public long RateLimited => _rateLimiter.Suppressed;

    /// <summary>Alerts given up (rejected, too many attempts, too old).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Alerts waiting in the outbox.</summary>
    public int Pending => Outbox.Count(Name);

    protected IAlertOutbox Outbox { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    protected TimeSpan RetryScanInterval { get; }

    protected TimeSpan MaxAlertAge { get; }

    /// <summary>False while the peer is known to be unreachable (the retry loop then waits).</summary>
    protected virtual bool IsReady => true;

    protected virtual int MaxAttempts => int.MaxValue;

    public async ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!_route.Matches(alert))
        {
            Interlocked.Increment(ref _filtered);
            return;
        }

        if (!_rateLimiter.TryAcquire(alert))
        {
            LogRateLimited(Logger, Name, alert.AlertId, alert.Channel.MachineKey);
            return;
        }

        var now = Time.GetUtcNow();
        var payload = AlertJson.Serialize(alert, now);
        var entry = new OutboxEntry(Name, alert.AlertId, alert.State, payload, now.UtcTicks, 1, now.UtcTicks);
        var key = (alert.AlertId, alert.State);
        _inFlight[key] = 0;

        // Persist concurrently with the first attempt: the publish never waits for the disk.
        var persist = Task.Run(() => Outbox.Add(entry), CancellationToken.None);
        var outcome = DeliveryOutcome.RetryLater;
        try
        {
            outcome = IsReady ? await DeliverAsync(alert, payload, cancellationToken).ConfigureAwait(false) : DeliveryOutcome.RetryLater;
            FirstAttemptCompleted?.Invoke(this, new AlertAttemptEventArgs(alert, outcome, Stopwatch.GetTimestamp()));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogAttemptFailed(Logger, Name, alert.AlertId, 1, ex.Message);
        }
        finally
        {
            _ = FinishFirstAttemptAsync(persist, entry, outcome, key);
        }
    }

    /// <summary>
    /// Sends a flood summary (JSON, docs/alerts.md) once, best effort: it is not queued in the outbox.
    /// The held-back alerts themselves stay on the alarm board.
    /// </summary>
    public virtual ValueTask NotifyFloodAsync(byte[] payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Sends a channel-health event (JSON, docs/alerts.md) once, best effort; routed by machine like alerts.</summary>
    public virtual ValueTask NotifyChannelHealthAsync(ChannelHealthEvent healthEvent, byte[] payload, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>True when this notifier's machine filter takes <paramref name="channel"/>'s machine.</summary>
    protected bool RoutesMachine(ChannelId channel) => _route.MatchesMachine(channel);

    /// <summary>Runs the retry loop (and, in derived classes, the connection) until cancelled.</summary>
    public virtual async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(RetryScanInterval, cancellationToken).ConfigureAwait(false);
                await RetryDueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRetryLoopFailed(Logger, Name, ex);
            }
        }
    }

    /// <summary>Resends every due outbox entry (oldest first). Returns how many were delivered.</summary>
    public async Task<int> RetryDueAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        while (IsReady)
        {
            var now = Time.GetUtcNow();
            var due = Outbox.Due(Name, now.UtcTicks, 64);
            var progressed = false;
            foreach (var entry in due)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = (entry.AlertId, entry.State);
                if (_inFlight.ContainsKey(key))
                {
                    continue;
                }

                if (now.UtcTicks - entry.CreatedUtcTicks > MaxAlertAge.Ticks)
                {
                    Drop(entry, "older than MaxAlertAge");
                    continue;
                }

                Alert alert;
                try
                {
                    alert = AlertJson.Deserialize(entry.Payload);
                }
                catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    Drop(entry, "unreadable payload: " + ex.Message);
                    continue;
                }

                var outcome = DeliveryOutcome.RetryLater;
                try
                {
                    outcome = await DeliverAsync(alert, entry.Payload, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogAttemptFailed(Logger, Name, entry.AlertId, entry.Attempts + 1, ex.Message);
                }

                progressed = true;
                switch (outcome)
                {
                    case DeliveryOutcome.Delivered:
                        Outbox.Remove(Name, entry.AlertId, entry.State);
                        Interlocked.Increment(ref _redelivered);
                        delivered++;
                        break;
                    case DeliveryOutcome.Rejected:
                        Drop(entry, "rejected by the peer");
                        break;
                    default:
                        Reschedule(entry.AlertId, entry.State, entry.Attempts + 1);
                        if (!IsReady)
                        {
                            return delivered;
                        }

                        break;
                }
            }

            if (due.Count < 64 || !progressed)
            {
                return delivered;
            }
        }

        return delivered;
    }

    /// <summary>One delivery attempt: returns once the peer acknowledged it (or did not).</summary>
    protected abstract ValueTask<DeliveryOutcome> DeliverAsync(Alert alert, byte[] payload, CancellationToken cancellationToken);

    /// <summary>Delay after attempt <paramref name="attempts"/>: doubling from 500 ms up to 1 min, ±20 % jitter.</summary>
    protected virtual TimeSpan Backoff(int attempts)
    {
        var ms = Math.Min(60_000, 500 * Math.Pow(2, Math.Min(attempts - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    /// <summary>Wakes the retry loop (e.g. after a reconnect).</summary>
    protected void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    private async Task FinishFirstAttemptAsync(Task persist, OutboxEntry entry, DeliveryOutcome outcome, (string, AlertState) key)
    {
        try
        {
            await persist.ConfigureAwait(false);
            switch (outcome)
            {
                case DeliveryOutcome.Delivered:
                    Outbox.Remove(Name, entry.AlertId, entry.State);
                    Interlocked.Increment(ref _delivered);
                    break;
                case DeliveryOutcome.Rejected:
                    Drop(entry, "rejected by the peer");
                    break;
                default:
                    Reschedule(entry.AlertId, entry.State, 1);
                    LogQueued(Logger, Name, entry.AlertId);
                    break;
            }
        }
        catch (Exception ex)
        {
            LogOutboxFailed(Logger, Name, entry.AlertId, ex);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private void Reschedule(string alertId, AlertState state, int attempts)
    {
        if (attempts >= MaxAttempts)
        {
            Outbox.Remove(Name, alertId, state);
            Interlocked.Increment(ref _dropped);
            LogDropped(Logger, Name, alertId, $"no success after {attempts} attempts");
            return;
        }

        var next = Time.GetUtcNow() + Backoff(attempts);
        Outbox.Reschedule(Name, alertId, state, attempts, next.UtcTicks);
    }

    private void Drop(OutboxEntry entry, string reason)
    {
        Outbox.Remove(Name, entry.AlertId, entry.State);
        Interlocked.Increment(ref _dropped);
        LogDropped(Logger, Name, entry.AlertId, reason);
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Notifier {Notifier}: attempt {Attempt} for alert {AlertId} failed: {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, string notifier, string alertId, int attempt, string reason);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Notifier {Notifier}: alert {AlertId} queued for redelivery")]
    private static partial void LogQueued(ILogger logger, string notifier, string alertId);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Error, Message = "Notifier {Notifier}: alert {AlertId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string notifier, string alertId, string reason);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "Notifier {Notifier}: alert {AlertId} of {Machine} held back by the rate limit")]
    private static partial void LogRateLimited(ILogger logger, string notifier, string alertId, string machine);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Error, Message = "Notifier {Notifier}: outbox write for alert {AlertId} failed")]
    private static partial void LogOutboxFailed(ILogger logger, string notifier, string alertId, Exception exception);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Error, Message = "Notifier {Notifier}: retry loop failed")]
    private static partial void LogRetryLoopFailed(ILogger logger, string notifier, Exception exception);
}
