using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Client;

/// <summary>Requested parameters of a subscription (the server revises them).</summary>
public sealed record SubscriptionSettings
{
    public double PublishingIntervalMs { get; init; } = 100;

    /// <summary>Publishing intervals without data after which the server sends a keep-alive.</summary>
    public uint MaxKeepAliveCount { get; init; } = 10;

    /// <summary>Publishing intervals without a Publish request after which the server drops the subscription (≥ 3 × keep-alive).</summary>
    public uint LifetimeCount { get; init; } = 600;

    /// <summary>0 = no limit.</summary>
    public uint MaxNotificationsPerPublish { get; init; }

    public byte Priority { get; init; }

    public TimestampsToReturn Timestamps { get; init; } = TimestampsToReturn.Both;
}

/// <summary>One item to monitor: node (possibly <c>nsu=</c>), attribute, index range and monitoring parameters.</summary>
public sealed record MonitoredItemSpec
{
    public required NodeIdText Node { get; init; }

    public uint AttributeId { get; init; } = AttributeIds.Value;

    public string? IndexRange { get; init; }

    /// <summary>-1 = the publishing interval; 0 = as fast as the server can (exception-based where it supports it).</summary>
    public double SamplingIntervalMs { get; init; } = -1;

    public uint QueueSize { get; init; } = 1;

    public bool DiscardOldest { get; init; } = true;

    public DeadbandType DeadbandType { get; init; } = DeadbandType.None;

    public double DeadbandValue { get; init; }

    public DataChangeTrigger Trigger { get; init; } = DataChangeTrigger.StatusValue;
}

/// <summary>Receives a subscription's data. Called from one task at a time, in sequence-number order.</summary>
public interface ISubscriptionHandler
{
    /// <summary>A new value of item <paramref name="itemIndex"/> (its index in the list given to the subscription).</summary>
    void OnDataChange(int itemIndex, DataValue value);

    /// <summary>Data of this subscription may have been lost (reconnect, notifications no longer available, subscription recreated).</summary>
    void OnGap(string reason);

    /// <summary>An item could not be monitored (unknown node or namespace, bad attribute, ...).</summary>
    void OnItemError(int itemIndex, StatusCode status, string message);
}

/// <summary>
/// A subscription that the <see cref="OpcUaConnection"/> keeps alive across reconnects: it is
/// re-used when the session is re-activated, transferred to a new session, or recreated with all
/// its items when neither works.
/// </summary>
public sealed class OpcUaSubscription
{
    private readonly object _gate = new();
    private long _notifications;
    private long _values;
    private long _keepAlives;
    private long _republished;
    private long _lost;
    private long _recreated;
    private long _transferred;
    private long _gaps;

    internal OpcUaSubscription(SubscriptionSettings settings, IReadOnlyList<MonitoredItemSpec> items, ISubscriptionHandler handler)
    {
        Settings = settings;
        Items = items;
        Handler = handler;
        ItemStatus = new StatusCode[items.Count];
        ServerItemIds = new uint[items.Count];
    }

    public SubscriptionSettings Settings { get; }

    public IReadOnlyList<MonitoredItemSpec> Items { get; }

    internal ISubscriptionHandler Handler { get; }

    /// <summary>The server's id (0 when not created on the current server).</summary>
    public uint SubscriptionId { get; internal set; }

    public double RevisedPublishingIntervalMs { get; internal set; }

    public uint RevisedMaxKeepAliveCount { get; internal set; }

    /// <summary>Last sequence number delivered (0 before the first).</summary>
    public uint LastSequenceNumber { get; internal set; }

    /// <summary>Status of each item after creation (Good, or why it could not be monitored).</summary>
    public StatusCode[] ItemStatus { get; }

    internal uint[] ServerItemIds { get; }

    /// <summary>How long the server may stay silent on this subscription (keep-alive period).</summary>
    public TimeSpan KeepAlivePeriod => TimeSpan.FromMilliseconds(Math.Max(1, RevisedPublishingIntervalMs) * Math.Max(1, RevisedMaxKeepAliveCount));

    public long Notifications => Interlocked.Read(ref _notifications);

    public long Values => Interlocked.Read(ref _values);

    public long KeepAlives => Interlocked.Read(ref _keepAlives);

    public long Republished => Interlocked.Read(ref _republished);

    /// <summary>Notification messages missed and no longer available on the server.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    public long Recreated => Interlocked.Read(ref _recreated);

    public long Transferred => Interlocked.Read(ref _transferred);

    public long Gaps => Interlocked.Read(ref _gaps);

    internal object Gate => _gate;

    internal void CountNotification(int values)
    {
        Interlocked.Increment(ref _notifications);
        Interlocked.Add(ref _values, values);
    }

    internal void CountKeepAlive() => Interlocked.Increment(ref _keepAlives);

    internal void CountRepublished() => Interlocked.Increment(ref _republished);

    internal void CountLost(long count) => Interlocked.Add(ref _lost, count);

    internal void CountRecreated() => Interlocked.Increment(ref _recreated);

    internal void CountTransferred() => Interlocked.Increment(ref _transferred);

    internal void CountGap() => Interlocked.Increment(ref _gaps);
}
