using Microsoft.Extensions.Logging;

namespace FactoryEdge.Pipeline;

/// <summary>
/// A feature worker: a dedicated thread that owns a fixed subset of channels. It sleeps until a
/// source writes, drains every channel it owns, and hands finished windows to the scoring stage
/// through its own SPSC queue. Items come back through a second SPSC queue (no locks anywhere).
/// </summary>
internal sealed partial class PipelineWorker : IWakeable
{
    private readonly List<ChannelProcessor> _channels = [];
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly SpscQueue<WindowItem> _ready;
    private readonly SpscQueue<WindowItem> _free;
    private readonly Func<WindowItem> _factory;
    private readonly IWakeable _downstream;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly bool _lossless;
    private volatile bool _stopping;
    private long _lastLoopTicks;
    private long _droppedWindows;
    private long _poolGrowth;
    private long _failedWindows;
    private long _allocatedBytes;
    private WindowItem? _spare;

    public PipelineWorker(int index, int queueCapacity, bool lossless, Func<WindowItem> factory, IWakeable downstream, ILogger logger)
    {
        _lossless = lossless;
        Index = index;
        _ready = new SpscQueue<WindowItem>(queueCapacity);
        _free = new SpscQueue<WindowItem>(queueCapacity * 2);
        _factory = factory;
        _downstream = downstream;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "fe-worker-" + index };
    }

    public int Index { get; }

    public IReadOnlyList<ChannelProcessor> Channels => _channels;

    /// <summary>Windows dropped because the scoring stage was too far behind.</summary>
    public long DroppedWindows => Interlocked.Read(ref _droppedWindows);

    /// <summary>Bytes allocated by this worker thread while processing (feature extraction included).</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    /// <summary>Bytes allocated inside feature extraction (MathNet's FFT) on this worker thread.</summary>
    public long ExtractorAllocatedBytes { get; set; }

    /// <summary>Windows whose processing threw (logged; the channel restarts assembly).</summary>
    public long FailedWindows => Interlocked.Read(ref _failedWindows);

    /// <summary>Items created after start-up (the pool warming up, then 0 in steady state).</summary>
    public long PoolGrowth => Interlocked.Read(ref _poolGrowth);

    /// <summary>Stopwatch ticks of the last loop iteration (liveness for the watchdog).</summary>
    public long LastLoopTicks => Volatile.Read(ref _lastLoopTicks);

    public bool IsRunning => _thread.IsAlive;

    internal SpscQueue<WindowItem> Ready => _ready;

    public void Add(ChannelProcessor channel) => _channels.Add(channel);

    /// <summary>Fills the item pool up front so that steady state starts with no allocation at all.</summary>
    public void Preallocate(int count)
    {
        for (var i = 0; i < count && _free.Count < _free.Capacity; i++)
        {
            var item = _factory();
            item.WorkerIndex = Index;
            _free.TryEnqueue(item);
        }
    }

    public void Start() => _thread.Start();

    public void Wake()
    {
        if (!_wake.IsSet)
        {
            _wake.Set();
        }
    }

    /// <summary>Stops after draining what the sources already wrote.</summary>
    public void Stop()
    {
        _stopping = true;
        Wake();
        _thread.Join();
    }

    /// <summary>Returns an item (scoring thread).</summary>
    public void Recycle(WindowItem item) => _free.TryEnqueue(item);

    internal WindowItem Rent()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }

        if (_free.TryDequeue(out var item))
        {
            return item;
        }

        Interlocked.Increment(ref _poolGrowth);
        item = _factory();
        item.WorkerIndex = Index;
        return item;
    }

    internal void Emit(WindowItem item)
    {
        if (_ready.TryEnqueue(item))
        {
            return;
        }

        if (!_lossless)
        {
            // Live: the scoring stage is behind; drop and count rather than stall acquisition.
            Interlocked.Increment(ref _droppedWindows);
            _spare = item;
            return;
        }

        // Offline (analyze): wait for the scoring stage; nothing may be lost.
        var spin = default(SpinWait);
        while (!_ready.TryEnqueue(item))
        {
            _downstream.Wake();
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                Volatile.Write(ref _lastLoopTicks, System.Diagnostics.Stopwatch.GetTimestamp());
                _wake.Wait(50);
                _wake.Reset();
                var stopping = _stopping;
                var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                foreach (var channel in _channels)
                {
                    try
                    {
                        // Hand each channel's windows on at once (latency); the scoring stage still
                        // batches whatever has accumulated when it gets to run.
                        if (channel.Drain(this) > 0)
                        {
                            _downstream.Wake();
                        }
                    }
                    catch (Exception ex)
                    {
                        // A window that breaks the feature code must not stop monitoring: count it,
                        // restart the channel's assembly (the next window is marked as after a gap).
                        Interlocked.Increment(ref _failedWindows);
                        channel.Assembler?.Restart();
                        LogChannelFailed(_logger, channel.Input.Descriptor.Id.ToString(), ex);
                    }
                }

                Volatile.Write(ref _allocatedBytes, _allocatedBytes + (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore));
                if (stopping)
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            LogWorkerCrashed(_logger, Index, ex);
            throw;
        }
    }

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Processing a window of channel {Channel} failed; assembly restarts")]
    private static partial void LogChannelFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Critical, Message = "Pipeline worker {Worker} crashed")]
    private static partial void LogWorkerCrashed(ILogger logger, int worker, Exception exception);
}
