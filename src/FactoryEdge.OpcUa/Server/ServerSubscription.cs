using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Server;

/// <summary>A Publish request parked until a subscription of its session has something to send.</summary>
internal sealed record PendingPublish(ServerConnection Connection, uint RequestId, uint TokenId, PublishRequest Request, StatusCode[] AcknowledgementResults);

/// <summary>A response to send once the session's lock is released.</summary>
internal readonly record struct Outgoing(ServerConnection Connection, uint RequestId, uint TokenId, IServiceResponse Response);

/// <summary>
/// A session (OPC 10000-4 §5.6): bound to one secure channel at a time (ActivateSession moves it),
/// owning subscriptions and the Publish requests they answer, and browse continuation points.
/// Everything mutable is guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class ServerSession
{
    public ServerSession(NodeId sessionId, NodeId authenticationToken, string? name, double timeoutMs, ServerConnection connection, long now)
    {
        SessionId = sessionId;
        AuthenticationToken = authenticationToken;
        Name = name ?? "";
        TimeoutMs = timeoutMs;
        Connection = connection;
        LastActivity = now;
    }

    public Lock Gate { get; } = new();

    public NodeId SessionId { get; }

    public NodeId AuthenticationToken { get; }

    public string Name { get; }

    public double TimeoutMs { get; }

    public ServerConnection Connection { get; set; }

    public bool Activated { get; set; }

    public bool Closed { get; set; }

    /// <summary>Timestamp (TimeProvider ticks) of the last request.</summary>
    public long LastActivity { get; set; }

    public byte[] ServerNonce { get; set; } = [];

    public byte[]? ClientCertificate { get; set; }

    public Dictionary<uint, ServerSubscription> Subscriptions { get; } = [];

    public Queue<PendingPublish> Publishes { get; } = new();

    public Dictionary<string, BrowseContinuation> ContinuationPoints { get; } = new(StringComparer.Ordinal);

    /// <summary>True when a parked Publish request on a live connection is at the head of the queue (requests of closed connections are dropped).</summary>
    public bool HasLivePublish()
    {
        while (Publishes.TryPeek(out var next))
        {
            if (!next.Connection.IsClosed)
            {
                return true;
            }

            Publishes.Dequeue();
        }

        return false;
    }

    /// <summary>Takes the oldest parked Publish request still on a live connection.</summary>
    public bool TryTakePublish(out PendingPublish pending)
    {
        while (Publishes.TryDequeue(out var next))
        {
            if (!next.Connection.IsClosed)
            {
                pending = next;
                return true;
            }
        }

        pending = null!;
        return false;
    }
}

/// <summary>References still to return for one browsed node (BrowseNext).</summary>
internal sealed record BrowseContinuation(ReferenceDescription[] Remaining, uint MaxPerNode);

/// <summary>
/// A subscription (OPC 10000-4 §5.13): every publishing interval it collects its monitored items'
/// notifications into a NotificationMessage (sequence numbers from 1, kept for Republish until
/// acknowledged) and answers a parked Publish request; with nothing to say for MaxKeepAliveCount
/// intervals it sends a keep-alive (the next sequence number, not consumed); without Publish
/// requests for LifetimeCount intervals it expires.
/// </summary>
internal sealed class ServerSubscription
{
    private readonly LinkedList<NotificationMessage> _retransmission = new();
    private readonly int _maxRetransmission;
    private uint _nextSequence = 1;
    private uint _keepAliveCounter;
    private uint _lifetimeCounter;
    private bool _first = true;

    public ServerSubscription(uint id, ServerSession session, double publishingIntervalMs, uint lifetimeCount, uint maxKeepAliveCount, uint maxNotificationsPerPublish, bool publishingEnabled, byte priority, int maxRetransmission)
    {
        Id = id;
        Session = session;
        PublishingIntervalMs = publishingIntervalMs;
        LifetimeCount = lifetimeCount;
        MaxKeepAliveCount = maxKeepAliveCount;
        MaxNotificationsPerPublish = maxNotificationsPerPublish;
        PublishingEnabled = publishingEnabled;
        Priority = priority;
        _maxRetransmission = maxRetransmission;
    }

    public uint Id { get; }

    public ServerSession Session { get; set; }

    public double PublishingIntervalMs { get; }

    public uint LifetimeCount { get; }

    public uint MaxKeepAliveCount { get; }

    public uint MaxNotificationsPerPublish { get; }

    public bool PublishingEnabled { get; }

