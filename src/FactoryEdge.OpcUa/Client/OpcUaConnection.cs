using System.Collections.Concurrent;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.Client;

/// <summary>Settings of a self-healing connection to one server.</summary>
public sealed record OpcUaConnectionOptions
{
    public required string EndpointUrl { get; init; }

    public SessionOptions Session { get; init; } = new();

    public SecureChannelOptions Channel { get; init; } = new();

    /// <summary>Makes the security layer of each new channel (SecurityPolicy None by default).</summary>
    public Func<IChannelSecurity> Security { get; init; } = static () => new NoneChannelSecurity();

    /// <summary>
    /// When set, makes the security layer of each new channel instead of <see cref="Security"/>, e.g.
    /// <see cref="SecureEndpoints.SelectAsync"/>: asks for the endpoints and checks the server's
    /// certificate on every connect (a certificate trusted meanwhile is taken without restart).
    /// </summary>
    public Func<CancellationToken, Task<IChannelSecurity>>? SecurityAsync { get; init; }

    /// <summary>The security layer for a new channel.</summary>
    public async Task<IChannelSecurity> CreateSecurityAsync(CancellationToken cancellationToken) =>
        SecurityAsync is { } create ? await create(cancellationToken).ConfigureAwait(false) : Security();

    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Cap of the reconnect backoff (with ±20 % jitter): keeps data resuming within seconds of the server's return.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Publish requests kept outstanding.</summary>
    public int PublishRequests { get; init; } = 3;

    /// <summary>Slack added to 1.5 × the keep-alive period before the watchdog declares the server stalled.</summary>
    public TimeSpan WatchdogMargin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Without subscriptions, the server's state is read this often to find out that it stalled.</summary>
    public TimeSpan KeepAliveReadInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Counters of a connection.</summary>
public sealed class OpcUaConnectionStatistics
{
    private long _connects;
    private long _reconnects;
    private long _reactivations;
    private long _newSessions;
    private long _watchdogTrips;
    private long _publishResponses;

    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Connections after the first (each one follows a failure).</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Sessions moved to a new channel with ActivateSession.</summary>
    public long Reactivations => Interlocked.Read(ref _reactivations);

    public long NewSessions => Interlocked.Read(ref _newSessions);

    /// <summary>Times the watchdog found the server silent (no publish response or keep-alive) and dropped the channel.</summary>
    public long WatchdogTrips => Interlocked.Read(ref _watchdogTrips);

    public long PublishResponses => Interlocked.Read(ref _publishResponses);

    internal void OnConnect(bool first)
    {
        Interlocked.Increment(ref _connects);
        if (!first)
        {
            Interlocked.Increment(ref _reconnects);
        }
    }

    internal void OnReactivated() => Interlocked.Increment(ref _reactivations);

    internal void OnNewSession() => Interlocked.Increment(ref _newSessions);

    internal void OnWatchdog() => Interlocked.Increment(ref _watchdogTrips);

    internal void OnPublishResponse() => Interlocked.Increment(ref _publishResponses);
}

/// <summary>
/// A connection to one OPC UA server that heals itself: it opens a channel and a session, creates
/// its subscriptions and keeps Publish requests outstanding; a watchdog drops the channel when
/// neither data nor keep-alive arrives in time (the server stalled with TCP still open); it then
/// reconnects with capped, jittered backoff, re-activates the session on the new channel (or makes a
/// new one), keeps the subscriptions (or transfers them, or recreates them), republishes missed
/// notifications the server still holds and reports every possible loss to the handlers as a gap.
/// </summary>
public sealed partial class OpcUaConnection : IAsyncDisposable
{
    private readonly OpcUaConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<OpcUaSubscription> _subscriptions = [];
    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acks = new();
    private TaskCompletionSource<UaClientSession> _ready = NewReady();
    private UaClientSession? _session;
    private long _lastPublishTimestamp;
    private bool _running;
    private bool _reactivated;

