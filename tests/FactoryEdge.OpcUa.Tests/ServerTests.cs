using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Server;

namespace FactoryEdge.OpcUa.Tests;

/// <summary>Our OPC UA server (<see cref="UaServer"/>) against our own client stack, over loopback.</summary>
public sealed class ServerTests : IAsyncLifetime
{
    private const string Ns = "urn:factoryedge:test-server";
    private UaServer _server = null!;
    private UaVariable _waveform = null!;
    private UaVariable _speed = null!;
    private ushort _ns;

    public Task InitializeAsync()
    {
        var space = new AddressSpace("urn:factoryedge:server");
        _ns = space.AddNamespace(Ns);
        var machines = space.AddFolder(new NodeId("Machines", _ns), new NodeId(WellKnownNodes.ObjectsFolder), new QualifiedName(_ns, "Machines"), "Machines");
        var pump = space.AddFolder(new NodeId("Pump1", _ns), machines.NodeId, new QualifiedName(_ns, "Pump1"), "Pump1");
        _waveform = space.AddVariable(new NodeId("Pump1.Waveform", _ns), pump.NodeId, new QualifiedName(_ns, "Waveform"), "Waveform", new Variant(Enumerable.Range(0, 16).Select(static i => (float)i).ToArray()), ServerNodeIds.DataTypeOf(BuiltInType.Float), 1, 16);
        space.AddEngineeringUnits(_waveform, "g", "G");
        space.AddVariable(new NodeId("Pump1.SampleRate", _ns), pump.NodeId, new QualifiedName(_ns, "SampleRate"), "SampleRate", new Variant(25600.0), ServerNodeIds.DataTypeOf(BuiltInType.Double));
        _speed = space.AddVariable(new NodeId("Pump1.Speed", _ns), pump.NodeId, new QualifiedName(_ns, "Speed"), "Speed", new Variant(1780.0), ServerNodeIds.DataTypeOf(BuiltInType.Double));
        for (var i = 0; i < 25; i++)
        {
            space.AddVariable(new NodeId($"Many.{i}", _ns), machines.NodeId, new QualifiedName(_ns, $"Many{i}"), $"Many{i}", new Variant(i), ServerNodeIds.DataTypeOf(BuiltInType.Int32));
        }

        _server = new UaServer(new UaServerOptions { Port = 0, MinPublishingIntervalMs = 10, MaxNodesPerRead = 100 }, space);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(UaSecureChannel Channel, UaClientSession Session)> ConnectAsync()
    {
        var channel = await UaSecureChannel.OpenAsync(_server.EndpointUrl, new NoneChannelSecurity());
        var session = await UaClientSession.CreateAsync(channel);
        return (channel, session);
    }

    [Fact]
    public async Task GetEndpoints_None_AdvertisesAnonymousUaTcpEndpoint()
    {
        await using var channel = await UaSecureChannel.OpenAsync(_server.EndpointUrl, new NoneChannelSecurity());
        var endpoints = await UaClientSession.GetEndpointsAsync(channel, _server.EndpointUrl, TimeSpan.FromSeconds(5), CancellationToken.None);
        var endpoint = Assert.Single(endpoints);
        Assert.Equal(SecurityPolicyUris.None, endpoint.SecurityPolicyUri);
        Assert.Equal(MessageSecurityMode.None, endpoint.SecurityMode);
        Assert.Equal(_server.EndpointUrl, endpoint.EndpointUrl);
        Assert.Equal(UserTokenType.Anonymous, Assert.Single(endpoint.UserIdentityTokens).TokenType);
    }

    [Fact]
    public async Task CreateSession_ReadsNamespacesAndOperationLimits()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        Assert.Equal(Ns, session.NamespaceUris[_ns]);
        Assert.Equal(100u, session.Limits.MaxNodesPerRead);
        Assert.Equal(1000u, session.Limits.MaxMonitoredItemsPerCall);
        Assert.Equal(_waveform.NodeId, session.Resolve($"nsu={Ns};s=Pump1.Waveform"));
    }