    public byte Priority { get; }

    public Dictionary<uint, MonitoredItem> Items { get; } = [];

    /// <summary>Had something to send (data or a keep-alive) but no Publish request was parked.</summary>
    public bool Late { get; private set; }

    public bool Expired { get; private set; }

    public CancellationTokenSource Stop { get; } = new();

    public long NotificationMessagesSent { get; private set; }

    public uint[] AvailableSequenceNumbers => [.. _retransmission.Select(static m => m.SequenceNumber)];

    /// <summary>One publishing interval (under the session's lock): sample, then publish, keep alive or count towards expiry.</summary>
    public void Tick(UaServer server, DateTime now, long timestamp, List<Outgoing> outgoing)
    {
        foreach (var item in Items.Values)
        {
            item.SampleIfDue(timestamp);
        }

        var hasData = PublishingEnabled && HasNotifications();
        var keepAliveDue = !hasData && (_first || ++_keepAliveCounter >= MaxKeepAliveCount);
        if (hasData || keepAliveDue)
        {
            if (!Serve(server, now, outgoing))
            {
                Late = true;
            }
        }

        if (!Session.HasLivePublish() && ++_lifetimeCounter >= LifetimeCount)
        {
            Expire(now, outgoing);
        }
    }

    /// <summary>A Publish request arrived: the lifetime starts again.</summary>
    public void OnPublishRequest() => _lifetimeCounter = 0;

    /// <summary>Answers parked Publish requests while there is something to send; false when it had something but no request.</summary>
    public bool Serve(UaServer server, DateTime now, List<Outgoing> outgoing)
    {
        while (true)
        {
            var hasData = PublishingEnabled && HasNotifications();
            if (!hasData && !Late && !_first && _keepAliveCounter < MaxKeepAliveCount)
            {
                return true;
            }

            if (!Session.HasLivePublish())
            {
                return false;
            }

            NotificationMessage message;
            var more = false;
            if (hasData)
            {
                message = BuildDataMessage(now, out more);
                if (server.Faults.ShouldDropNotification())
                {
                    // Lost on the way: numbered and kept for Republish, never sent.
                    Late = more;
                    continue;
                }
            }
            else
            {
                message = new NotificationMessage { SequenceNumber = _nextSequence, PublishTime = now };
            }

            Session.TryTakePublish(out var pending);
            var response = new PublishResponse
            {
                SubscriptionId = Id,
                AvailableSequenceNumbers = AvailableSequenceNumbers,
                MoreNotifications = more,
                NotificationMessage = message,
                Results = pending.AcknowledgementResults,
            };
            response.ResponseHeader.RequestHandle = pending.Request.RequestHeader.RequestHandle;
            response.ResponseHeader.Timestamp = now;
            outgoing.Add(new Outgoing(pending.Connection, pending.RequestId, pending.TokenId, response));
            NotificationMessagesSent += hasData ? 1 : 0;
            _first = false;
            _keepAliveCounter = 0;
            _lifetimeCounter = 0;
            Late = more;
            if (!more)
            {
                return true;
            }
        }
    }

    /// <summary>Answers parked requests with a StatusChangeNotification (BadTimeout) and marks the subscription expired.</summary>
    private void Expire(DateTime now, List<Outgoing> outgoing)
    {
        Expired = true;
        if (Session.TryTakePublish(out var pending))
        {
            var message = new NotificationMessage
            {
                SequenceNumber = _nextSequence,
                PublishTime = now,
                NotificationData = [new ExtensionObject(new StatusChangeNotification { Status = StatusCodes.BadTimeout })],
            };
            var response = new PublishResponse { SubscriptionId = Id, NotificationMessage = message, Results = pending.AcknowledgementResults };
            response.ResponseHeader.RequestHandle = pending.Request.RequestHeader.RequestHandle;
            response.ResponseHeader.Timestamp = now;
            outgoing.Add(new Outgoing(pending.Connection, pending.RequestId, pending.TokenId, response));
        }
    }

    /// <summary>Removes an acknowledged message from the retransmission queue.</summary>
    public StatusCode Acknowledge(uint sequenceNumber)
    {
        for (var node = _retransmission.First; node is not null; node = node.Next)
        {
            if (node.Value.SequenceNumber == sequenceNumber)
            {
                _retransmission.Remove(node);
                return StatusCode.Good;
            }
        }

        return StatusCodes.BadSequenceNumberUnknown;
    }

