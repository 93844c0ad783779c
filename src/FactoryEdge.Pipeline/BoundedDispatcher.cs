using Microsoft.Extensions.Logging;

namespace FactoryEdge.Pipeline;

/// <summary>
/// A bounded queue in front of one sink, drained by the sink's own thread. The pipeline posts
/// without waiting (in <see cref="SinkFullMode.DropNewest"/> mode a full queue drops the item and
/// counts it), so a slow or failing sink never slows the hot path. A failing handler is logged and
/// counted; the item is recycled and the dispatcher carries on.
/// </summary>
internal sealed partial class BoundedDispatcher<T> : IWakeable
    where T : class
{
    private readonly SpscQueue<T> _queue;
    private readonly SpscQueue<T> _free;
    private readonly Func<T, CancellationToken, ValueTask> _handler;
    private readonly Func<T> _factory;
    private readonly SinkFullMode _fullMode;
    private readonly ILogger _logger;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Thread _thread;
    private readonly CancellationTokenSource _abort = new();
    private volatile bool _completing;
    private T? _spare; // producer-side spare: the free list has one producer (the sink thread)
    private long _posted;
    private long _dropped;
    private long _failed;
    private long _handled;

    public BoundedDispatcher(string name, int capacity, SinkFullMode fullMode, Func<T> factory, Func<T, CancellationToken, ValueTask> handler, ILogger logger)
    {
        Name = name;
        _queue = new SpscQueue<T>(capacity);
        _free = new SpscQueue<T>(_queue.Capacity + 2);
        _factory = factory;
        _handler = handler;
        _fullMode = fullMode;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "fe-sink-" + name };
    }

    public string Name { get; }

    public long Posted => Interlocked.Read(ref _posted);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Failed => Interlocked.Read(ref _failed);

    public long Handled => Interlocked.Read(ref _handled);

    public int Depth => _queue.Count;

    public int Capacity => _queue.Capacity;

    public void Start() => _thread.Start();

    /// <summary>Takes an item to fill (producer thread only): a recycled one, or a new one while the pool warms up.</summary>
    public T Rent()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }

        return _free.TryDequeue(out var item) ? item : _factory();
    }

    /// <summary>Posts a filled item (producer thread only). Returns false when it was dropped.</summary>
    public bool Post(T item)
    {
        if (!_queue.TryEnqueue(item))
        {
            if (_fullMode == SinkFullMode.DropNewest || _completing)
            {
                Interlocked.Increment(ref _dropped);
                _spare ??= item;
                return false;
            }

            var spin = default(SpinWait);
            while (!_queue.TryEnqueue(item))
            {
                Wake();
                spin.SpinOnce(sleep1Threshold: 20);
            }
        }

        Interlocked.Increment(ref _posted);
        Wake();
        return true;
    }

    /// <summary>Discards a rented item without posting it.</summary>
    public void Return(T item) => _spare ??= item;

    public void Wake()
    {
        if (!_wake.IsSet)
        {
            _wake.Set();
        }
    }

    /// <summary>Lets the thread deliver what is queued, then stops it (bounded by <paramref name="timeout"/>).</summary>
    public bool Complete(TimeSpan timeout)
    {
        _completing = true;
        Wake();
        var joined = _thread.Join(timeout);
        if (!joined)
        {
            _abort.Cancel();
            joined = _thread.Join(TimeSpan.FromSeconds(2));
        }

        return joined;
    }

    private void Run()
    {
        while (true)
        {
            _wake.Wait(100);
            _wake.Reset();
            while (_queue.TryDequeue(out var item))
            {
                try
                {
                    var pending = _handler(item, _abort.Token);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        pending.AsTask().GetAwaiter().GetResult();
                    }

                    Interlocked.Increment(ref _handled);
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _failed);
                    LogSinkFailed(_logger, Name, ex);
                }
                finally
                {
                    _free.TryEnqueue(item);
                }
            }

            if (_completing && _queue.IsEmpty())
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Sink {Sink} failed to take an item; it is counted and the pipeline carries on")]
    private static partial void LogSinkFailed(ILogger logger, string sink, Exception exception);
}
