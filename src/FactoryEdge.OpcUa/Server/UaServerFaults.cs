namespace FactoryEdge.OpcUa.Server;

/// <summary>
/// Transport faults a simulator injects into <see cref="UaServer"/>, changeable while it serves:
/// delayed responses and dropped notification messages. (Disconnects and restarts are methods of
/// the server: <see cref="UaServer.CloseAllConnections"/>, <see cref="UaServer.RestartAsync"/>.)
/// </summary>
public sealed class UaServerFaults
{
    private long _responseDelayTicks;
    private int _dropNotificationsEvery;
    private long _notificationMessages;
    private long _delayed;
    private long _dropped;

    /// <summary>Every service response waits this long before it is sent (Publish responses too).</summary>
    public TimeSpan ResponseDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _responseDelayTicks));
        set => Interlocked.Exchange(ref _responseDelayTicks, Math.Max(0, value.Ticks));
    }

    /// <summary>
    /// Every Nth notification message (with data) is lost on the way: it keeps its sequence number and
    /// stays available for Republish, but is never sent; the client sees the gap (0 = off).
    /// </summary>
    public int DropNotificationsEvery
    {
        get => Volatile.Read(ref _dropNotificationsEvery);
        set => Volatile.Write(ref _dropNotificationsEvery, Math.Max(0, value));
    }

    public long DelayedResponses => Interlocked.Read(ref _delayed);

    public long DroppedNotifications => Interlocked.Read(ref _dropped);

    internal bool ShouldDropNotification()
    {
        var every = DropNotificationsEvery;
        var n = Interlocked.Increment(ref _notificationMessages);
        if (every > 0 && n % every == 0)
        {
            Interlocked.Increment(ref _dropped);
            return true;
        }

        return false;
    }

    internal TimeSpan NextDelay()
    {
        var delay = ResponseDelay;
        if (delay > TimeSpan.Zero)
        {
            Interlocked.Increment(ref _delayed);
        }

        return delay;
    }
}
