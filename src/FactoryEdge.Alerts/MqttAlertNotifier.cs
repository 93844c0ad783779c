using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>
/// Publishes each alert as JSON at QoS 1 to <c>{prefix}/{site}/{line}/{machine}/events</c> and the machine's
/// current alarm state, retained, to <c>…/state</c>. Keeps the connection with reconnect and backoff;
/// alerts raised while the broker is unreachable wait in the outbox and are published afterwards.
/// </summary>
public sealed partial class MqttAlertNotifier : OutboxAlertNotifier, IAsyncDisposable
{
    private readonly MqttAlertOptions _options;
    private readonly IMqttAlertTransport _transport;
    private readonly Lock _stateLock = new();
    private readonly Dictionary<string, Dictionary<string, Alert>> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastSourceTime = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private long _reconnects;

    public MqttAlertNotifier(AlertsOptions options, IAlertOutbox outbox, TimeProvider time, ILogger<MqttAlertNotifier> logger)
        : this(options, new MqttNetTransport(options?.Mqtt ?? throw new ArgumentNullException(nameof(options))), outbox, time, logger)
    {
    }

    internal MqttAlertNotifier(AlertsOptions options, IMqttAlertTransport transport, IAlertOutbox outbox, TimeProvider time, ILogger logger)
        : base("mqtt", options.Mqtt, outbox, options.RetryScanInterval, options.MaxAlertAge, time, logger)
    {
        _options = options.Mqtt;
        _transport = transport;
    }

    /// <summary>Successful connects after the first one.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    public bool IsConnected => _transport.IsConnected;

    protected override bool IsReady => _transport.IsConnected;

    /// <summary>
    /// No per-alert backoff: the connection carries the backoff, and once the broker is back every queued
    /// alert is due at once, so they are resent in the order they were raised (a Raised before its Cleared).
    /// </summary>
    protected override TimeSpan Backoff(int attempts) => TimeSpan.Zero;

    public string EventTopic(ChannelId channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return $"{_options.TopicPrefix}/{channel.Site}/{channel.Line}/{channel.Machine}/events";
    }

    public string StateTopic(ChannelId channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return $"{_options.TopicPrefix}/{channel.Site}/{channel.Line}/{channel.Machine}/state";
    }

    /// <summary>Flood summaries go to <c>{prefix}/flood</c> (QoS 1, not retained).</summary>
    public string FloodTopic => _options.TopicPrefix + "/flood";

    public override async ValueTask NotifyFloodAsync(byte[] payload, CancellationToken cancellationToken)
    {
        if (!_transport.IsConnected)
        {
            LogStateFailed(Logger, "flood summary", "not connected");
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        await _transport.PublishAsync(FloodTopic, payload, false, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Channel health, retained: <c>{prefix}/{site}/{line}/{machine}/health/{sensor}/{axis}</c>.</summary>
    public string HealthTopic(ChannelId channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return $"{_options.TopicPrefix}/{channel.Site}/{channel.Line}/{channel.Machine}/health/{channel.Sensor}/{channel.Axis}";
    }

    public override async ValueTask NotifyChannelHealthAsync(ChannelHealthEvent healthEvent, byte[] payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(healthEvent);
        if (!_transport.IsConnected || !RoutesMachine(healthEvent.Channel))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        await _transport.PublishAsync(HealthTopic(healthEvent.Channel), payload, true, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Connects once (used at start and by the reconnect loop).</summary>
    public async Task<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_transport.IsConnected)
            {
                return true;
            }

            await _transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
            LogConnected(Logger, _options.Host, _options.Port);
            Wake();
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogConnectFailed(Logger, _options.Host, _options.Port, ex.Message);
            return false;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public override Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(base.RunAsync(cancellationToken), KeepConnectedAsync(cancellationToken));

    public ValueTask DisposeAsync()
    {
        _connectLock.Dispose();
        return _transport.DisposeAsync();
    }

    protected override async ValueTask<DeliveryOutcome> DeliverAsync(Alert alert, byte[] payload, CancellationToken cancellationToken)
    {
        if (!_transport.IsConnected)
        {
            return DeliveryOutcome.RetryLater;
        }

        var state = UpdateState(alert);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            var eventTask = _transport.PublishAsync(EventTopic(alert.Channel), payload, false, timeout.Token);
            var stateTask = _transport.PublishAsync(StateTopic(alert.Channel), state, true, timeout.Token);
            var ok = await eventTask.ConfigureAwait(false);
            try
            {
                await stateTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The event is what counts; the retained state is refreshed by the next alert of the machine.
                LogStateFailed(Logger, alert.Channel.MachineKey, ex.Message);
            }

            return ok ? DeliveryOutcome.Delivered : DeliveryOutcome.RetryLater;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryOutcome.RetryLater;
        }
    }

    private async Task KeepConnectedAsync(CancellationToken cancellationToken)
    {
        var delay = _options.ReconnectMinDelay;
        var connectedBefore = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (_transport.IsConnected)
                {
                    delay = _options.ReconnectMinDelay;
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (await TryConnectAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (connectedBefore)
                    {
                        Interlocked.Increment(ref _reconnects);
                    }

                    connectedBefore = true;
                    continue;
                }

                var jittered = delay * (0.8 + (Random.Shared.NextDouble() * 0.4));
                await Task.Delay(jittered, Time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(_options.ReconnectMaxDelay.Ticks, delay.Ticks * 2));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Updates the machine's active alerts and returns the retained state payload.</summary>
    private byte[] UpdateState(Alert alert)
    {
        var machine = alert.Channel.MachineKey;
        var channel = alert.Channel.ToString();
        var buffer = new ArrayBufferWriter<byte>(256);
        lock (_stateLock)
        {
            if (!_active.TryGetValue(machine, out var active))
            {
                active = new Dictionary<string, Alert>(StringComparer.Ordinal);
                _active[machine] = active;
            }

            // A resend of an older alert must not roll the machine's state back.
            if (!_lastSourceTime.TryGetValue(channel, out var last) || alert.SourceTime >= last)
            {
                _lastSourceTime[channel] = alert.SourceTime;
                if (alert.State == AlertState.Cleared)
                {
                    active.Remove(channel);
                }
                else
                {
                    active[channel] = alert;
                }
            }

            var worst = (AlertSeverity)0;
            foreach (var a in active.Values)
            {
                worst = a.Severity > worst ? a.Severity : worst;
            }

            using var w = new Utf8JsonWriter(buffer);
            w.WriteStartObject();
            w.WriteNumber("schema", AlertJson.SchemaVersion);
            w.WriteString("site", alert.Channel.Site);
            w.WriteString("line", alert.Channel.Line);
            w.WriteString("machine", alert.Channel.Machine);
            w.WriteString("status", worst == 0 ? "normal" : AlertJson.SeverityName(worst));
            w.WriteStartArray("activeAlerts");
            foreach (var a in active.Values)
            {
                w.WriteStartObject();
                w.WriteString("alertId", a.AlertId);
                w.WriteString("channel", a.Channel.ToString());
                w.WriteString("state", AlertJson.StateName(a.State));
                w.WriteString("severity", AlertJson.SeverityName(a.Severity));
                w.WriteString("sourceTime", a.SourceTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("updated", Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "MQTT alert notifier connected to {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Warning, Message = "MQTT alert notifier cannot connect to {Host}:{Port}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "MQTT retained state of {Machine} not published: {Reason}")]
    private static partial void LogStateFailed(ILogger logger, string machine, string reason);
}
