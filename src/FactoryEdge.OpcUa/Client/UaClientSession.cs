using System.Security.Cryptography;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.Client;

/// <summary>Settings of a client session.</summary>
public sealed record SessionOptions
{
    public string ApplicationName { get; init; } = "FactoryEdge";

    public string ApplicationUri { get; init; } = "urn:factoryedge:gateway";

    public string ProductUri { get; init; } = "urn:factoryedge";

    public string SessionName { get; init; } = "FactoryEdge";

    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public UserIdentity Identity { get; init; } = UserIdentity.Anonymous;

    /// <summary>Request timeout for the session's services (Publish has its own).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Our cap on operations per call when the server gives no limit (0).</summary>
    public int DefaultOperationLimit { get; init; } = 2500;
}

/// <summary>The server's OperationLimits (OPC 10000-5 §6.3.11), 0 where it gives none.</summary>
public sealed record OperationLimits
{
    public uint MaxNodesPerRead { get; init; }

    public uint MaxNodesPerBrowse { get; init; }

    public uint MaxNodesPerTranslateBrowsePathsToNodeIds { get; init; }

    public uint MaxMonitoredItemsPerCall { get; init; }

    /// <summary>The batch size to use: the server's limit, or ours when it has none.</summary>
    public static int Batch(uint serverLimit, int fallback) => serverLimit == 0 ? fallback : (int)Math.Min(serverLimit, int.MaxValue);
}

/// <summary>
/// A session on a secure channel (OPC 10000-4 §5.6): CreateSession, ActivateSession (also on a new
/// channel, after a reconnect), CloseSession; the services the gateway uses, each split into
/// calls that respect the server's OperationLimits; and the NamespaceArray that turns
/// <c>nsu=URI;...</c> node ids into the indexes of this server run.
/// </summary>
public sealed partial class UaClientSession : IAsyncDisposable
{
    private readonly SessionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _endpointUrl;
    private UaSecureChannel _channel;
    private byte[]? _serverNonce;
    private byte[]? _serverCertificate;
    private UserTokenPolicy[] _tokenPolicies = [];