    public OpcUaConnection(OpcUaConnectionOptions options, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        EndpointUrls.Parse(options.EndpointUrl);
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public string EndpointUrl => _options.EndpointUrl;

    public OpcUaConnectionStatistics Statistics { get; } = new();

    public IReadOnlyList<OpcUaSubscription> Subscriptions => _subscriptions;

    /// <summary>True while a session is active.</summary>
    public bool IsConnected => _ready.Task.IsCompletedSuccessfully;

    /// <summary>The last failure (null while connected).</summary>
    public string? LastError { get; private set; }

    /// <summary>Adds a subscription; call before <see cref="RunAsync"/>.</summary>
    public OpcUaSubscription AddSubscription(SubscriptionSettings settings, IReadOnlyList<MonitoredItemSpec> items, ISubscriptionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(handler);
        if (_running)
        {
            throw new InvalidOperationException("Add subscriptions before the connection runs.");
        }

        var subscription = new OpcUaSubscription(settings, items, handler);
        _subscriptions.Add(subscription);
        return subscription;
    }

    /// <summary>Waits for an active session (for reads and browses between reconnects).</summary>
    public Task<UaClientSession> GetSessionAsync(CancellationToken cancellationToken) => Volatile.Read(ref _ready).Task.WaitAsync(cancellationToken);

    /// <summary>Connects and keeps the connection healthy until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _running = true;
        var delay = _options.ReconnectInitialDelay;
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            UaSecureChannel? channel = null;
            var connected = false;
            try
            {
                var security = await _options.CreateSecurityAsync(cancellationToken).ConfigureAwait(false);
                channel = await UaSecureChannel.OpenAsync(_options.EndpointUrl, security, _options.Channel, _logger, _time, cancellationToken).ConfigureAwait(false);
                var session = await OpenSessionAsync(channel, cancellationToken).ConfigureAwait(false);
                await RestoreSubscriptionsAsync(session, cancellationToken).ConfigureAwait(false);
                Statistics.OnConnect(first);
                if (!first)
                {
                    Log.Reconnected(_logger, _options.EndpointUrl, Statistics.Reconnects);
                }

                first = false;
                connected = true;
                LastError = null;
                delay = _options.ReconnectInitialDelay;
                _ready.TrySetResult(session);
                await RunSessionAsync(session, channel, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await ShutdownAsync().ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is ServiceResultException or UaDecodingException or IOException or OperationCanceledException or TimeoutException or CertificateRejectedException)
            {
                // One warning per outage; the retries while the server stays away are debug noise.
                if (connected || LastError is null)
                {
                    Log.ConnectionLost(_logger, _options.EndpointUrl, ex.Message);
                }
                else
                {
                    Log.StillDown(_logger, _options.EndpointUrl, ex.Message);
                }

                LastError = ex.Message;
            }
            finally
            {
                if (Volatile.Read(ref _ready).Task.IsCompleted)
                {
                    Volatile.Write(ref _ready, NewReady());
                }

                if (channel is not null)
                {
                    await channel.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (connected)
            {
                foreach (var subscription in _subscriptions)
                {
                    Gap(subscription, "connection lost; reconnecting");
                }
            }

            try
            {
                await Task.Delay(Jitter(delay), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
        }

        await ShutdownAsync().ConfigureAwait(false);
    }

    private static TaskCompletionSource<UaClientSession> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (0.4 * Random.Shared.NextDouble()));

    private async Task<UaClientSession> OpenSessionAsync(UaSecureChannel channel, CancellationToken cancellationToken)
    {
        _reactivated = false;
        if (_session is { IsClosed: false } existing)
        {
            try
            {
                await existing.ActivateAsync(channel, cancellationToken).ConfigureAwait(false);
                await existing.RefreshServerInfoAsync(cancellationToken).ConfigureAwait(false);
                Statistics.OnReactivated();
                _reactivated = true;
                Log.SessionReactivated(_logger, _options.EndpointUrl, existing.SessionId.ToString());
                return existing;
            }
            catch (ServiceResultException ex) when (channel.IsOpen)
            {
                Log.ReactivationFailed(_logger, _options.EndpointUrl, ex.StatusName);
            }
        }

        var session = await UaClientSession.CreateAsync(channel, _options.Session, _logger, _time, cancellationToken).ConfigureAwait(false);
        Statistics.OnNewSession();
        _session = session;
        return session;
    }

    private async Task RestoreSubscriptionsAsync(UaClientSession session, CancellationToken cancellationToken)
    {
        var reactivated = _reactivated;
        var toTransfer = new List<OpcUaSubscription>();
        foreach (var subscription in _subscriptions)
        {
            if (subscription.SubscriptionId == 0)
            {
                await CreateAsync(session, subscription, cancellationToken).ConfigureAwait(false);
            }
            else if (!reactivated)
            {
                toTransfer.Add(subscription);
            }
        }

        if (toTransfer.Count == 0)
        {
            return;
        }

        // A new session: the old subscriptions may still live on the server (a session timeout, not a restart).
        TransferResult[]? results = null;
        try
        {
            results = await session.TransferSubscriptionsAsync([.. toTransfer.Select(static s => s.SubscriptionId)], sendInitialValues: true, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceResultException ex) when (!ex.IsConnectionFailure)
        {
            Log.TransferFailed(_logger, _options.EndpointUrl, ex.StatusName);
        }

        // Acknowledgements for subscriptions of the old session are void.
        _acks.Clear();
        for (var i = 0; i < toTransfer.Count; i++)
        {
            var subscription = toTransfer[i];
            if (results is not null && i < results.Length && results[i].StatusCode.IsGood)
            {
                subscription.CountTransferred();
                Log.SubscriptionTransferred(_logger, _options.EndpointUrl, subscription.SubscriptionId);
                foreach (var sequence in results[i].AvailableSequenceNumbers.Order())
                {
                    if (sequence > subscription.LastSequenceNumber)
                    {
                        await RepublishAsync(session, subscription, sequence, cancellationToken).ConfigureAwait(false);
                    }
                }

                continue;
            }

            if (results is not null && i < results.Length)
            {
                Log.TransferRefused(_logger, _options.EndpointUrl, subscription.SubscriptionId, results[i].StatusCode.ToString());
            }

            await CreateAsync(session, subscription, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreateAsync(UaClientSession session, OpcUaSubscription subscription, CancellationToken cancellationToken)
    {
        var recreate = subscription.SubscriptionId != 0 || subscription.Notifications > 0;
        var settings = subscription.Settings;
        var response = await session.CreateSubscriptionAsync(settings.PublishingIntervalMs, Math.Max(settings.LifetimeCount, settings.MaxKeepAliveCount * 3), settings.MaxKeepAliveCount, settings.MaxNotificationsPerPublish, settings.Priority, cancellationToken).ConfigureAwait(false);
        subscription.SubscriptionId = response.SubscriptionId;
        subscription.RevisedPublishingIntervalMs = response.RevisedPublishingInterval;
        subscription.RevisedMaxKeepAliveCount = response.RevisedMaxKeepAliveCount;
        subscription.LastSequenceNumber = 0;
        var requests = new List<MonitoredItemCreateRequest>(subscription.Items.Count);
        var indexes = new List<int>(subscription.Items.Count);
        for (var i = 0; i < subscription.Items.Count; i++)
        {
            var item = subscription.Items[i];
            NodeId node;
            try
            {
                node = session.Resolve(item.Node);
            }
            catch (ServiceResultException ex)
            {
                subscription.ItemStatus[i] = new StatusCode(ex.StatusCode);
                Notify(subscription, h => h.OnItemError(i, new StatusCode(ex.StatusCode), ex.Message));
                continue;
            }

            var filter = ExtensionObject.Null;
            if (item.DeadbandType != DeadbandType.None || item.Trigger != DataChangeTrigger.StatusValue)
            {
                filter = new ExtensionObject(new DataChangeFilter { Trigger = item.Trigger, DeadbandType = (uint)item.DeadbandType, DeadbandValue = item.DeadbandValue });
            }

            requests.Add(new MonitoredItemCreateRequest
            {
                ItemToMonitor = new ReadValueId { NodeId = node, AttributeId = item.AttributeId, IndexRange = item.IndexRange },
                MonitoringMode = MonitoringMode.Reporting,
                RequestedParameters = new MonitoringParameters
                {
                    ClientHandle = (uint)i,
                    SamplingInterval = item.SamplingIntervalMs,
                    Filter = filter,
                    QueueSize = item.QueueSize,
                    DiscardOldest = item.DiscardOldest,
                },
            });
            indexes.Add(i);
        }

        var results = await session.CreateMonitoredItemsAsync(subscription.SubscriptionId, requests, settings.Timestamps, cancellationToken).ConfigureAwait(false);
        var bad = 0;
        for (var k = 0; k < results.Length; k++)
        {
            var i = indexes[k];
            subscription.ItemStatus[i] = results[k].StatusCode;
            subscription.ServerItemIds[i] = results[k].MonitoredItemId;
            if (results[k].StatusCode.IsBad)
            {
                bad++;
                var status = results[k].StatusCode;
                Notify(subscription, h => h.OnItemError(i, status, $"{subscription.Items[i].Node}: {status}"));
            }
        }

        if (recreate)
        {
            subscription.CountRecreated();
            Gap(subscription, "subscription recreated");
        }

        Log.SubscriptionCreated(_logger, _options.EndpointUrl, subscription.SubscriptionId, response.RevisedPublishingInterval, response.RevisedMaxKeepAliveCount, results.Length - bad, subscription.Items.Count);
    }

    private async Task RunSessionAsync(UaClientSession session, UaSecureChannel channel, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inbox = new PublishInbox();
        Volatile.Write(ref _lastPublishTimestamp, _time.GetTimestamp());
        var tasks = new List<Task>();
        if (_subscriptions.Count > 0)
        {
            for (var i = 0; i < Math.Max(1, _options.PublishRequests); i++)
            {
                tasks.Add(PublishLoopAsync(session, channel, inbox, stop.Token));
            }

            tasks.Add(ProcessLoopAsync(session, channel, inbox, stop.Token));
        }

        tasks.Add(WatchdogAsync(session, channel, stop.Token));
        try
        {
            var reason = await channel.Closed.WaitAsync(cancellationToken).ConfigureAwait(false);
            throw reason ?? new ServiceResultException(StatusCodes.BadSecureChannelClosed, "The channel was closed.");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            inbox.Complete();
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ServiceResultException)
            {
                // The loops end with the channel.
            }
        }
    }

    private TimeSpan WatchdogTimeout()
    {
        var longest = TimeSpan.Zero;
        foreach (var subscription in _subscriptions)
        {
            if (subscription.SubscriptionId != 0 && subscription.KeepAlivePeriod > longest)
            {
                longest = subscription.KeepAlivePeriod;
            }
        }

        return (longest * 1.5) + _options.WatchdogMargin;
    }

    private async Task PublishLoopAsync(UaClientSession session, UaSecureChannel channel, PublishInbox inbox, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && channel.IsOpen)
        {
            var acks = new List<SubscriptionAcknowledgement>();
            while (acks.Count < 1000 && _acks.TryDequeue(out var ack))
            {
                acks.Add(ack);
            }

            try
            {
                var timeout = WatchdogTimeout() + TimeSpan.FromSeconds(10);
                var response = await session.PublishAsync([.. acks], timeout, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _lastPublishTimestamp, _time.GetTimestamp());
                Statistics.OnPublishResponse();
                inbox.Post(response);
            }
            catch (ServiceResultException ex) when (ex.StatusCode == StatusCodes.BadTooManyPublishRequests)
            {
                // The server holds as many as it wants: this loop is one too many.
                return;
            }
            catch (ServiceResultException ex) when (ex.StatusCode == StatusCodes.BadNoSubscription)
            {
                Volatile.Write(ref _lastPublishTimestamp, _time.GetTimestamp());
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceResultException ex) when (ex.StatusCode is StatusCodes.BadSessionIdInvalid or StatusCodes.BadSessionClosed or StatusCodes.BadSessionNotActivated)
            {
                // The session is gone (server restarted its sessions): start over on a new channel.
                session.MarkLost();
                channel.Abort(ex);
                return;
            }
            catch (ServiceResultException ex) when (!channel.IsOpen || ex.IsConnectionFailure)
            {
                channel.Abort(ex);
                return;
            }
            catch (ServiceResultException ex)
            {
                Log.PublishFailed(_logger, _options.EndpointUrl, ex.StatusName);
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WatchdogAsync(UaClientSession session, UaSecureChannel channel, CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromMilliseconds(100);
        var lastRead = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested && channel.IsOpen)
        {
            await Task.Delay(tick, _time, cancellationToken).ConfigureAwait(false);
            if (_subscriptions.Count > 0)
            {
                var silent = _time.GetElapsedTime(Volatile.Read(ref _lastPublishTimestamp));
                var limit = WatchdogTimeout();
                if (silent > limit)
                {
                    Statistics.OnWatchdog();
                    Log.WatchdogTripped(_logger, _options.EndpointUrl, silent.TotalSeconds, limit.TotalSeconds);
                    channel.Abort(new ServiceResultException(StatusCodes.BadTimeout, $"No publish response or keep-alive for {silent.TotalSeconds:0.0} s (expected within {limit.TotalSeconds:0.0} s): server stalled."));
                    return;
                }
            }
            else if (_time.GetElapsedTime(lastRead) > _options.KeepAliveReadInterval)
            {
                lastRead = _time.GetTimestamp();
                try
                {
                    await session.ReadAsync([new ReadValueId { NodeId = new NodeId(WellKnownNodes.ServerStatusState), AttributeId = AttributeIds.Value }], TimestampsToReturn.Neither, 0, cancellationToken).ConfigureAwait(false);
                }
                catch (ServiceResultException ex)
                {
                    Statistics.OnWatchdog();
                    Log.WatchdogTripped(_logger, _options.EndpointUrl, _options.KeepAliveReadInterval.TotalSeconds, _options.KeepAliveReadInterval.TotalSeconds);
                    channel.Abort(ex);
                    return;
                }
            }
        }
    }

    private async Task ProcessLoopAsync(UaClientSession session, UaSecureChannel channel, PublishInbox inbox, CancellationToken cancellationToken)
    {
        while (true)
        {
            var response = await inbox.TakeAsync(_time, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                return;
            }

            try
            {
                await ProcessAsync(session, response, cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceResultException ex) when (!channel.IsOpen || ex.IsConnectionFailure)
            {
                channel.Abort(ex);
                return;
            }
            catch (ServiceResultException ex)
            {
                Log.PublishFailed(_logger, _options.EndpointUrl, ex.StatusName);
            }
        }
    }

    private async Task ProcessAsync(UaClientSession session, PublishResponse response, CancellationToken cancellationToken)
    {
        var subscription = _subscriptions.Find(s => s.SubscriptionId == response.SubscriptionId && s.SubscriptionId != 0);
        if (subscription is null)
        {
            return;
        }

        var message = response.NotificationMessage;
        var sequence = message.SequenceNumber;
        if (message.NotificationData.Length == 0)
        {
            // A keep-alive carries the next sequence number: anything before it that we lack was missed.
            subscription.CountKeepAlive();
            if (subscription.LastSequenceNumber != 0 && sequence > subscription.LastSequenceNumber + 1)
            {
                await RecoverAsync(session, subscription, subscription.LastSequenceNumber + 1, sequence - 1, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (subscription.LastSequenceNumber != 0 && sequence <= subscription.LastSequenceNumber)
        {
            // Already delivered (through Republish).
            return;
        }

        if (subscription.LastSequenceNumber != 0 && sequence > subscription.LastSequenceNumber + 1)
        {
            await RecoverAsync(session, subscription, subscription.LastSequenceNumber + 1, sequence - 1, cancellationToken).ConfigureAwait(false);
        }

        await DeliverAsync(session, subscription, message, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecoverAsync(UaClientSession session, OpcUaSubscription subscription, uint from, uint to, CancellationToken cancellationToken)
    {
        const uint MaxRepublish = 64;
        long lost = 0;
        if (to - from + 1 > MaxRepublish)
        {
            lost += to - from + 1 - MaxRepublish;
            from = to - MaxRepublish + 1;
        }

        for (var sequence = from; sequence <= to && sequence != 0; sequence++)
        {
            if (!await RepublishAsync(session, subscription, sequence, cancellationToken).ConfigureAwait(false))
            {
                lost++;
            }
        }

        if (lost > 0)
        {
            subscription.CountLost(lost);
            subscription.LastSequenceNumber = Math.Max(subscription.LastSequenceNumber, to);
            Gap(subscription, $"{lost} notification message(s) lost (no longer available on the server)");
        }
    }

    private async Task<bool> RepublishAsync(UaClientSession session, OpcUaSubscription subscription, uint sequence, CancellationToken cancellationToken)
    {
        try
        {
            var message = await session.RepublishAsync(subscription.SubscriptionId, sequence, cancellationToken).ConfigureAwait(false);
            subscription.CountRepublished();
            await DeliverAsync(session, subscription, message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ServiceResultException ex) when (ex.StatusCode is StatusCodes.BadMessageNotAvailable or StatusCodes.BadSequenceNumberUnknown or StatusCodes.BadSubscriptionIdInvalid)
        {
            return false;
        }
    }

    private async Task DeliverAsync(UaClientSession session, OpcUaSubscription subscription, NotificationMessage message, CancellationToken cancellationToken)
    {
        var recreate = false;
        foreach (var data in message.NotificationData)
        {
            switch (data.Body)
            {
                case DataChangeNotification change:
                    subscription.CountNotification(change.MonitoredItems.Length);
                    DeliverChanges(subscription, change.MonitoredItems);
                    break;
                case StatusChangeNotification status when status.Status.IsBad:
                    // The server ended the subscription (e.g. its lifetime expired): make a new one.
                    Log.SubscriptionEnded(_logger, _options.EndpointUrl, subscription.SubscriptionId, status.Status.ToString());
                    recreate = true;
                    break;
            }
        }

        if (message.SequenceNumber > subscription.LastSequenceNumber)
        {
            subscription.LastSequenceNumber = message.SequenceNumber;
        }

        _acks.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = subscription.SubscriptionId, SequenceNumber = message.SequenceNumber });
        if (recreate)
        {
            subscription.SubscriptionId = 0;
            await CreateAsync(session, subscription, cancellationToken).ConfigureAwait(false);
        }
    }

    private void DeliverChanges(OpcUaSubscription subscription, MonitoredItemNotification[] items)
    {
        var handler = subscription.Handler;
        var count = (uint)subscription.Items.Count;
        foreach (var item in items)
        {
            if (item.ClientHandle >= count)
            {
                continue;
            }

            try
            {
                handler.OnDataChange((int)item.ClientHandle, item.Value);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.HandlerFailed(_logger, _options.EndpointUrl, ex);
            }
        }
    }

    private void Gap(OpcUaSubscription subscription, string reason)
    {
        subscription.CountGap();
        Notify(subscription, h => h.OnGap(reason));
    }

    private void Notify(OpcUaSubscription subscription, Action<ISubscriptionHandler> action)
    {
        try
        {
            action(subscription.Handler);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.HandlerFailed(_logger, _options.EndpointUrl, ex);
        }
    }

    private async Task ShutdownAsync()
    {
        var session = _session;
        _session = null;
        if (session is null || !session.Channel.IsOpen)
        {
            return;
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            var ids = _subscriptions.Where(static s => s.SubscriptionId != 0).Select(static s => s.SubscriptionId).ToArray();
            if (ids.Length > 0)
            {
                await session.DeleteSubscriptionsAsync(ids, cts.Token).ConfigureAwait(false);
            }

            await session.CloseAsync(true, cts.Token).ConfigureAwait(false);
            await session.Channel.CloseAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceResultException or OperationCanceledException)
        {
            // Closing anyway.
        }

        await session.Channel.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Publish responses, handed to the processing loop in the order the channel received them.</summary>
    private sealed class PublishInbox
    {
        private readonly SortedDictionary<long, PublishResponse> _waiting = [];
        private readonly SemaphoreSlim _signal = new(0);
        private long _next = 1;
        private bool _completed;

        public void Post(PublishResponse response)
        {
            lock (_waiting)
            {
                _waiting[response.Arrival] = response;
            }

            _signal.Release();
        }

        public void Complete()
        {
            lock (_waiting)
            {
                _completed = true;
            }

            _signal.Release();
        }

        public async Task<PublishResponse?> TakeAsync(TimeProvider time, CancellationToken cancellationToken)
        {
            while (true)
            {
                lock (_waiting)
                {
                    if (_completed)
                    {
                        return null;
                    }

                    if (_waiting.Remove(_next, out var response))
                    {
                        _next++;
                        return response;
                    }
                }

                // Wait for the next in order; if it never comes (its caller failed), move on to the oldest waiting.
                if (!await _signal.WaitAsync(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false))
                {
                    lock (_waiting)
                    {
                        if (_waiting.Count > 0)
                        {
                            _next = _waiting.Keys.First();
                        }
                    }
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "OPC UA {Endpoint}: connection lost: {Error}")]
        public static partial void ConnectionLost(ILogger logger, string endpoint, string error);

        [LoggerMessage(EventId = 4032, Level = LogLevel.Debug, Message = "OPC UA {Endpoint}: still unreachable: {Error}")]
        public static partial void StillDown(ILogger logger, string endpoint, string error);

        [LoggerMessage(EventId = 4021, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: reconnected (reconnect {Count})")]
        public static partial void Reconnected(ILogger logger, string endpoint, long count);

        [LoggerMessage(EventId = 4022, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: session {SessionId} re-activated on a new channel")]
        public static partial void SessionReactivated(ILogger logger, string endpoint, string sessionId);

        [LoggerMessage(EventId = 4023, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: session could not be re-activated ({Status}); creating a new one")]
        public static partial void ReactivationFailed(ILogger logger, string endpoint, string status);

        [LoggerMessage(EventId = 4024, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: TransferSubscriptions failed ({Status}); recreating the subscriptions")]
        public static partial void TransferFailed(ILogger logger, string endpoint, string status);

        [LoggerMessage(EventId = 4025, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: subscription {SubscriptionId} transferred to the new session")]
        public static partial void SubscriptionTransferred(ILogger logger, string endpoint, uint subscriptionId);

        [LoggerMessage(EventId = 4026, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: subscription {SubscriptionId} could not be transferred ({Status}); recreating it")]
        public static partial void TransferRefused(ILogger logger, string endpoint, uint subscriptionId, string status);

        [LoggerMessage(EventId = 4027, Level = LogLevel.Information, Message = "OPC UA {Endpoint}: subscription {SubscriptionId} created (publishing {Interval} ms, keep-alive count {KeepAlive}), {Good} of {Items} items monitored")]
        public static partial void SubscriptionCreated(ILogger logger, string endpoint, uint subscriptionId, double interval, uint keepAlive, int good, int items);

        [LoggerMessage(EventId = 4028, Level = LogLevel.Warning, Message = "OPC UA {Endpoint}: no publish response or keep-alive for {Silent:0.0} s (limit {Limit:0.0} s): the server stalled; reconnecting")]
        public static partial void WatchdogTripped(ILogger logger, string endpoint, double silent, double limit);

        [LoggerMessage(EventId = 4029, Level = LogLevel.Warning, Message = "OPC UA {Endpoint}: Publish failed: {Status}")]
        public static partial void PublishFailed(ILogger logger, string endpoint, string status);

        [LoggerMessage(EventId = 4030, Level = LogLevel.Warning, Message = "OPC UA {Endpoint}: subscription {SubscriptionId} ended by the server ({Status}); recreating it")]
        public static partial void SubscriptionEnded(ILogger logger, string endpoint, uint subscriptionId, string status);

        [LoggerMessage(EventId = 4031, Level = LogLevel.Error, Message = "OPC UA {Endpoint}: a subscription handler failed")]
        public static partial void HandlerFailed(ILogger logger, string endpoint, Exception exception);
    }
}