    /// <summary>A message still held for Republish, or null.</summary>
    public NotificationMessage? Find(uint sequenceNumber) => _retransmission.FirstOrDefault(m => m.SequenceNumber == sequenceNumber);

    /// <summary>After a transfer with initial values: every item reports its current value again.</summary>
    public void ResendInitialValues()
    {
        foreach (var item in Items.Values)
        {
            item.QueueCurrentValue();
        }
    }

    private bool HasNotifications()
    {
        foreach (var item in Items.Values)
        {
            if (item.HasNotifications)
            {
                return true;
            }
        }

        return false;
    }

    private NotificationMessage BuildDataMessage(DateTime now, out bool more)
    {
        var max = MaxNotificationsPerPublish == 0 ? int.MaxValue : (int)Math.Min(MaxNotificationsPerPublish, int.MaxValue);
        var notifications = new List<MonitoredItemNotification>();
        more = false;
        foreach (var item in Items.Values)
        {
            item.Drain(notifications, max - notifications.Count);
            if (notifications.Count >= max)
            {
                more = HasNotifications();
                break;
            }
        }

        var sequence = _nextSequence;
        _nextSequence = _nextSequence == uint.MaxValue ? 1 : _nextSequence + 1;
        var message = new NotificationMessage
        {
            SequenceNumber = sequence,
            PublishTime = now,
            NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [.. notifications] })],
        };
        _retransmission.AddLast(message);
        while (_retransmission.Count > _maxRetransmission)
        {
            _retransmission.RemoveFirst();
        }

        return message;
    }
}

/// <summary>
/// A monitored item on a node's attribute (OPC 10000-4 §5.12): Value items report by exception —
/// every change of the variable is queued at once when the sampling interval is 0, otherwise at most
/// one per sampling interval (the latest; a change that comes early waits for the interval) —
/// through the data-change filter (trigger, absolute deadband), with the queue's size and discard
/// policy (the Overflow bit marks where values were lost). Other attributes report once.
/// </summary>
internal sealed class MonitoredItem
{
    private const uint OverflowBits = 0x480;
    private readonly Lock _gate = new();
    private readonly Queue<DataValue> _queue = new();
    private readonly TimeProvider _time;
    private readonly long _samplingTicks;
    private DataValue? _lastReported;
    private DataValue? _pendingSample;
    private long _lastSampleTimestamp = long.MinValue;

    public MonitoredItem(uint id, uint clientHandle, ReadValueId target, UaVariable? variable, MonitoringMode mode, double samplingIntervalMs, uint queueSize, bool discardOldest, TimestampsToReturn timestamps, DataChangeFilter? filter, TimeProvider time)
    {
        Id = id;
        ClientHandle = clientHandle;
        Target = target;
        Variable = variable;
        Mode = mode;
        SamplingIntervalMs = samplingIntervalMs;
        QueueSize = queueSize;
        DiscardOldest = discardOldest;
        Timestamps = timestamps;
        Filter = filter;
        _time = time;
        _samplingTicks = (long)(samplingIntervalMs / 1000.0 * time.TimestampFrequency);
        Range = target.IndexRange is { Length: > 0 } text ? NumericRange.Parse(text) : null;
    }

    public uint Id { get; }

    public uint ClientHandle { get; }

    public ReadValueId Target { get; }

    public UaVariable? Variable { get; }

    public MonitoringMode Mode { get; }

    public double SamplingIntervalMs { get; }

    public uint QueueSize { get; }

    public bool DiscardOldest { get; }

    public TimestampsToReturn Timestamps { get; }

    public DataChangeFilter? Filter { get; }

    public NumericRange? Range { get; }

    public long Discarded { get; private set; }