    private UaClientSession(UaSecureChannel channel, string endpointUrl, SessionOptions options, TimeProvider time, ILogger logger)
    {
        _channel = channel;
        _endpointUrl = endpointUrl;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public UaSecureChannel Channel => Volatile.Read(ref _channel);

    public NodeId SessionId { get; private set; } = NodeId.Null;

    public NodeId AuthenticationToken { get; private set; } = NodeId.Null;

    public TimeSpan RevisedSessionTimeout { get; private set; }

    public IReadOnlyList<string> NamespaceUris { get; private set; } = [];

    public OperationLimits Limits { get; private set; } = new();

    /// <summary>The endpoints the server returned in CreateSession.</summary>
    public IReadOnlyList<EndpointDescription> ServerEndpoints { get; private set; } = [];

    public SessionOptions Options => _options;

    public bool IsClosed { get; private set; }

    /// <summary>The server no longer knows the session (it restarted): a reconnect makes a new one.</summary>
    internal void MarkLost() => IsClosed = true;

    /// <summary>Asks a server for its endpoints over a channel (before any session).</summary>
    public static async Task<EndpointDescription[]> GetEndpointsAsync(UaSecureChannel channel, string endpointUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var response = await channel.SendRequestAsync<GetEndpointsResponse>(
            new GetEndpointsRequest { EndpointUrl = endpointUrl, ProfileUris = [TransportProfileUris.UaTcp] }, timeout, cancellationToken).ConfigureAwait(false);
        return response.Endpoints;
    }

    /// <summary>Creates and activates a session on an open channel, then reads the NamespaceArray and OperationLimits.</summary>
    public static async Task<UaClientSession> CreateAsync(UaSecureChannel channel, SessionOptions? options = null, ILogger? logger = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        options ??= new SessionOptions();
        var session = new UaClientSession(channel, channel.EndpointUrl, options, time ?? TimeProvider.System, logger ?? NullLogger.Instance);
        var secure = channel.Security as PolicyChannelSecurity;
        var clientNonce = RandomNumberGenerator.GetBytes(32);
        var request = new CreateSessionRequest
        {
            ClientDescription = new ApplicationDescription
            {
                // A secure session names the URI in our certificate (servers check they match).
                ApplicationUri = secure is null ? options.ApplicationUri : ApplicationCertificates.ApplicationUri(secure.Certificate) ?? options.ApplicationUri,
                ProductUri = options.ProductUri,
                ApplicationName = new LocalizedText(null, options.ApplicationName),
                ApplicationType = ApplicationType.Client,
            },
            EndpointUrl = channel.EndpointUrl,
            SessionName = options.SessionName,
            ClientNonce = clientNonce,
            ClientCertificate = secure?.LocalCertificate,
            RequestedSessionTimeout = options.SessionTimeout.TotalMilliseconds,
            MaxResponseMessageSize = 0,
        };
        var response = await channel.SendRequestAsync<CreateSessionResponse>(request, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (secure?.RemoteCertificate is { } serverCertificate)
        {
            if (response.ServerCertificate is { Length: > 0 } sent && !CertificateBlob.FirstCertificate(sent).SequenceEqual(serverCertificate.RawData))
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The server's CreateSession certificate is not the one of its secure channel.");
            }

            // The server proves it holds its key: it signs our certificate and nonce (OPC 10000-4 §5.6.2).
            if (!SessionCrypto.Verify(secure.Policy, serverCertificate, response.ServerSignature, secure.LocalCertificate, clientNonce))
            {
                throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid, "The server's CreateSession signature is invalid.");
            }
        }

        session.SessionId = response.SessionId;
        session.AuthenticationToken = response.AuthenticationToken;
        session.RevisedSessionTimeout = TimeSpan.FromMilliseconds(response.RevisedSessionTimeout);
        session._serverNonce = response.ServerNonce;
        session._serverCertificate = response.ServerCertificate;
        session.ServerEndpoints = response.ServerEndpoints;
        session._tokenPolicies = SelectTokenPolicies(response.ServerEndpoints, channel.Security);
        try
        {
            await session.ActivateAsync(channel, cancellationToken).ConfigureAwait(false);
            await session.RefreshServerInfoAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.CloseAsync(deleteSubscriptions: true, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        Log.SessionCreated(session._logger, session._endpointUrl, session.SessionId.ToString(), options.Identity.ToString(), session.RevisedSessionTimeout.TotalSeconds);
        return session;
    }

    private static UserTokenPolicy[] SelectTokenPolicies(EndpointDescription[] endpoints, IChannelSecurity security)
    {
        foreach (var endpoint in endpoints)
        {
            if (endpoint.SecurityPolicyUri == security.SecurityPolicyUri && endpoint.SecurityMode == security.SecurityMode)
            {
                return endpoint.UserIdentityTokens;
            }
        }

        return endpoints.Length > 0 ? endpoints[0].UserIdentityTokens : [];
    }

    /// <summary>
    /// Activates the session on <paramref name="channel"/>: first activation, or the move of an
    /// existing session to a new channel after a reconnect (the server keeps its subscriptions).
    /// </summary>
    public async Task ActivateAsync(UaSecureChannel channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var secure = channel.Security as PolicyChannelSecurity;
        var request = new ActivateSessionRequest
        {
            UserIdentityToken = _options.Identity.CreateToken(_tokenPolicies, _serverCertificate, _serverNonce, channel.Security.SecurityPolicyUri),
            LocaleIds = ["en"],
        };
        if (secure is not null)
        {
            // We prove we hold our key: sign the server's certificate and its latest nonce.
            var serverCertificate = _serverCertificate is { Length: > 0 } sent ? CertificateBlob.FirstCertificate(sent).ToArray() : secure.RemoteCertificate?.RawData ?? [];
            request.ClientSignature = SessionCrypto.Sign(secure.Policy, secure.Certificate, serverCertificate, _serverNonce ?? []);
        }

        request.RequestHeader.AuthenticationToken = AuthenticationToken;
        var response = await channel.SendRequestAsync<ActivateSessionResponse>(request, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        _serverNonce = response.ServerNonce;
        Volatile.Write(ref _channel, channel);
    }

    /// <summary>Reads the NamespaceArray and the OperationLimits (again after a reconnect: a restarted server may have new indexes).</summary>
    public async Task RefreshServerInfoAsync(CancellationToken cancellationToken)
    {
        var nodes = new[]
        {
            WellKnownNodes.NamespaceArray,
            WellKnownNodes.MaxNodesPerRead,
            WellKnownNodes.MaxNodesPerBrowse,
            WellKnownNodes.MaxNodesPerTranslateBrowsePathsToNodeIds,
            WellKnownNodes.MaxMonitoredItemsPerCall,
        };
        var request = new ReadRequest
        {
            TimestampsToReturn = TimestampsToReturn.Neither,
            NodesToRead = [.. nodes.Select(static n => new ReadValueId { NodeId = new NodeId(n), AttributeId = AttributeIds.Value })],
        };
        var response = await SendAsync<ReadResponse>(request, null, cancellationToken).ConfigureAwait(false);
        var results = response.Results;
        if (results.Length != nodes.Length)
        {
            throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"Read of server info returned {results.Length} results for {nodes.Length} nodes.");
        }

        if (results[0].Value.Value is string?[] uris)
        {
            NamespaceUris = [.. uris.Select(static u => u ?? "")];
        }

        Limits = new OperationLimits
        {
            MaxNodesPerRead = ToLimit(results[1]),
            MaxNodesPerBrowse = ToLimit(results[2]),
            MaxNodesPerTranslateBrowsePathsToNodeIds = ToLimit(results[3]),
            MaxMonitoredItemsPerCall = ToLimit(results[4]),
        };
        Log.ServerInfo(_logger, NamespaceUris.Count, Limits.MaxNodesPerRead, Limits.MaxNodesPerBrowse, Limits.MaxMonitoredItemsPerCall);
    }

    private static uint ToLimit(DataValue value) =>
        value.StatusCode.IsGood && value.Value.ToDouble() is var d && double.IsFinite(d) && d >= 0 ? (uint)Math.Min(d, uint.MaxValue) : 0;

    /// <summary>Resolves a configured node id (<c>nsu=</c> through the NamespaceArray). Throws when the URI is not on the server.</summary>
    public NodeId Resolve(NodeIdText id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.NamespaceUri is null)
        {
            return id.NodeId;
        }

        var uris = NamespaceUris;
        for (var i = 0; i < uris.Count; i++)
        {
            if (string.Equals(uris[i], id.NamespaceUri, StringComparison.Ordinal))
            {
                return id.NodeId.WithNamespace((ushort)i);
            }
        }

        throw new ServiceResultException(StatusCodes.BadNodeIdUnknown, $"Namespace '{id.NamespaceUri}' of node {id} is not in the server's NamespaceArray ({uris.Count} namespaces).");
    }

    public NodeId Resolve(string text) => Resolve(NodeIdText.Parse(text));

    /// <summary>Sends a request with this session's authentication token.</summary>
    public Task<TResponse> SendAsync<TResponse>(IServiceRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResponse : class, IServiceResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        request.RequestHeader.AuthenticationToken = AuthenticationToken;
        return Channel.SendRequestAsync<TResponse>(request, timeout ?? _options.RequestTimeout, cancellationToken);
    }

    /// <summary>Reads attributes, in as many calls as MaxNodesPerRead requires; results in the order asked.</summary>
    public async Task<DataValue[]> ReadAsync(IReadOnlyList<ReadValueId> nodes, TimestampsToReturn timestamps = TimestampsToReturn.Both, double maxAge = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new DataValue[nodes.Count];
        var batch = OperationLimits.Batch(Limits.MaxNodesPerRead, _options.DefaultOperationLimit);
        for (var offset = 0; offset < nodes.Count; offset += batch)
        {
            var count = Math.Min(batch, nodes.Count - offset);
            var request = new ReadRequest { MaxAge = maxAge, TimestampsToReturn = timestamps, NodesToRead = new ReadValueId[count] };
            for (var i = 0; i < count; i++)
            {
                request.NodesToRead[i] = nodes[offset + i];
            }

            var response = await SendAsync<ReadResponse>(request, null, cancellationToken).ConfigureAwait(false);
            if (response.Results.Length != count)
            {
                throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"Read returned {response.Results.Length} results for {count} nodes.");
            }

            response.Results.CopyTo(results, offset);
        }

        return results;
    }

