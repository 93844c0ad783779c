using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.Server;

/// <summary>Counters of a running <see cref="UaServer"/>.</summary>
public readonly record struct UaServerStatistics(long Connections, long Requests, long ServiceFaults, long PublishResponses, long NotificationMessages, int ActiveConnections, int Sessions, int Subscriptions);

/// <summary>
/// The server side of our OPC UA stack (OPC 10000-4/-6) over UA-TCP: Hello/Acknowledge, secure
/// channels (SecurityPolicy None, and whatever <see cref="UaServerOptions.Endpoints"/> adds),
/// GetEndpoints, anonymous sessions, Read (with IndexRange), Browse/BrowseNext,
/// TranslateBrowsePathsToNodeIds, subscriptions with data-change notifications, keep-alives,
/// Republish, TransferSubscriptions, DeleteMonitoredItems/DeleteSubscriptions, CloseSession and
/// CloseSecureChannel. Every other service is answered with BadServiceUnsupported. The nodes are
/// an <see cref="AddressSpace"/> the application fills and updates.
/// </summary>
public sealed partial class UaServer : IAsyncDisposable
{
    /// <summary>BadSecurityModeRejected (OPC 10000-4 §7.34).</summary>
    public const uint BadSecurityModeRejected = 0x80540000;

    /// <summary>BadTooManyMonitoredItems.</summary>
    private const uint BadTooManyMonitoredItems = 0x80DB0000;

    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ServerConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<NodeId, ServerSession> _sessions = new();
    private readonly ConcurrentDictionary<uint, ServerSubscription> _subscriptions = new();
    private readonly Lock _lifecycle = new();
    private CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task _accept = Task.CompletedTask;
    private Task _housekeeping = Task.CompletedTask;
    private int _nextChannelId;
    private int _nextSessionId;
    private int _nextSubscriptionId;
    private int _nextMonitoredItemId;
    private long _connectionCount;
    private long _requests;
    private long _faults;
    private long _publishResponses;
    private int _disposed;

    public UaServer(UaServerOptions options, AddressSpace? addressSpace = null, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one endpoint (security policy and mode) is needed.", nameof(options));
        }

