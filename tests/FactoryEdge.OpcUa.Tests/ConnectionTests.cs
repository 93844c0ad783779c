using System.Collections.Concurrent;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Tests;

/// <summary>The subscription engine of <see cref="OpcUaConnection"/> against a scripted peer.</summary>
public sealed class ConnectionTests
{
    private static NotificationMessage Message(uint sequence, double value) => new()
    {
        SequenceNumber = sequence,
        NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 0, Value = new DataValue { Value = new Variant(value) } }] })],
    };

    /// <summary>
    /// A server that answers Publish from <paramref name="script"/>; once it is empty, with a keep-alive
    /// every 20 ms when <paramref name="keepAliveSequence"/> is given (so that acknowledgements keep flowing).
    /// </summary>
    private static FakeUaServer Server(ConcurrentQueue<NotificationMessage> script, Dictionary<uint, NotificationMessage> retransmission, ConcurrentQueue<uint> republishAsked, uint? keepAliveSequence = null)
    {
        var server = new FakeUaServer();
        server.Handler = FakeUaServer.SessionHandler(0, request => request switch
        {
            CreateSubscriptionRequest => new CreateSubscriptionResponse { SubscriptionId = 11, RevisedPublishingInterval = 100, RevisedMaxKeepAliveCount = 100 },
            CreateMonitoredItemsRequest create => new CreateMonitoredItemsResponse { Results = [.. create.ItemsToCreate.Select(static (_, i) => new MonitoredItemCreateResult { MonitoredItemId = (uint)i + 1 })] },
            PublishRequest => script.TryDequeue(out var next) ? new PublishResponse { SubscriptionId = 11, NotificationMessage = next } : KeepAlive(keepAliveSequence),
            RepublishRequest republish => Republish(republish, retransmission, republishAsked),
            DeleteSubscriptionsRequest => new DeleteSubscriptionsResponse { Results = [new StatusCode(0)] },
            _ => null,
        });
        return server;
    }

    private static PublishResponse? KeepAlive(uint? sequence)
    {
        if (sequence is null)
        {
            return null;
        }

        Thread.Sleep(20);
        return new PublishResponse { SubscriptionId = 11, NotificationMessage = new NotificationMessage { SequenceNumber = sequence.Value } };
    }

    private static IServiceResponse Republish(RepublishRequest request, Dictionary<uint, NotificationMessage> retransmission, ConcurrentQueue<uint> asked)
    {
        asked.Enqueue(request.RetransmitSequenceNumber);
        return retransmission.TryGetValue(request.RetransmitSequenceNumber, out var message)
            ? new RepublishResponse { NotificationMessage = message }
            : new ServiceFault { ResponseHeader = new ResponseHeader { ServiceResult = new StatusCode(StatusCodes.BadMessageNotAvailable) } };
    }

    [Fact]
    public async Task Publish_SequenceGaps_RepublishesWhatTheServerHasAndFlagsTheRest()
    {
        var script = new ConcurrentQueue<NotificationMessage>([Message(1, 1), Message(3, 3), Message(5, 5)]);
        var asked = new ConcurrentQueue<uint>();
        await using var server = Server(script, new Dictionary<uint, NotificationMessage> { [2] = Message(2, 2) }, asked, keepAliveSequence: 6);
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = server.Url });
        var handler = new RecordingHandler();
        var subscription = connection.AddSubscription(new SubscriptionSettings(), [new MonitoredItemSpec { Node = NodeIdText.Parse("nsu=urn:plant;s=Speed") }], handler);
        using var cts = new CancellationTokenSource();

        var run = connection.RunAsync(cts.Token);
        await ChannelTests.WaitUntil(() => handler.Values.Count >= 4);
        await ChannelTests.WaitUntil(() => server.Requests.OfType<PublishRequest>().Any(static p => p.SubscriptionAcknowledgements.Any(static a => a.SequenceNumber == 5)));
        await cts.CancelAsync();
        await run;

        Assert.Equal([1.0, 2, 3, 5], handler.Values);
        Assert.Equal([2u, 4u], asked);
        Assert.Equal(1, subscription.Republished);
        Assert.Equal(1, subscription.Lost);
        Assert.Single(handler.Gaps);
        Assert.Contains("lost", handler.Gaps[0], StringComparison.Ordinal);
        Assert.Equal(5u, subscription.LastSequenceNumber);
        var create = server.Requests.OfType<CreateMonitoredItemsRequest>().Single();
        Assert.Equal(new NodeId("Speed", 2), create.ItemsToCreate[0].ItemToMonitor.NodeId);
        Assert.Contains(server.Requests.OfType<PublishRequest>(), p => p.SubscriptionAcknowledgements.Any(static a => a.SequenceNumber == 1 && a.SubscriptionId == 11));
    }

    [Fact]
    public async Task Publish_KeepAliveAnnouncingALaterSequence_RecoversTheMissedMessage()
    {
        var keepAlive = new NotificationMessage { SequenceNumber = 3 };
        var script = new ConcurrentQueue<NotificationMessage>([Message(1, 1), keepAlive]);
        var asked = new ConcurrentQueue<uint>();
        await using var server = Server(script, new Dictionary<uint, NotificationMessage> { [2] = Message(2, 2) }, asked);
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = server.Url });
        var handler = new RecordingHandler();
        var subscription = connection.AddSubscription(new SubscriptionSettings(), [new MonitoredItemSpec { Node = NodeIdText.Parse("ns=2;s=Speed") }], handler);
        using var cts = new CancellationTokenSource();

        var run = connection.RunAsync(cts.Token);
        await ChannelTests.WaitUntil(() => handler.Values.Count >= 2 && subscription.KeepAlives >= 1);
        await cts.CancelAsync();
        await run;

        Assert.Equal([1.0, 2], handler.Values);
        Assert.Empty(handler.Gaps);
        Assert.Equal(2u, subscription.LastSequenceNumber);
    }

    [Fact]
    public async Task Subscription_UnknownNamespace_ItemReportedAndOthersMonitored()
    {
        var asked = new ConcurrentQueue<uint>();
        await using var server = Server(new ConcurrentQueue<NotificationMessage>(), [], asked);
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = server.Url });
        var handler = new RecordingHandler();
        var subscription = connection.AddSubscription(new SubscriptionSettings(), [new MonitoredItemSpec { Node = NodeIdText.Parse("nsu=urn:missing;s=A") }, new MonitoredItemSpec { Node = NodeIdText.Parse("nsu=urn:plant;s=B") }], handler);
        using var cts = new CancellationTokenSource();

        var run = connection.RunAsync(cts.Token);
        await ChannelTests.WaitUntil(() => subscription.ItemStatus[1].IsGood && server.Requests.OfType<CreateMonitoredItemsRequest>().Any());
        await cts.CancelAsync();
        await run;

        Assert.Equal(StatusCodes.BadNodeIdUnknown, subscription.ItemStatus[0].Code);
        Assert.Contains(handler.Errors, e => e.Contains("urn:missing", StringComparison.Ordinal));
        Assert.Single(server.Requests.OfType<CreateMonitoredItemsRequest>().Single().ItemsToCreate);
        Assert.Contains(server.Requests, r => r is DeleteSubscriptionsRequest);
    }

    private sealed class RecordingHandler : ISubscriptionHandler
    {
        public List<double> Values { get; } = [];

        public List<string> Gaps { get; } = [];

        public List<string> Errors { get; } = [];

        public void OnDataChange(int itemIndex, DataValue value)
        {
            lock (Values)
            {
                Values.Add(value.Value.ToDouble());
            }
        }

        public void OnGap(string reason) => Gaps.Add(reason);

        public void OnItemError(int itemIndex, StatusCode status, string message) => Errors.Add(message);
    }
}
