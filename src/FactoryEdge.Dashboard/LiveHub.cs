using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;

namespace FactoryEdge.Dashboard;

/// <summary>
/// The browsers connected for live updates (Server-Sent Events). Every browser has its own bounded
/// queue of ready-made messages; <see cref="Publish"/> only ever tries to enqueue, so a slow or stalled
/// browser costs the publisher nothing: its queue fills, further messages for it are dropped and
/// counted (it sees fewer frames — decimation), and once its queue has stayed full for
/// <see cref="DashboardOptions.StalledClientSeconds"/> it is disconnected (EventSource reconnects it
/// when it reads again). Messages are state snapshots, so a dropped one is superseded by the next.
/// </summary>
public sealed class LiveHub
{
    private readonly ConcurrentDictionary<long, LiveClient> _clients = new();
    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private long _nextId;
    private long _dropped;
    private long _disconnected;
    private long _published;

    public LiveHub(DashboardOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
    }

    public int ClientCount => _clients.Count;

    /// <summary>Messages dropped because a browser's queue was full.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>Browsers disconnected because they stopped reading.</summary>
    public long DisconnectedClients => Interlocked.Read(ref _disconnected);

    /// <summary>Messages enqueued (all browsers).</summary>
    public long PublishedMessages => Interlocked.Read(ref _published);

    public IReadOnlyCollection<LiveClient> Clients => [.. _clients.Values];

    /// <summary>Registers a browser; null when <see cref="DashboardOptions.MaxClients"/> are connected.</summary>
    public LiveClient? Connect(DashboardPrincipal principal, string? machine)
    {
        if (_clients.Count >= _options.MaxClients)
        {
            return null;
        }

        var client = new LiveClient(Interlocked.Increment(ref _nextId), principal, machine, _options.ClientQueueCapacity);
        _clients[client.Id] = client;
        return client;
    }

    public void Disconnect(LiveClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (_clients.TryRemove(client.Id, out _))
        {
            client.Complete();
        }
    }

    /// <summary>Formats one SSE message (<c>event:</c> line, one <c>data:</c> line of JSON).</summary>
    public static byte[] Format(string eventName, string json) =>
        Encoding.UTF8.GetBytes("event: " + eventName + "\ndata: " + json.Replace("\n", "\ndata: ", StringComparison.Ordinal) + "\n\n");

    /// <summary>Offers a message to every browser that <paramref name="filter"/> accepts; never waits.</summary>
    public void Publish(byte[] message, Func<LiveClient, bool>? filter = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _time.GetTimestamp();
        var stalledTicks = (long)(_options.StalledClientSeconds * _time.TimestampFrequency);
        foreach (var client in _clients.Values)
        {
            if (filter is not null && !filter(client))
            {
                continue;
            }

            if (client.TryEnqueue(message, now))
            {
                Interlocked.Increment(ref _published);
                continue;
            }

            Interlocked.Increment(ref _dropped);
            if (client.FullSince != 0 && now - client.FullSince >= stalledTicks && _clients.TryRemove(client.Id, out _))
            {
                Interlocked.Increment(ref _disconnected);
                client.Abort();
            }
        }
    }
}

/// <summary>One connected browser: its bounded queue, what it watches, and its counters.</summary>
public sealed class LiveClient
{
    private readonly Channel<byte[]> _queue;
    private readonly CancellationTokenSource _abort = new();
    private long _dropped;
    private long _fullSince;

    internal LiveClient(long id, DashboardPrincipal principal, string? machine, int capacity)
    {
        Id = id;
        Principal = principal;
        Machine = machine;
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    }

    public long Id { get; }

    public DashboardPrincipal Principal { get; }

    /// <summary>The machine (site/line/machine) whose live frames this browser wants, if any.</summary>
    public string? Machine { get; }

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Stopwatch ticks since when the queue has been full (0 = not full).</summary>
    public long FullSince => Interlocked.Read(ref _fullSince);

    /// <summary>Cancelled when the hub gives up on this browser.</summary>
    public CancellationToken Aborted => _abort.Token;

    public ChannelReader<byte[]> Reader => _queue.Reader;

    internal bool TryEnqueue(byte[] message, long now)
    {
        if (_queue.Writer.TryWrite(message))
        {
            Interlocked.Exchange(ref _fullSince, 0);
            return true;
        }

        Interlocked.Increment(ref _dropped);
        Interlocked.CompareExchange(ref _fullSince, now, 0);
        return false;
    }

    internal void Abort()
    {
        _queue.Writer.TryComplete();
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    internal void Complete() => _queue.Writer.TryComplete();
}