    /// <summary>Reads one node's Value (optionally an IndexRange of it).</summary>
    public async Task<DataValue> ReadValueAsync(NodeId nodeId, string? indexRange = null, CancellationToken cancellationToken = default)
    {
        var results = await ReadAsync([new ReadValueId { NodeId = nodeId, AttributeId = AttributeIds.Value, IndexRange = indexRange }], TimestampsToReturn.Both, 0, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>
    /// Browses nodes (forward hierarchical references by default), following continuation points with
    /// BrowseNext until every reference is in; batches by MaxNodesPerBrowse.
    /// </summary>
    public async Task<ReferenceDescription[][]> BrowseAsync(IReadOnlyList<NodeId> nodes, BrowseDirection direction = BrowseDirection.Forward, uint referenceTypeId = WellKnownNodes.HierarchicalReferences, uint maxReferencesPerNode = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var results = new ReferenceDescription[nodes.Count][];
        var batch = OperationLimits.Batch(Limits.MaxNodesPerBrowse, _options.DefaultOperationLimit);
        for (var offset = 0; offset < nodes.Count; offset += batch)
        {
            var count = Math.Min(batch, nodes.Count - offset);
            var request = new BrowseRequest { RequestedMaxReferencesPerNode = maxReferencesPerNode, NodesToBrowse = new BrowseDescription[count] };
            for (var i = 0; i < count; i++)
            {
                request.NodesToBrowse[i] = new BrowseDescription
                {
                    NodeId = nodes[offset + i],
                    BrowseDirection = direction,
                    ReferenceTypeId = new NodeId(referenceTypeId),
                    IncludeSubtypes = true,
                    NodeClassMask = 0,
                    ResultMask = 0x3F,
                };
            }

            var response = await SendAsync<BrowseResponse>(request, null, cancellationToken).ConfigureAwait(false);
            if (response.Results.Length != count)
            {
                throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"Browse returned {response.Results.Length} results for {count} nodes.");
            }

            for (var i = 0; i < count; i++)
            {
                results[offset + i] = await CollectAsync(nodes[offset + i], response.Results[i], cancellationToken).ConfigureAwait(false);
            }
        }

        return results;
    }

    private async Task<ReferenceDescription[]> CollectAsync(NodeId node, BrowseResult first, CancellationToken cancellationToken)
    {
        if (first.StatusCode.IsBad)
        {
            throw new ServiceResultException(first.StatusCode.Code, $"Browse of {node} failed: {first.StatusCode}");
        }

        var references = new List<ReferenceDescription>(first.References);
        var continuation = first.ContinuationPoint;
        while (continuation is { Length: > 0 })
        {
            var next = await SendAsync<BrowseNextResponse>(new BrowseNextRequest { ContinuationPoints = [continuation] }, null, cancellationToken).ConfigureAwait(false);
            if (next.Results.Length != 1 || next.Results[0].StatusCode.IsBad)
            {
                var code = next.Results.Length == 1 ? next.Results[0].StatusCode.Code : StatusCodes.BadUnexpectedError;
                throw new ServiceResultException(code, $"BrowseNext of {node} failed: {StatusCodes.Name(code)}");
            }

            references.AddRange(next.Results[0].References);
            continuation = next.Results[0].ContinuationPoint;
        }

        return [.. references];
    }

    /// <summary>Translates browse paths to node ids, batched by MaxNodesPerTranslateBrowsePathsToNodeIds.</summary>
    public async Task<BrowsePathResult[]> TranslateAsync(IReadOnlyList<BrowsePath> paths, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new BrowsePathResult[paths.Count];
        var batch = OperationLimits.Batch(Limits.MaxNodesPerTranslateBrowsePathsToNodeIds, _options.DefaultOperationLimit);
        for (var offset = 0; offset < paths.Count; offset += batch)
        {
            var count = Math.Min(batch, paths.Count - offset);
            var request = new TranslateBrowsePathsToNodeIdsRequest { BrowsePaths = [.. paths.Skip(offset).Take(count)] };
            var response = await SendAsync<TranslateBrowsePathsToNodeIdsResponse>(request, null, cancellationToken).ConfigureAwait(false);
            if (response.Results.Length != count)
            {
                throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"TranslateBrowsePathsToNodeIds returned {response.Results.Length} results for {count} paths.");
            }

            response.Results.CopyTo(results, offset);
        }

        return results;
    }