    public bool HasNotifications
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count > 0;
            }
        }
    }

    /// <summary>The variable changed (called on the writer's thread).</summary>
    public void OnChange(UaVariable variable, DataValue value)
    {
        if (Mode == MonitoringMode.Disabled)
        {
            return;
        }

        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_samplingTicks <= 0 || _lastSampleTimestamp == long.MinValue || now - _lastSampleTimestamp >= _samplingTicks)
            {
                _lastSampleTimestamp = now;
                _pendingSample = null;
                EnqueueLocked(value);
            }
            else
            {
                _pendingSample = value;
            }
        }
    }

    /// <summary>Queues a value that changed too early once its sampling interval has passed.</summary>
    public void SampleIfDue(long timestamp)
    {
        lock (_gate)
        {
            if (_pendingSample is { } pending && timestamp - _lastSampleTimestamp >= _samplingTicks)
            {
                _lastSampleTimestamp = timestamp;
                _pendingSample = null;
                EnqueueLocked(pending);
            }
        }
    }

    /// <summary>Queues the current value (initial value of a new item or after a transfer).</summary>
    public void QueueCurrentValue(DataValue? value = null)
    {
        if (Mode == MonitoringMode.Disabled)
        {
            return;
        }

        lock (_gate)
        {
            _lastReported = null;
            EnqueueLocked(value ?? Variable?.Value ?? new DataValue { StatusCode = StatusCodes.BadWaitingForInitialData });
        }
    }

    public void Drain(List<MonitoredItemNotification> into, int max)
    {
        if (Mode != MonitoringMode.Reporting)
        {
            return;
        }

        var drained = false;
        lock (_gate)
        {
            while (max-- > 0 && _queue.TryDequeue(out var value))
            {
                into.Add(new MonitoredItemNotification { ClientHandle = ClientHandle, Value = value });
                drained = true;
            }
        }

        if (drained && Target.AttributeId == AttributeIds.Value)
        {
            Variable?.RaiseConsumed();
        }
    }

    private void EnqueueLocked(DataValue raw)
    {
        if (_lastReported is { } last && !Passes(last, raw))
        {
            return;
        }

        _lastReported = raw;
        var value = Shape(raw);
        if (QueueSize <= 1)
        {
            var overflow = _queue.Count > 0;
            _queue.Clear();
            if (overflow)
            {
                Discarded++;
            }

            _queue.Enqueue(value);
            return;
        }

        if (_queue.Count >= QueueSize)
        {
            Discarded++;
            if (DiscardOldest)
            {
                _queue.Dequeue();
                _queue.Enqueue(value);
                var first = _queue.Dequeue();
                var rest = _queue.ToArray();
                _queue.Clear();
                _queue.Enqueue(WithOverflow(first));
                foreach (var v in rest)
                {
                    _queue.Enqueue(v);
                }
            }
            else
            {
                var kept = _queue.ToArray();
                _queue.Clear();
                for (var i = 0; i < kept.Length - 1; i++)
                {
                    _queue.Enqueue(kept[i]);
                }

                _queue.Enqueue(WithOverflow(value));
            }

            return;
        }

        _queue.Enqueue(value);
    }

    private static DataValue WithOverflow(DataValue value) => new()
    {
        Value = value.Value,
        StatusCode = new StatusCode(value.StatusCode.Code | OverflowBits),
        SourceTimestamp = value.SourceTimestamp,
        ServerTimestamp = value.ServerTimestamp,
    };

    private bool Passes(DataValue last, DataValue next)
    {
        var trigger = Filter?.Trigger ?? DataChangeTrigger.StatusValue;
        if (last.StatusCode != next.StatusCode)
        {
            return true;
        }

        if (trigger == DataChangeTrigger.Status)
        {
            return false;
        }

        if (trigger == DataChangeTrigger.StatusValueTimestamp && last.SourceTimestamp != next.SourceTimestamp)
        {
            return true;
        }

        if (Filter is { DeadbandType: (uint)DeadbandType.Absolute } f && !next.Value.IsArray && !last.Value.IsArray)
        {
            var a = last.Value.ToDouble();
            var b = next.Value.ToDouble();
            if (double.IsFinite(a) && double.IsFinite(b))
            {
                return Math.Abs(a - b) > f.DeadbandValue;
            }
        }

        return !ReferenceEquals(last.Value.Value, next.Value.Value) && !Equals(last.Value.Value, next.Value.Value);
    }

    private DataValue Shape(DataValue raw)
    {
        var value = raw.Value;
        var status = raw.StatusCode;
        if (Range is not null && value.IsArray && value.Value is Array array)
        {
            var part = Range.Apply(array, out var code);
            value = code == StatusCodes.Good ? new Variant(value.Type, part, true) : Variant.Null;
            status = code == StatusCodes.Good ? status : new StatusCode(code);
        }

        return new DataValue
        {
            Value = value,
            StatusCode = status,
            SourceTimestamp = Timestamps is TimestampsToReturn.Source or TimestampsToReturn.Both ? raw.SourceTimestamp : default,
            ServerTimestamp = Timestamps is TimestampsToReturn.Server or TimestampsToReturn.Both ? raw.ServerTimestamp : default,
        };
    }
}
