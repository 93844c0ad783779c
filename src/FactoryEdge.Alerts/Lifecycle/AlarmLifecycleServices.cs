using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using FactoryEdge.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace FactoryEdge.Alerts;

/// <summary>Runs <see cref="AlarmBoard.TickAsync"/> every tick interval: shelf expiry, end of suppressions, flood summaries.</summary>
internal sealed partial class AlarmLifecycleService(AlarmBoard board, AlertsOptions options, TimeProvider time, ILogger<AlarmLifecycleService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Lifecycle.TickInterval, time, stoppingToken).ConfigureAwait(false);
                await board.TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogTickFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 9408, Level = LogLevel.Error, Message = "Alarm board tick failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}

/// <summary>
/// The MQTT side of alarm management, on its own connection (client id <c>{ClientId}-commands</c>):
/// subscribes to <see cref="AlarmLifecycleOptions.CommandTopic"/> only, applies commands through
/// <see cref="AlarmCommandHandler"/>, publishes each reply to the reply topic, and keeps a retained alarm
/// state per machine on <c>{TopicPrefix}/{site}/{line}/{machine}/alarms</c> (acknowledged, shelved,
/// suppressed) — changes are coalesced and published at most every 50 ms.
/// </summary>
internal sealed partial class MqttAlarmCommandService : BackgroundService
{
    private readonly AlarmBoard _board;
    private readonly AlertsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AlarmCommandHandler _handler;
    private readonly Channel<byte[]> _replies = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(string Site, string Line, string Machine), byte> _dirty = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private MqttNetTransport? _transport;

    public MqttAlarmCommandService(AlarmBoard board, AlertsOptions options, TimeProvider time, ILogger<MqttAlarmCommandService> logger)
    {
        _board = board;
        _options = options;
        _time = time;
        _logger = logger;
        _handler = new AlarmCommandHandler(board, options.Lifecycle.CommandTopic, time);
        board.Changed += OnChanged;
    }

    /// <summary>Commands handled (accepted or refused).</summary>
    public long Commands => Interlocked.Read(ref _commands);

    private long _commands;

    public string AlarmsTopic(string site, string line, string machine) => $"{_options.Mqtt.TopicPrefix}/{site}/{line}/{machine}/alarms";

    public override void Dispose()
    {
        _board.Changed -= OnChanged;
        _signal.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var transport = new MqttNetTransport(_options.Mqtt, "-commands");
        _transport = transport;
        transport.Client.ApplicationMessageReceivedAsync += e =>
        {
            var message = e.ApplicationMessage;
            var reply = _handler.Handle(message.Topic, message.Retain, message.Payload.ToArray());
            if (reply is null)
            {
                LogIgnored(_logger, message.Topic);
            }
            else
            {
                Interlocked.Increment(ref _commands);
                _replies.Writer.TryWrite(reply);
                _signal.Release();
            }

            return Task.CompletedTask;
        };

        var delay = _options.Mqtt.ReconnectMinDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!transport.IsConnected)
                {
                    await transport.ConnectAsync(stoppingToken).ConfigureAwait(false);
                    await transport.Client.SubscribeAsync(
                        new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_options.Lifecycle.CommandTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                        stoppingToken).ConfigureAwait(false);
                    LogSubscribed(_logger, _options.Lifecycle.CommandTopic);
                    delay = _options.Mqtt.ReconnectMinDelay;
                    foreach (var view in _board.Snapshot())
                    {
                        _dirty.TryAdd((view.Channel.Site, view.Channel.Line, view.Channel.Machine), 0);
                    }
                }

                await _signal.WaitAsync(TimeSpan.FromMilliseconds(250), stoppingToken).ConfigureAwait(false);
                await PublishPendingAsync(transport, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(_logger, ex.Message);
                await Task.Delay(delay * (0.8 + (Random.Shared.NextDouble() * 0.4)), _time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(_options.Mqtt.ReconnectMaxDelay.Ticks, delay.Ticks * 2));
            }
        }
    }

    private async Task PublishPendingAsync(MqttNetTransport transport, CancellationToken cancellationToken)
    {
        if (!transport.IsConnected)
        {
            return;
        }

        while (_replies.Reader.TryPeek(out var reply))
        {
            await transport.PublishAsync(_options.Lifecycle.EffectiveReplyTopic, reply, false, cancellationToken).ConfigureAwait(false);
            _replies.Reader.TryRead(out _);
        }

        if (_dirty.IsEmpty)
        {
            return;
        }

        var snapshot = _board.Snapshot();
        var now = _time.GetUtcNow();
        foreach (var machine in _dirty.Keys.ToArray())
        {
            _dirty.TryRemove(machine, out _);
            var alarms = snapshot.Where(v => v.Channel.Site == machine.Site && v.Channel.Line == machine.Line && v.Channel.Machine == machine.Machine);
            var payload = AlarmCommandHandler.MachineAlarms(machine.Site, machine.Line, machine.Machine, alarms, now);
            await transport.PublishAsync(AlarmsTopic(machine.Site, machine.Line, machine.Machine), payload, true, cancellationToken).ConfigureAwait(false);
        }

        // Coalesce bursts of changes (a flood) into one publish per machine per 50 ms.
        await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
    }

    private void OnChanged(object? sender, AlarmView view)
    {
        if (_dirty.TryAdd((view.Channel.Site, view.Channel.Line, view.Channel.Machine), 0))
        {
            try
            {
                _signal.Release();
            }
            catch (ObjectDisposedException)
            {
                // Stopping.
            }
        }
    }

    [LoggerMessage(EventId = 9501, Level = LogLevel.Information, Message = "Alarm commands: subscribed to {Topic}")]
    private static partial void LogSubscribed(ILogger logger, string topic);

    [LoggerMessage(EventId = 9502, Level = LogLevel.Warning, Message = "Alarm commands: MQTT connection failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 9503, Level = LogLevel.Warning, Message = "Alarm commands: message on {Topic} ignored (not the command topic)")]
    private static partial void LogIgnored(ILogger logger, string topic);
}

/// <summary>Starts <see cref="MqttAlarmCommandService"/> only when MQTT and a command topic are configured.</summary>
internal sealed class MqttCommandServiceHost(IServiceProvider services) : IHostedService, IDisposable
{
    private MqttAlarmCommandService? _service;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<AlertsOptions>>().Value;
        if (!options.Mqtt.Enabled || string.IsNullOrWhiteSpace(options.Lifecycle.CommandTopic))
        {
            return Task.CompletedTask;
        }

        var loggers = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _service = new MqttAlarmCommandService(
            services.GetRequiredService<AlarmBoard>(),
            options,
            services.GetRequiredService<TimeProvider>(),
            loggers.CreateLogger<MqttAlarmCommandService>());
        return _service.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _service?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => _service?.Dispose();
}