    [Fact]
    public async Task Read_ValueWithIndexRangeAndAttributes_ReturnsThem()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var whole = await session.ReadValueAsync(_waveform.NodeId);
        Assert.Equal(16, Assert.IsType<float[]>(whole.Value.Value).Length);
        var part = await session.ReadValueAsync(_waveform.NodeId, "2:4");
        Assert.Equal([2f, 3f, 4f], Assert.IsType<float[]>(part.Value.Value));
        var results = await session.ReadAsync(
        [
            new ReadValueId { NodeId = _waveform.NodeId, AttributeId = AttributeIds.DataType },
            new ReadValueId { NodeId = _waveform.NodeId, AttributeId = AttributeIds.ValueRank },
            new ReadValueId { NodeId = _waveform.NodeId, AttributeId = AttributeIds.BrowseName },
            new ReadValueId { NodeId = new NodeId("Nope", _ns), AttributeId = AttributeIds.Value },
            new ReadValueId { NodeId = _waveform.NodeId, AttributeId = AttributeIds.Value, IndexRange = "99:100" },
            new ReadValueId { NodeId = _waveform.NodeId, AttributeId = AttributeIds.Value, IndexRange = "x" },
            new ReadValueId { NodeId = new NodeId(WellKnownNodes.ObjectsFolder), AttributeId = AttributeIds.Value },
        ]);
        Assert.Equal(new NodeId((uint)BuiltInType.Float), results[0].Value.Value);
        Assert.Equal(1, results[1].Value.Value);
        Assert.Equal(new QualifiedName(_ns, "Waveform"), results[2].Value.Value);
        Assert.Equal(StatusCodes.BadNodeIdUnknown, results[3].StatusCode.Code);
        Assert.Equal(StatusCodes.BadIndexRangeNoData, results[4].StatusCode.Code);
        Assert.Equal(StatusCodes.BadIndexRangeInvalid, results[5].StatusCode.Code);
        Assert.Equal(StatusCodes.BadAttributeIdInvalid, results[6].StatusCode.Code);
    }

    [Fact]
    public async Task Read_MoreNodesThanTheLimitInOneCall_BadTooManyOperations()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var request = new ReadRequest { NodesToRead = [.. Enumerable.Range(0, 101).Select(_ => new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value })] };
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => session.SendAsync<ReadResponse>(request, null, CancellationToken.None));
        Assert.Equal(StatusCodes.BadTooManyOperations, ex.StatusCode);

        // Our client splits by the limit it read.
        var many = await session.ReadAsync([.. Enumerable.Range(0, 250).Select(_ => new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value })]);
        Assert.All(many, v => Assert.Equal(1780.0, v.Value.Value));
    }

    [Fact]
    public async Task Browse_ForwardInverseAndPaged_FollowsReferences()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var objects = (await session.BrowseAsync([new NodeId(WellKnownNodes.ObjectsFolder)]))[0];
        Assert.Contains(objects, r => r.BrowseName.Name == "Machines" && r.NodeClass == NodeClass.Object);
        Assert.Contains(objects, r => r.BrowseName.Name == "Server");
        var pump = (await session.BrowseAsync([new NodeId("Pump1", _ns)]))[0];
        Assert.Equal(["SampleRate", "Speed", "Waveform"], pump.Select(static r => r.BrowseName.Name).Order(StringComparer.Ordinal));
        var parent = (await session.BrowseAsync([_waveform.NodeId], BrowseDirection.Inverse))[0];
        Assert.Equal(new NodeId("Pump1", _ns), Assert.Single(parent).NodeId.NodeId);

        // 26 children in pages of 4: BrowseNext brings the rest.
        var paged = (await session.BrowseAsync([new NodeId("Machines", _ns)], maxReferencesPerNode: 4))[0];
        Assert.Equal(26, paged.Length);
    }

    [Fact]
    public async Task TranslateBrowsePaths_EngineeringUnitsAndSibling_Found()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var results = await session.TranslateAsync(
        [
            UaClientSession.Path(_waveform.NodeId, new QualifiedName(0, "EngineeringUnits")),
            UaClientSession.Path(new NodeId("Pump1", _ns), new QualifiedName(_ns, "SampleRate")),
            UaClientSession.Path(new NodeId("Pump1", _ns), new QualifiedName(_ns, "Nothing")),
        ], CancellationToken.None);
        var eu = await session.ReadValueAsync(results[0].Targets[0].TargetId.NodeId);
        Assert.Equal("g", Assert.IsType<EUInformation>(Assert.IsType<ExtensionObject>(eu.Value.Value).Body).DisplayName.Text);
        Assert.Equal(new NodeId("Pump1.SampleRate", _ns), results[1].Targets[0].TargetId.NodeId);
        Assert.Equal(StatusCodes.BadNoMatch, results[2].StatusCode.Code);
    }

    [Fact]
    public async Task UnknownService_ServiceFaultBadServiceUnsupported()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => session.SendAsync<ReadResponse>(new WriteRequestStub(), null, CancellationToken.None));
        Assert.Equal(StatusCodes.BadServiceUnsupported, ex.StatusCode);

        // The channel survives.
        Assert.Equal(1780.0, (await session.ReadValueAsync(_speed.NodeId)).Value.Value);
    }

    [Fact]
    public async Task SessionServices_WithoutSession_BadSessionIdInvalid()
    {
        await using var channel = await UaSecureChannel.OpenAsync(_server.EndpointUrl, new NoneChannelSecurity());
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ReadResponse>(
            new ReadRequest { NodesToRead = [new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value }] }, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCodes.BadSessionIdInvalid, ex.StatusCode);
    }

    [Fact]
    public async Task ActivateSession_UserName_BadIdentityTokenRejected()
    {
        await using var channel = await UaSecureChannel.OpenAsync(_server.EndpointUrl, new NoneChannelSecurity());
        var created = await channel.SendRequestAsync<CreateSessionResponse>(new CreateSessionRequest { SessionName = "x", RequestedSessionTimeout = 60000 }, TimeSpan.FromSeconds(5), CancellationToken.None);
        var activate = new ActivateSessionRequest { UserIdentityToken = new ExtensionObject(new UserNameIdentityToken { PolicyId = "user", UserName = "user", Password = [1, 2, 3] }) };
        activate.RequestHeader.AuthenticationToken = created.AuthenticationToken;
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ActivateSessionResponse>(activate, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCodes.BadIdentityTokenRejected, ex.StatusCode);

        // Not activated: other services are refused.
        var read = new ReadRequest { NodesToRead = [new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value }] };
        read.RequestHeader.AuthenticationToken = created.AuthenticationToken;
        var refused = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ReadResponse>(read, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCodes.BadSessionNotActivated, refused.StatusCode);
    }

    [Fact]
    public async Task Subscription_EveryChangeInOrder_AndKeepAlivesWhenIdle()
    {
        var handler = new Collector();
        using var stop = new CancellationTokenSource();
        var (connection, subscription, run) = await SubscribeAsync("Pump1.Waveform", new SubscriptionSettings { PublishingIntervalMs = 20, MaxKeepAliveCount = 3 }, 50, handler, stop.Token);
        for (var k = 1; k <= 200; k++)
        {
            _waveform.SetValue(new Variant(new float[] { k, k, k }), DateTime.UnixEpoch.AddSeconds(k));
            if (k % 10 == 0)
            {
                await Task.Delay(40);
            }
        }

        await WaitUntil(() => handler.Values.Count >= 201, "200 changes");
        var firsts = handler.Values.Skip(1).Select(static v => ((float[])v.Value.Value!)[0]).ToArray();
        Assert.Equal(Enumerable.Range(1, 200).Select(static i => (float)i), firsts);
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(200), handler.Values.Last().SourceTimestamp);

        // Idle: keep-alives every 3 × 20 ms.
        var before = subscription.KeepAlives;
        await WaitUntil(() => subscription.KeepAlives >= before + 3, "keep-alives");
        Assert.Equal(0, subscription.Gaps);
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task Subscription_DroppedNotifications_RepublishedWithoutLoss()
    {
        _server.Faults.DropNotificationsEvery = 3;
        var handler = new Collector();
        using var stop = new CancellationTokenSource();
        var (connection, subscription, run) = await SubscribeAsync("Pump1.Speed", new SubscriptionSettings { PublishingIntervalMs = 15, MaxKeepAliveCount = 2 }, 10, handler, stop.Token);
        for (var k = 1; k <= 30; k++)
        {
            _speed.SetValue(new Variant(1000.0 + k), DateTime.UnixEpoch.AddSeconds(k));
            await Task.Delay(25);
        }

        await WaitUntil(() => handler.Values.Any(v => (double)v.Value.Value! == 1030.0), "last value");
        Assert.True(_server.Faults.DroppedNotifications >= 5, $"{_server.Faults.DroppedNotifications} dropped");
        Assert.True(subscription.Republished >= 5, $"{subscription.Republished} republished");
        Assert.Equal(0, subscription.Lost);
        var values = handler.Values.Select(static v => (double)v.Value.Value!).Where(static v => v is > 1000 and < 1500).ToArray();
        Assert.Equal(Enumerable.Range(1, 30).Select(static k => 1000.0 + k), values);
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task CloseAllConnections_ClientReconnects_SessionReactivatedAndDataResumes()
    {
        var handler = new Collector();
        using var stop = new CancellationTokenSource();
        var (connection, _, run) = await SubscribeAsync("Pump1.Speed", new SubscriptionSettings { PublishingIntervalMs = 20 }, 10, handler, stop.Token);
        Assert.Equal(1, _server.CloseAllConnections());
        await WaitUntil(() => connection.Statistics.Reconnects >= 1 && connection.IsConnected, "reconnect");
        _speed.SetValue(new Variant(2000.0), DateTime.UnixEpoch);
        await WaitUntil(() => handler.Values.Any(v => (double)v.Value.Value! == 2000.0), "value after reconnect");
        Assert.True(connection.Statistics.Reactivations >= 1, "the session should move to the new channel");
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task Restart_ClientMakesNewSessionAndRecreatesSubscription()
    {
        var handler = new Collector();
        using var stop = new CancellationTokenSource();
        var (connection, subscription, run) = await SubscribeAsync("Pump1.Speed", new SubscriptionSettings { PublishingIntervalMs = 20 }, 10, handler, stop.Token);
        await _server.RestartAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
        await WaitUntil(() => connection.Statistics.NewSessions >= 1 && subscription.Recreated + subscription.Transferred >= 1, "new session");
        _speed.SetValue(new Variant(3000.0), DateTime.UnixEpoch);
        await WaitUntil(() => handler.Values.Any(v => (double)v.Value.Value! == 3000.0), "value after restart");
        Assert.True(handler.Gaps > 0);
        await StopAsync(stop, run);
    }

    [Fact]
    public async Task Publish_WithoutSubscription_BadNoSubscription()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var ex = await Assert.ThrowsAsync<ServiceResultException>(() => session.PublishAsync([], TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCodes.BadNoSubscription, ex.StatusCode);
        var republish = await Assert.ThrowsAsync<ServiceResultException>(() => session.RepublishAsync(99, 1, CancellationToken.None));
        Assert.Equal(StatusCodes.BadSubscriptionIdInvalid, republish.StatusCode);
    }

    [Fact]
    public async Task CreateMonitoredItems_BadNodesAndFilters_ReportedPerItem()
    {
        var (channel, session) = await ConnectAsync();
        await using var _ = channel;
        await using var __ = session;
        var created = await session.CreateSubscriptionAsync(50, 100, 10, 0, 0, CancellationToken.None);
        Assert.Equal(50, created.RevisedPublishingInterval);
        var results = await session.CreateMonitoredItemsAsync(created.SubscriptionId,
        [
            new MonitoredItemCreateRequest { ItemToMonitor = new ReadValueId { NodeId = new NodeId("Nope", _ns), AttributeId = AttributeIds.Value }, MonitoringMode = MonitoringMode.Reporting, RequestedParameters = new MonitoringParameters { QueueSize = 1 } },
            new MonitoredItemCreateRequest { ItemToMonitor = new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value }, MonitoringMode = MonitoringMode.Reporting, RequestedParameters = new MonitoringParameters { QueueSize = 5000, SamplingInterval = 250, Filter = new ExtensionObject(new DataChangeFilter { Trigger = DataChangeTrigger.StatusValue, DeadbandType = (uint)DeadbandType.Percent, DeadbandValue = 1 }) } },
            new MonitoredItemCreateRequest { ItemToMonitor = new ReadValueId { NodeId = _speed.NodeId, AttributeId = AttributeIds.Value }, MonitoringMode = MonitoringMode.Reporting, RequestedParameters = new MonitoringParameters { QueueSize = 5000, SamplingInterval = 250 } },
        ], TimestampsToReturn.Both, CancellationToken.None);
        Assert.Equal(StatusCodes.BadNodeIdUnknown, results[0].StatusCode.Code);
        Assert.Equal(StatusCodes.BadMonitoredItemFilterUnsupported, results[1].StatusCode.Code);
        Assert.True(results[2].StatusCode.IsGood);
        Assert.Equal(1000u, results[2].RevisedQueueSize);
        Assert.Equal(250, results[2].RevisedSamplingInterval);
        Assert.Equal([StatusCode.Good], await session.DeleteSubscriptionsAsync([created.SubscriptionId], CancellationToken.None));
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public async Task SecureChannel_Basic256Sha256_SessionReadsAndSubscribes(MessageSecurityMode mode)
    {
        using var serverCertificate = Pki.ApplicationCertificates.CreateSelfSigned("CN=test server", "urn:factoryedge:server", ["localhost", "127.0.0.1"], TimeProvider.System.GetUtcNow().AddDays(-1), TimeSpan.FromDays(30));
        using var clientCertificate = Pki.ApplicationCertificates.CreateSelfSigned("CN=test client", "urn:factoryedge:gateway", ["localhost"], TimeProvider.System.GetUtcNow().AddDays(-1), TimeSpan.FromDays(30));
        var policy = Security.SecurityPolicy.Basic256Sha256;
        ServerSecurityEndpoint Endpoint(MessageSecurityMode m) => new(policy.Uri, m, (byte)m, (_, actual) => new Security.PolicyChannelSecurity(policy, actual, Security.ChannelRole.Server, serverCertificate, null, static c => c));
        var space = new AddressSpace("urn:factoryedge:server");
        var value = space.AddVariable(new NodeId("Secret", 1), new NodeId(WellKnownNodes.ObjectsFolder), new QualifiedName(1, "Secret"), "Secret", new Variant(42.0), ServerNodeIds.DataTypeOf(BuiltInType.Double));
        await using var server = new UaServer(new UaServerOptions
        {
            Port = 0,
            Endpoints = [Endpoint(MessageSecurityMode.Sign), Endpoint(MessageSecurityMode.SignAndEncrypt)],
            Certificate = serverCertificate.RawData,
            SignSession = (uri, certificate, nonce) => Security.SessionCrypto.Sign(policy, serverCertificate, certificate, nonce),
            VerifyClientSignature = (uri, certificate, signature, nonce) => Security.SessionCrypto.Verify(policy, System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate), signature, serverCertificate.RawData, nonce),
        }, space);
        server.Start();

        // Discovery over None still works without a None endpoint; everything else on it is refused.
        await using (var discovery = await UaSecureChannel.OpenAsync(server.EndpointUrl, new NoneChannelSecurity()))
        {
            var endpoints = await UaClientSession.GetEndpointsAsync(discovery, server.EndpointUrl, TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.Equal([MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt], endpoints.Select(static e => e.SecurityMode));
            Assert.All(endpoints, e => Assert.Equal(serverCertificate.RawData, e.ServerCertificate));
            var refused = await Assert.ThrowsAsync<ServiceResultException>(() => UaClientSession.CreateAsync(discovery));
            Assert.Equal(StatusCodes.BadSecurityPolicyRejected, refused.StatusCode);
        }

        var security = new Security.PolicyChannelSecurity(policy, mode, Security.ChannelRole.Client, clientCertificate, serverCertificate);
        await using var channel = await UaSecureChannel.OpenAsync(server.EndpointUrl, security);
        await using var session = await UaClientSession.CreateAsync(channel);
        Assert.Equal(42.0, (await session.ReadValueAsync(value.NodeId)).Value.Value);
        var created = await session.CreateSubscriptionAsync(20, 100, 5, 0, 0, CancellationToken.None);
        var items = await session.CreateMonitoredItemsAsync(created.SubscriptionId, [new MonitoredItemCreateRequest { ItemToMonitor = new ReadValueId { NodeId = value.NodeId, AttributeId = AttributeIds.Value }, MonitoringMode = MonitoringMode.Reporting, RequestedParameters = new MonitoringParameters { QueueSize = 1 } }], TimestampsToReturn.Both, CancellationToken.None);
        Assert.True(items[0].StatusCode.IsGood);
        var publish = await session.PublishAsync([], TimeSpan.FromSeconds(5), CancellationToken.None);
        var change = Assert.IsType<DataChangeNotification>(Assert.Single(publish.NotificationMessage.NotificationData).Body);
        Assert.Equal(42.0, Assert.Single(change.MonitoredItems).Value.Value.Value);

        // A session whose client signature does not verify is refused.
        var forged = await channel.SendRequestAsync<CreateSessionResponse>(new CreateSessionRequest { SessionName = "forged", ClientCertificate = clientCertificate.RawData, ClientNonce = new byte[32], RequestedSessionTimeout = 60000 }, TimeSpan.FromSeconds(5), CancellationToken.None);
        var activate = new ActivateSessionRequest { ClientSignature = new SignatureData { Algorithm = policy.AsymmetricSignatureAlgorithm, Signature = new byte[256] } };
        activate.RequestHeader.AuthenticationToken = forged.AuthenticationToken;
        var refusedSignature = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ActivateSessionResponse>(activate, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCodes.BadApplicationSignatureInvalid, refusedSignature.StatusCode);
    }

    /// <summary>A client connection with one subscription to <paramref name="node"/> (every change), running, its initial value received.</summary>
    private async Task<(OpcUaConnection Connection, OpcUaSubscription Subscription, Task Run)> SubscribeAsync(string node, SubscriptionSettings settings, uint queueSize, Collector handler, CancellationToken cancellationToken)
    {
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = _server.EndpointUrl });
        var subscription = connection.AddSubscription(
            settings,
            [new MonitoredItemSpec { Node = NodeIdText.Parse($"nsu={Ns};s={node}"), SamplingIntervalMs = 0, QueueSize = queueSize }],
            handler);
        var run = connection.RunAsync(cancellationToken);
        await WaitUntil(() => handler.Values.Count >= 1, "initial value");
        return (connection, subscription, run);
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task run)
    {
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(15))
            {
                Assert.Fail("timed out waiting for " + what);
            }

            await Task.Delay(10);
        }
    }

    private sealed class Collector : ISubscriptionHandler
    {
        private int _gaps;

        public ConcurrentQueue<DataValue> Values { get; } = new();

        public int Gaps => Volatile.Read(ref _gaps);

        public void OnDataChange(int itemIndex, DataValue value) => Values.Enqueue(value);

        public void OnGap(string reason) => Interlocked.Increment(ref _gaps);

        public void OnItemError(int itemIndex, StatusCode status, string message) => Assert.Fail($"item {itemIndex}: {status} {message}");
    }

    /// <summary>A service the server does not implement (Write, encoding id 673).</summary>
    private sealed class WriteRequestStub : IServiceRequest
    {
        public NodeId BinaryEncodingId => new(673u);

        public RequestHeader RequestHeader { get; set; } = new();

        public void Encode(BinaryEncoder encoder)
        {
            RequestHeader.Encode(encoder);
            encoder.WriteInt32(0);
        }

        public void Decode(BinaryDecoder decoder) => throw new NotSupportedException();
    }
}