    /// <summary>A browse path of browse names from a start node (hierarchical references, subtypes included).</summary>
    public static BrowsePath Path(NodeId start, params QualifiedName[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return new BrowsePath
        {
            StartingNode = start,
            RelativePath = new RelativePath
            {
                Elements = [.. names.Select(static n => new RelativePathElement { ReferenceTypeId = new NodeId(WellKnownNodes.HierarchicalReferences), IncludeSubtypes = true, TargetName = n })],
            },
        };
    }

    public async Task<CreateSubscriptionResponse> CreateSubscriptionAsync(double publishingIntervalMs, uint lifetimeCount, uint maxKeepAliveCount, uint maxNotificationsPerPublish, byte priority, CancellationToken cancellationToken)
    {
        var request = new CreateSubscriptionRequest
        {
            RequestedPublishingInterval = publishingIntervalMs,
            RequestedLifetimeCount = lifetimeCount,
            RequestedMaxKeepAliveCount = maxKeepAliveCount,
            MaxNotificationsPerPublish = maxNotificationsPerPublish,
            PublishingEnabled = true,
            Priority = priority,
        };
        return await SendAsync<CreateSubscriptionResponse>(request, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates monitored items in calls of at most MaxMonitoredItemsPerCall; results in the order given.</summary>
    public async Task<MonitoredItemCreateResult[]> CreateMonitoredItemsAsync(uint subscriptionId, IReadOnlyList<MonitoredItemCreateRequest> items, TimestampsToReturn timestamps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var results = new MonitoredItemCreateResult[items.Count];
        var batch = OperationLimits.Batch(Limits.MaxMonitoredItemsPerCall, _options.DefaultOperationLimit);
        for (var offset = 0; offset < items.Count; offset += batch)
        {
            var count = Math.Min(batch, items.Count - offset);
            var request = new CreateMonitoredItemsRequest { SubscriptionId = subscriptionId, TimestampsToReturn = timestamps, ItemsToCreate = [.. items.Skip(offset).Take(count)] };
            var response = await SendAsync<CreateMonitoredItemsResponse>(request, null, cancellationToken).ConfigureAwait(false);
            if (response.Results.Length != count)
            {
                throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"CreateMonitoredItems returned {response.Results.Length} results for {count} items.");
            }

            response.Results.CopyTo(results, offset);
        }

        return results;
    }

    public async Task<StatusCode[]> DeleteSubscriptionsAsync(IReadOnlyList<uint> subscriptionIds, CancellationToken cancellationToken)
    {
        var response = await SendAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = [.. subscriptionIds] }, null, cancellationToken).ConfigureAwait(false);
        return response.Results;
    }