        Options = options;
        Time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        AddressSpace = addressSpace ?? new AddressSpace(options.ApplicationUri, Time);
        var now = Time.GetUtcNow().UtcDateTime;
        AddressSpace.MaxNodesPerRead.SetValue(new Variant(options.MaxNodesPerRead), now);
        AddressSpace.MaxNodesPerBrowse.SetValue(new Variant(options.MaxNodesPerBrowse), now);
        AddressSpace.MaxNodesPerTranslate.SetValue(new Variant(options.MaxNodesPerBrowse), now);
        AddressSpace.MaxMonitoredItemsPerCall.SetValue(new Variant(options.MaxMonitoredItemsPerCall), now);
    }

    public UaServerOptions Options { get; }

    public AddressSpace AddressSpace { get; }

    public UaServerFaults Faults { get; } = new();

    public TimeProvider Time { get; }

    /// <summary>The port listened on (after <see cref="Start"/>; the kernel's choice for port 0).</summary>
    public int Port { get; private set; }

    public string EndpointUrl => Options.EndpointUrl(Port);

    public int ActiveConnections => _connections.Count;

    public UaServerStatistics Statistics => new(
        Interlocked.Read(ref _connectionCount),
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _faults),
        Interlocked.Read(ref _publishResponses),
        _subscriptions.Values.Sum(static s => s.NotificationMessagesSent),
        _connections.Count,
        _sessions.Count,
        _subscriptions.Count);

    /// <summary>Starts listening; returns the port. Throws <see cref="SocketException"/> when it cannot bind.</summary>
    public int Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            if (_listener is not null)
            {
                return Port;
            }

            var listener = new TcpListener(Options.Address, Port != 0 ? Port : Options.Port);
            if (Options.Address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                listener.Server.DualMode = Options.Address.Equals(IPAddress.IPv6Any);
            }

            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start(64);
            _listener = listener;
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            AddressSpace.State.SetValue(new Variant(0), Time.GetUtcNow().UtcDateTime);
            var stop = _stop.Token;
            _accept = Task.Run(() => AcceptAsync(listener, stop), CancellationToken.None);
            _housekeeping = Task.Run(() => HousekeepingAsync(stop), CancellationToken.None);
            Log.Listening(_logger, EndpointUrl, string.Join(", ", Options.Endpoints.Select(static e => $"{ShortPolicy(e.PolicyUri)}/{e.Mode}")));
            return Port;
        }
    }

    /// <summary>Closes every open connection now (sessions survive and can be re-activated). Returns how many.</summary>
    public int CloseAllConnections()
    {
        var count = 0;
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
            count++;
        }

        return count;
    }

    /// <summary>
    /// A server restart as clients see it: stops listening, closes every connection, forgets every
    /// session and subscription, waits <paramref name="downtime"/>, then listens again on the same port.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken)
    {
        await StopListeningAsync().ConfigureAwait(false);
        Log.Restarting(_logger, downtime.TotalSeconds);
        await Task.Delay(downtime, Time, cancellationToken).ConfigureAwait(false);
        Start();
    }

    private async Task StopListeningAsync()
    {
        TcpListener? listener;
        Task accept;
        Task housekeeping;
        lock (_lifecycle)
        {
            listener = _listener;
            _listener = null;
            accept = _accept;
            housekeeping = _housekeeping;
            _stop.Cancel();
            _stop.Dispose();
            _stop = new CancellationTokenSource();
        }

        listener?.Stop();
        CloseAllConnections();
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Stop.Cancel();
        }

        _subscriptions.Clear();
        _sessions.Clear();
        try
        {
            await Task.WhenAll(accept, housekeeping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopListeningAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            if (_connections.Count >= Options.MaxConnections)
            {
                Log.TooManyConnections(_logger, socket.RemoteEndPoint?.ToString() ?? "?", Options.MaxConnections);
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            Interlocked.Increment(ref _connectionCount);
            var connection = new ServerConnection(this, socket, stop);
            _connections[connection] = 0;
            Log.Connected(_logger, connection.RemoteEndPoint);
            _ = Task.Run(connection.RunAsync, CancellationToken.None);
        }
    }

    private async Task HousekeepingAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Time.GetTimestamp();
                foreach (var session in _sessions.Values)
                {
                    if (Time.GetElapsedTime(session.LastActivity, now).TotalMilliseconds > session.TimeoutMs)
                    {
                        Log.SessionTimedOut(_logger, session.SessionId.ToString(), session.TimeoutMs / 1000);
                        CloseSession(session);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal uint NextChannelId() => (uint)Interlocked.Increment(ref _nextChannelId);

    internal ServerSecurityEndpoint? FindEndpoint(string? policyUri, MessageSecurityMode? mode = null)
    {
        foreach (var endpoint in Options.Endpoints)
        {
            if (string.Equals(endpoint.PolicyUri, policyUri, StringComparison.Ordinal) && (mode is null || endpoint.Mode == mode))
            {
                return endpoint;
            }
        }

        return null;
    }

    internal void OnChannelOpened(ServerConnection connection) =>
        Log.ChannelOpened(_logger, connection.ChannelId, connection.RemoteEndPoint, ShortPolicy(connection.Security?.SecurityPolicyUri), connection.Security?.SecurityMode.ToString() ?? "?");

    internal void OnChannelClosed(ServerConnection connection, bool graceful) => Log.ChannelClosed(_logger, connection.ChannelId, graceful);

    internal void OnConnectionError(ServerConnection connection, string reason) => Log.ConnectionError(_logger, connection.RemoteEndPoint, reason);

    internal void OnUnsupported(ServerConnection connection, string typeId) => Log.Unsupported(_logger, typeId, connection.RemoteEndPoint);

    internal void OnConnectionGone(ServerConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>Answers one request (Publish is parked and answered by a subscription later).</summary>
    internal async Task DispatchAsync(ServerConnection connection, IServiceRequest request, uint requestId, uint tokenId)
    {
        Interlocked.Increment(ref _requests);
        IServiceResponse? response;
        try
        {
            if (connection.DiscoveryOnly && request is not GetEndpointsRequest)
            {
                throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, "This server offers no SecurityPolicy None endpoint: a None channel may only ask for the endpoints.");
            }

            response = request switch
            {
                GetEndpointsRequest r => GetEndpoints(r),
                CreateSessionRequest r => CreateSession(connection, r),
                ActivateSessionRequest r => ActivateSession(connection, r),
                CloseSessionRequest r => CloseSession(connection, r),
                _ => HandleSessionRequest(connection, request, requestId, tokenId),
            };
        }
        catch (ServiceResultException ex)
        {
            Interlocked.Increment(ref _faults);
            Log.ServiceFault(_logger, request.GetType().Name, ex.StatusName, ex.Message);
            response = new ServiceFault();
            response.ResponseHeader.ServiceResult = ex.StatusCode;
        }

        if (response is null)
        {
            return;
        }

        response.ResponseHeader.RequestHandle = request.RequestHeader.RequestHandle;
        response.ResponseHeader.Timestamp = Time.GetUtcNow().UtcDateTime;
        await SendAsync(new Outgoing(connection, requestId, tokenId, response)).ConfigureAwait(false);
    }

    private async Task SendAsync(Outgoing outgoing)
    {
        var delay = Faults.NextDelay();
        if (delay > TimeSpan.Zero)
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(delay, Time, CancellationToken.None).ConfigureAwait(false);
                await outgoing.Connection.SendResponseAsync(outgoing.Response, outgoing.RequestId, outgoing.TokenId).ConfigureAwait(false);
            });
            return;
        }

        await outgoing.Connection.SendResponseAsync(outgoing.Response, outgoing.RequestId, outgoing.TokenId).ConfigureAwait(false);
    }

    private async Task SendAllAsync(List<Outgoing> outgoing)
    {
        foreach (var item in outgoing)
        {
            if (item.Response is PublishResponse)
            {
                Interlocked.Increment(ref _publishResponses);
            }

            await SendAsync(item).ConfigureAwait(false);
        }
    }

    private IServiceResponse? HandleSessionRequest(ServerConnection connection, IServiceRequest request, uint requestId, uint tokenId)
    {
        var session = FindSession(connection, request.RequestHeader.AuthenticationToken, requireActivated: true);
        return request switch
        {
            ReadRequest r => Read(r),
            BrowseRequest r => Browse(session, r),
            BrowseNextRequest r => BrowseNext(session, r),
            TranslateBrowsePathsToNodeIdsRequest r => Translate(r),
            CreateSubscriptionRequest r => CreateSubscription(session, r),
            CreateMonitoredItemsRequest r => CreateMonitoredItems(session, r),
            DeleteMonitoredItemsRequest r => DeleteMonitoredItems(session, r),
            PublishRequest r => Publish(session, connection, r, requestId, tokenId),
            RepublishRequest r => Republish(session, r),
            DeleteSubscriptionsRequest r => DeleteSubscriptions(session, r),
            TransferSubscriptionsRequest r => TransferSubscriptions(session, r),
            _ => throw new ServiceResultException(StatusCodes.BadServiceUnsupported, $"{request.GetType().Name} is not supported by this server."),
        };
    }

    private ServerSession FindSession(ServerConnection connection, NodeId token, bool requireActivated)
    {
        if (token is null || token.IsNull || !_sessions.TryGetValue(token, out var session) || session.Closed)
        {
            throw new ServiceResultException(StatusCodes.BadSessionIdInvalid, "No session with that authentication token.");
        }

        if (requireActivated && !session.Activated)
        {
            throw new ServiceResultException(StatusCodes.BadSessionNotActivated, "The session is not activated.");
        }

        if (requireActivated && session.Connection != connection)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "The session is activated on another secure channel.");
        }

        session.LastActivity = Time.GetTimestamp();
        return session;
    }

    /// <summary>The name after the # of a policy URI (None, Basic256Sha256).</summary>
    public static string ShortPolicy(string? uri) => uri is null ? "?" : uri[(uri.LastIndexOf('#') + 1)..];

    private EndpointDescription[] Endpoints(string? requestedUrl)
    {
        var url = EndpointUrl;
        return [.. Options.Endpoints.Select(e => new EndpointDescription
        {
            EndpointUrl = url,
            Server = new ApplicationDescription
            {
                ApplicationUri = Options.ApplicationUri,
                ProductUri = Options.ProductUri,
                ApplicationName = new LocalizedText(null, Options.ApplicationName),
                ApplicationType = ApplicationType.Server,
                DiscoveryUrls = [url],
            },
            ServerCertificate = e.Mode == MessageSecurityMode.None ? null : Options.Certificate,
            SecurityMode = e.Mode,
            SecurityPolicyUri = e.PolicyUri,
            UserIdentityTokens = [new UserTokenPolicy { PolicyId = "anonymous", TokenType = UserTokenType.Anonymous }],
            TransportProfileUri = TransportProfileUris.UaTcp,
            SecurityLevel = e.SecurityLevel,
        })];
    }

    private GetEndpointsResponse GetEndpoints(GetEndpointsRequest request)
    {
        var uaTcp = request.ProfileUris.Length == 0 || request.ProfileUris.Contains(TransportProfileUris.UaTcp, StringComparer.Ordinal);
        return new GetEndpointsResponse { Endpoints = uaTcp ? Endpoints(request.EndpointUrl) : [] };
    }

    private CreateSessionResponse CreateSession(ServerConnection connection, CreateSessionRequest request)
    {
        if (_sessions.Count >= Options.MaxSessions)
        {
            throw new ServiceResultException(StatusCodes.BadTooManySessions, $"The server serves at most {Options.MaxSessions} sessions.");
        }

        var security = connection.Security!;
        if (security.SecurityMode != MessageSecurityMode.None && request.ClientNonce is not { Length: >= 32 })
        {
            throw new ServiceResultException(StatusCodes.BadNonceInvalid, "A secure session needs a client nonce of at least 32 bytes.");
        }

        var timeout = Math.Clamp(request.RequestedSessionTimeout <= 0 ? Options.MaxSessionTimeoutMs : request.RequestedSessionTimeout, Options.MinSessionTimeoutMs, Options.MaxSessionTimeoutMs);
        var id = (uint)Interlocked.Increment(ref _nextSessionId);
        var session = new ServerSession(new NodeId(id, 1), new NodeId(RandomNumberGenerator.GetBytes(32), 0), request.SessionName, timeout, connection, Time.GetTimestamp())
        {
            ServerNonce = RandomNumberGenerator.GetBytes(32),
            ClientCertificate = request.ClientCertificate,
        };
        _sessions[session.AuthenticationToken] = session;
        var signature = new SignatureData();
        if (security.SecurityMode != MessageSecurityMode.None && Options.SignSession is { } sign && request.ClientCertificate is { Length: > 0 } certificate)
        {
            signature = sign(security.SecurityPolicyUri, certificate, request.ClientNonce!);
        }

        Log.SessionCreated(_logger, session.SessionId.ToString(), session.Name, connection.RemoteEndPoint, timeout / 1000);
        return new CreateSessionResponse
        {
            SessionId = session.SessionId,
            AuthenticationToken = session.AuthenticationToken,
            RevisedSessionTimeout = timeout,
            ServerNonce = session.ServerNonce,
            ServerCertificate = security.SecurityMode == MessageSecurityMode.None ? null : Options.Certificate,
            ServerEndpoints = Endpoints(request.EndpointUrl),
            ServerSignature = signature,
            MaxRequestMessageSize = (uint)Options.Limits.MaxMessageSize,
        };
    }

    private ActivateSessionResponse ActivateSession(ServerConnection connection, ActivateSessionRequest request)
    {
        var session = FindSession(connection, request.RequestHeader.AuthenticationToken, requireActivated: false);
        var token = request.UserIdentityToken;
        if (!token.IsNull && token.Body is not AnonymousIdentityToken)
        {
            var kind = token.Body?.GetType().Name ?? token.TypeId.ToString();
            throw new ServiceResultException(StatusCodes.BadIdentityTokenRejected, $"Only anonymous sessions are allowed ({kind} given).");
        }

        if (token.Body is AnonymousIdentityToken anonymous && anonymous.PolicyId is { Length: > 0 } policy && policy != "anonymous")
        {
            throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid, $"Unknown user token policy '{policy}'.");
        }

        var security = connection.Security!;
        if (security.SecurityMode != MessageSecurityMode.None && Options.VerifyClientSignature is { } verify
            && !verify(security.SecurityPolicyUri, session.ClientCertificate ?? [], request.ClientSignature, session.ServerNonce))
        {
            throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid, "The client signature does not verify (client certificate and server nonce).");
        }

        lock (session.Gate)
        {
            if (session.Connection != connection)
            {
                // Moved to a new channel (after a reconnect): Publish requests parked on the old one are void.
                session.Connection = connection;
                session.Publishes.Clear();
            }

            session.Activated = true;
            session.ServerNonce = RandomNumberGenerator.GetBytes(32);
        }

        return new ActivateSessionResponse { ServerNonce = session.ServerNonce, Results = [] };
    }

    private CloseSessionResponse CloseSession(ServerConnection connection, CloseSessionRequest request)
    {
        var session = FindSession(connection, request.RequestHeader.AuthenticationToken, requireActivated: false);
        CloseSession(session);
        return new CloseSessionResponse();
    }

    private void CloseSession(ServerSession session)
    {
        List<Outgoing> outgoing = [];
        lock (session.Gate)
        {
            session.Closed = true;
            // Subscriptions never outlive their session here (DeleteSubscriptions = false is treated as true).
            foreach (var subscription in session.Subscriptions.Values)
            {
                RemoveSubscription(subscription);
            }

            session.Subscriptions.Clear();
            var now = Time.GetUtcNow().UtcDateTime;
            while (session.TryTakePublish(out var pending))
            {
                var fault = new ServiceFault();
                fault.ResponseHeader.RequestHandle = pending.Request.RequestHeader.RequestHandle;
                fault.ResponseHeader.ServiceResult = StatusCodes.BadSessionClosed;
                fault.ResponseHeader.Timestamp = now;
                outgoing.Add(new Outgoing(pending.Connection, pending.RequestId, pending.TokenId, fault));
            }
        }

        _sessions.TryRemove(session.AuthenticationToken, out _);
        _ = SendAllAsync(outgoing);
        Log.SessionClosed(_logger, session.SessionId.ToString());
    }

    private void RemoveSubscription(ServerSubscription subscription)
    {
        subscription.Stop.Cancel();
        _subscriptions.TryRemove(subscription.Id, out _);
        foreach (var item in subscription.Items.Values)
        {
            item.Variable?.Unsubscribe(item.OnChange);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4500, Level = LogLevel.Information, Message = "OPC UA server listening on {Endpoint} ({Policies})")]
        public static partial void Listening(ILogger logger, string endpoint, string policies);

        [LoggerMessage(EventId = 4501, Level = LogLevel.Debug, Message = "OPC UA server: connection from {Remote}")]
        public static partial void Connected(ILogger logger, string remote);

        [LoggerMessage(EventId = 4502, Level = LogLevel.Warning, Message = "OPC UA server: refused {Remote}, {Max} connections open")]
        public static partial void TooManyConnections(ILogger logger, string remote, int max);

        [LoggerMessage(EventId = 4503, Level = LogLevel.Debug, Message = "OPC UA server: channel {ChannelId} opened from {Remote} ({Policy}, {Mode})")]
        public static partial void ChannelOpened(ILogger logger, uint channelId, string remote, string policy, string mode);

        [LoggerMessage(EventId = 4504, Level = LogLevel.Debug, Message = "OPC UA server: channel {ChannelId} closed (by the client: {Graceful})")]
        public static partial void ChannelClosed(ILogger logger, uint channelId, bool graceful);

        [LoggerMessage(EventId = 4505, Level = LogLevel.Information, Message = "OPC UA server: connection {Remote} closed: {Reason}")]
        public static partial void ConnectionError(ILogger logger, string remote, string reason);

        [LoggerMessage(EventId = 4506, Level = LogLevel.Information, Message = "OPC UA server: unsupported service {TypeId} from {Remote}")]
        public static partial void Unsupported(ILogger logger, string typeId, string remote);

        [LoggerMessage(EventId = 4507, Level = LogLevel.Debug, Message = "OPC UA server: {Service} failed: {Status} {Reason}")]
        public static partial void ServiceFault(ILogger logger, string service, string status, string reason);

        [LoggerMessage(EventId = 4510, Level = LogLevel.Information, Message = "OPC UA server: session {SessionId} '{Name}' from {Remote}, timeout {Timeout} s")]
        public static partial void SessionCreated(ILogger logger, string sessionId, string name, string remote, double timeout);

        [LoggerMessage(EventId = 4511, Level = LogLevel.Debug, Message = "OPC UA server: session {SessionId} closed")]
        public static partial void SessionClosed(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 4512, Level = LogLevel.Information, Message = "OPC UA server: session {SessionId} timed out after {Timeout} s without requests")]
        public static partial void SessionTimedOut(ILogger logger, string sessionId, double timeout);

        [LoggerMessage(EventId = 4513, Level = LogLevel.Information, Message = "OPC UA server: subscription {SubscriptionId} expired (no Publish requests)")]
        public static partial void SubscriptionExpired(ILogger logger, uint subscriptionId);

        [LoggerMessage(EventId = 4515, Level = LogLevel.Error, Message = "OPC UA server: subscription {SubscriptionId} failed")]
        public static partial void SubscriptionFailed(ILogger logger, uint subscriptionId, Exception exception);

        [LoggerMessage(EventId = 4514, Level = LogLevel.Warning, Message = "OPC UA server: restarting, back in {Seconds} s")]
        public static partial void Restarting(ILogger logger, double seconds);
    }
}