    public async Task<TransferResult[]> TransferSubscriptionsAsync(IReadOnlyList<uint> subscriptionIds, bool sendInitialValues, CancellationToken cancellationToken)
    {
        var response = await SendAsync<TransferSubscriptionsResponse>(new TransferSubscriptionsRequest { SubscriptionIds = [.. subscriptionIds], SendInitialValues = sendInitialValues }, null, cancellationToken).ConfigureAwait(false);
        return response.Results;
    }

    public async Task<NotificationMessage> RepublishAsync(uint subscriptionId, uint sequenceNumber, CancellationToken cancellationToken)
    {
        var response = await SendAsync<RepublishResponse>(new RepublishRequest { SubscriptionId = subscriptionId, RetransmitSequenceNumber = sequenceNumber }, null, cancellationToken).ConfigureAwait(false);
        return response.NotificationMessage;
    }

    public Task<PublishResponse> PublishAsync(SubscriptionAcknowledgement[] acknowledgements, TimeSpan timeout, CancellationToken cancellationToken) =>
        SendAsync<PublishResponse>(new PublishRequest { SubscriptionAcknowledgements = acknowledgements }, timeout, cancellationToken);

    /// <summary>Closes the session (CloseSession); errors are ignored, the session is gone either way.</summary>
    public async Task CloseAsync(bool deleteSubscriptions, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            return;
        }

        IsClosed = true;
        try
        {
            if (Channel.IsOpen)
            {
                await SendAsync<CloseSessionResponse>(new CloseSessionRequest { DeleteSubscriptions = deleteSubscriptions }, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ServiceResultException ex)
        {
            Log.CloseFailed(_logger, ex.StatusName);
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync(true, CancellationToken.None).ConfigureAwait(false);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "OPC UA session on {Endpoint}: {SessionId} as {Identity}, timeout {Timeout} s")]
        public static partial void SessionCreated(ILogger logger, string endpoint, string sessionId, string identity, double timeout);

        [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "OPC UA server: {Namespaces} namespaces; MaxNodesPerRead {Read}, MaxNodesPerBrowse {Browse}, MaxMonitoredItemsPerCall {Items} (0 = none)")]
        public static partial void ServerInfo(ILogger logger, int namespaces, uint read, uint browse, uint items);

        [LoggerMessage(EventId = 4012, Level = LogLevel.Debug, Message = "OPC UA CloseSession failed: {Status}")]
        public static partial void CloseFailed(ILogger logger, string status);
    }
}
