using System.Diagnostics;
using FactoryEdge.Core;
using FactoryEdge.Signal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Pipeline;

/// <summary>
/// The path every sample takes: source → per-channel lock-free ring → window assembly → health and
/// features (a fixed set of worker threads) → scoring batched across channels → alert rules → fan-out
/// to notifiers and sinks through bounded queues that never block and count what they drop.
/// The same code runs live data and recordings (analyze), so results are identical.
/// </summary>
public sealed partial class SignalPipeline : IAsyncDisposable
{
    private readonly PipelineOptions _options;
    private readonly ChannelDescriptor[] _channels;
    private readonly ChannelInput[] _inputs;
    private readonly ScalarCell?[] _scalars;
    private readonly PipelineWorker[] _workers;
    private readonly IAnomalyScorer _scorer;
    private readonly AlertEngine _alerts;
    private readonly BoundedDispatcher<Alert>[] _notifiers;
    private readonly BoundedDispatcher<SinkItem>[] _telemetry;
    private readonly BoundedDispatcher<SinkItem>[] _training;
    private readonly ScoringBatch _batch;
    private readonly WindowItem[] _pending;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Thread _scoringThread;
    private readonly ILogger _logger;
    private readonly string[] _featureNames;
    private readonly ScoringWake _scoringWake;
    private volatile bool _stopping;
    private int _started;
    private int _stopped;
    private long _windows;
    private long _scored;
    private long _lastScoringLoopTicks;
    private long _alertsRaised;
    private long _scoringAllocatedBytes;
    private readonly DateTimeOffset _wallAnchorUtc = TimeProvider.System.GetUtcNow();
    private readonly long _wallAnchorTicks = Stopwatch.GetTimestamp();

    public SignalPipeline(
        PipelineOptions options,
        IReadOnlyList<ChannelDescriptor> channels,
        IAnomalyScorer scorer,
        IEnumerable<IAlertNotifier>? notifiers = null,
        IEnumerable<ITelemetrySink>? telemetry = null,
        IEnumerable<ITrainingWindowSink>? training = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(scorer);
        var validation = new PipelineOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(validation.FailureMessage, nameof(options));
        }

        if (channels.Count == 0)
        {
            throw new ArgumentException("The pipeline needs at least one channel.", nameof(channels));
        }

        MathNet.Numerics.Control.UseSingleThread();
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger("FactoryEdge.Pipeline");
        _options = options;
        _channels = [.. channels];
        _scorer = scorer;
        _scoringWake = new ScoringWake(this);

        var bands = FeatureExtractorOptions.DefaultBands;
        _featureNames = FeatureSchema.Names(bands);
        var trainingSinks = training?.ToArray() ?? [];
        var keepSamples = trainingSinks.Length > 0;
        var featureCount = _featureNames.Length;
        var windowSize = options.WindowSize;

        var workerCount = Math.Min(options.EffectiveWorkers, _channels.Length);
        var perWorkerQueue = Math.Max(64, (_channels.Length / workerCount + 1) * 16);
        _workers = new PipelineWorker[workerCount];
        for (var w = 0; w < workerCount; w++)
        {
            _workers[w] = new PipelineWorker(w, perWorkerQueue, options.SinkFullMode == SinkFullMode.Wait, () => new WindowItem(featureCount, windowSize, keepSamples), _scoringWake, _logger);
        }

        // Scalar channels keep their latest reading; a speed channel (rpm or Hz) becomes the
        // tachometer of the waveform channels of its machine.
        _scalars = new ScalarCell?[_channels.Length];
        var tachometers = new Dictionary<string, ScalarCell>(StringComparer.Ordinal);
        for (var i = 0; i < _channels.Length; i++)
        {
            var descriptor = _channels[i];
            if (!(descriptor.SampleRateHz > 0) || !double.IsFinite(descriptor.SampleRateHz))
            {
                throw new ArgumentException($"Channel {descriptor.Id}: SampleRateHz must be a positive number (was {descriptor.SampleRateHz}).", nameof(channels));
            }

            if (descriptor.Kind == ChannelKind.Scalar)
            {
                var cell = new ScalarCell();
                _scalars[i] = cell;
                if (descriptor.Unit.IsSpeed())
                {
                    tachometers.TryAdd(descriptor.Id.MachineKey, cell);
                }
            }
            else if (!descriptor.Unit.IsVibration())
            {
                throw new ArgumentException($"Channel {descriptor.Id}: a waveform channel must be in a vibration unit (g, m/s², mm/s, µm), not {descriptor.Unit.Symbol()}; declare it as a scalar channel.", nameof(channels));
            }
        }

        _inputs = new ChannelInput[_channels.Length];
        for (var i = 0; i < _channels.Length; i++)
        {
            var descriptor = _channels[i];
            var worker = _workers[i % workerCount];
            if (_scalars[i] is { } cell)
            {
                _inputs[i] = new ChannelInput(i, descriptor, 1024, worker);
                worker.Add(new ChannelProcessor(_inputs[i], cell));
                continue;
            }

            var capacity = (int)Math.Min(1 << 26, Math.Max(windowSize * 2, descriptor.SampleRateHz * options.RingSeconds));
            _inputs[i] = new ChannelInput(i, descriptor, capacity, worker);
            tachometers.TryGetValue(descriptor.Id.MachineKey, out var tachometer);
            worker.Add(new ChannelProcessor(_inputs[i], options, bands, tachometer));
        }

        // Items in flight per worker: its ready queue plus what the scoring stage holds. Preallocate
        // them (fewer when each carries a raw-window copy for training sinks) so the pool never grows
        // in steady state.
        foreach (var worker in _workers)
        {
            worker.Preallocate(keepSamples ? Math.Min(32, perWorkerQueue) : perWorkerQueue + 16);
        }

        _batch = new ScoringBatch(Math.Max(16, _channels.Length * 4), featureCount);
        _pending = new WindowItem[_batch.Capacity];
        _alerts = new AlertEngine(options.Alerts, _channels.Length, _featureNames, scorer as IAlertExplainer);
        _scorer.Initialize(_channels, _featureNames);

        var capacityPerSink = options.SinkQueueCapacity;
        _notifiers = [.. (notifiers ?? []).Select(n => new BoundedDispatcher<Alert>(
            "alert-" + n.Name, capacityPerSink, options.SinkFullMode, static () => null!, n.NotifyAsync, _logger))];
        _telemetry = [.. (telemetry ?? []).Select(t => new BoundedDispatcher<SinkItem>(
            "telemetry-" + t.Name, capacityPerSink, options.SinkFullMode, () => new SinkItem(featureCount, windowSize, false),
            (item, ct) => t.WriteAsync(item.Result, ct), _logger))];
        _training = [.. trainingSinks.Select(t => new BoundedDispatcher<SinkItem>(
            "training-" + t.Name, capacityPerSink, options.SinkFullMode, () => new SinkItem(featureCount, windowSize, true),
            (item, ct) => t.WriteAsync(item.Result, item.Samples, ct), _logger))];
        TelemetrySinks = [.. telemetry ?? []];
        _scoringThread = new Thread(RunScoring) { IsBackground = true, Name = "fe-scoring" };
    }

    /// <summary>One writer per channel, in the order the channels were given.</summary>
    public IReadOnlyList<IChannelWriter> Writers => _inputs;

    public IReadOnlyList<ChannelDescriptor> Channels => _channels;

    public IReadOnlyList<string> FeatureNames => _featureNames;

    public PipelineOptions Options => _options;

    public string ModelId => _scorer.ModelId;

    /// <summary>Window complete → alert stage done (alert handed to the notifier queues, or none needed).</summary>
    public LatencyHistogram CompleteToDispatched { get; } = new();

    /// <summary>Last sample of the window received from the source → alert stage done.</summary>
    public LatencyHistogram ReceivedToDispatched { get; } = new();

    /// <summary>Window complete → features done.</summary>
    public LatencyHistogram FeatureLatency { get; } = new();

    private IReadOnlyList<ITelemetrySink> TelemetrySinks { get; }

    public long WindowsProcessed => Interlocked.Read(ref _windows);

    public long AlertsRaised => Interlocked.Read(ref _alertsRaised);

    /// <summary>
    /// Stopwatch ticks of the most recent loop of the slowest pipeline thread. A watchdog compares it
    /// with now: a stalled thread stops advancing it, while idle threads still loop every 50–100 ms.
    /// </summary>
    public long LivenessTicks
    {
        get
        {
            var oldest = Volatile.Read(ref _lastScoringLoopTicks);
            foreach (var w in _workers)
            {
                oldest = Math.Min(oldest, w.LastLoopTicks);
            }

            return oldest;
        }
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The pipeline has already been started.");
        }

        Volatile.Write(ref _lastScoringLoopTicks, Stopwatch.GetTimestamp());
        foreach (var d in _notifiers)
        {
            d.Start();
        }

        foreach (var d in _telemetry)
        {
            d.Start();
        }

        foreach (var d in _training)
        {
            d.Start();
        }

        _scoringThread.Start();
        foreach (var w in _workers)
        {
            w.Start();
        }

        LogStarted(_logger, _channels.Length, _workers.Length, _options.WindowSize, _options.Hop, _scorer.ModelId);
    }

    /// <summary>
    /// Processes everything already written, delivers it to the sinks and stops. Call after the
    /// sources have stopped writing.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _started) == 0 || Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        foreach (var w in _workers)
        {
            w.Stop();
        }

        _stopping = true;
        Wake();
        _scoringThread.Join();
        var timeout = TimeSpan.FromSeconds(30);
        foreach (var d in _notifiers)
        {
            d.Complete(timeout);
        }

        foreach (var d in _telemetry)
        {
            d.Complete(timeout);
        }

        foreach (var d in _training)
        {
            d.Complete(timeout);
        }

        foreach (var sink in TelemetrySinks)
        {
            await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>
    /// The latest reading of a scalar channel (speed channels in Hz) and its source time; false for a
    /// waveform channel or before the first reading.
    /// </summary>
    public bool TryGetLatestScalar(int channelIndex, out double value, out DateTimeOffset sourceTime)
    {
        if (_scalars[channelIndex] is { } cell && cell.TryGet(out value, out var ticks))
        {
            sourceTime = new DateTimeOffset(ticks, TimeSpan.Zero);
            return true;
        }

        value = double.NaN;
        sourceTime = default;
        return false;
    }

    /// <summary>A consistent-enough snapshot of the counters.</summary>
    public PipelineStatistics GetStatistics()
    {
        var channels = new ChannelStatistics[_inputs.Length];
        foreach (var worker in _workers)
        {
            foreach (var p in worker.Channels)
            {
                var input = p.Input;
                channels[input.Index] = new ChannelStatistics(
                    input.Descriptor.Id, p.Windows, input.Blocks, input.DroppedBlocks, input.DroppedSamples,
                    p.Assembler?.Gaps ?? 0, p.Assembler?.MissedSamples ?? 0, p.Assembler?.RepeatedSamples ?? 0)
                {
                    Samples = input.AcceptedSamples,
                    LastReceivedTicks = input.LastReceivedTicks,
                };
            }
        }

        long droppedWindows = 0, failedWindows = 0, poolGrowth = 0, workerBytes = 0, extractorBytes = 0;
        foreach (var w in _workers)
        {
            droppedWindows += w.DroppedWindows;
            failedWindows += w.FailedWindows;
            poolGrowth += w.PoolGrowth;
            workerBytes += w.AllocatedBytes;
            extractorBytes += w.ExtractorAllocatedBytes;
        }

        var allocation = new AllocationStatistics(extractorBytes, workerBytes - extractorBytes, Volatile.Read(ref _scoringAllocatedBytes));

        var sinks = _notifiers.Select(Stats).Concat(_telemetry.Select(Stats)).Concat(_training.Select(Stats)).ToArray();
        return new PipelineStatistics(WindowsProcessed, Interlocked.Read(ref _scored), AlertsRaised, droppedWindows, failedWindows, poolGrowth, channels, sinks, allocation);

        static SinkStatistics Stats<T>(BoundedDispatcher<T> d)
            where T : class => new(d.Name, d.Posted, d.Handled, d.Dropped, d.Failed, d.Depth, d.Capacity);
    }

    private void Wake()
    {
        if (!_wake.IsSet)
        {
            _wake.Set();
        }
    }

    private void RunScoring()
    {
        try
        {
            while (true)
            {
                Volatile.Write(ref _lastScoringLoopTicks, Stopwatch.GetTimestamp());
                _wake.Wait(50);
                _wake.Reset();
                var stopping = _stopping; // read before draining: everything written before Stop is seen
                var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                while (ScoreTick())
                {
                }

                Volatile.Write(ref _scoringAllocatedBytes, _scoringAllocatedBytes + (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore));

                if (stopping)
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            LogScoringCrashed(_logger, ex);
            throw;
        }
    }

    /// <summary>One tick: takes what the workers finished, scores it as one batch, runs alert rules and fans out.</summary>
    private bool ScoreTick()
    {
        var count = 0;
        var batch = _batch;
        batch.Clear();
        foreach (var worker in _workers)
        {
            while (count < _pending.Length && worker.Ready.TryDequeue(out var item))
            {
                _pending[count++] = item;
            }
        }

        if (count == 0)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            var result = _pending[i].Result;
            if (!result.Health.ExcludesWindow() && result.MachineState != MachineState.Stopped)
            {
                batch.Add(i, result.Features);
            }
        }

        if (batch.Count > 0)
        {
            // The scorer sees channel indices; map rows back to pending items afterwards.
            var rows = batch.Count;
            Span<int> pendingIndex = stackalloc int[rows];
            for (var r = 0; r < rows; r++)
            {
                pendingIndex[r] = batch.ChannelIndices[r];
                batch.ChannelIndices[r] = _pending[pendingIndex[r]].Result.ChannelIndex;
            }

            try
            {
                _scorer.Score(batch);
            }
            catch (Exception ex)
            {
                // A failing model must not stop monitoring: the windows stay unscored and counted.
                LogScorerFailed(_logger, _scorer.ModelId, ex);
                for (var r = 0; r < rows; r++)
                {
                    batch.Scores[r] = float.NaN;
                }
            }

            for (var r = 0; r < rows; r++)
            {
                var result = _pending[pendingIndex[r]].Result;
                result.Score = batch.Scores[r];
                result.Threshold = batch.Thresholds[r];
                result.WarmingUp = batch.WarmingUp[r];
                result.Anomalous = !result.WarmingUp && float.IsFinite(result.Score) && result.Score > result.Threshold;
            }

            Interlocked.Add(ref _scored, rows);
        }

        var scoredTicks = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var item = _pending[i];
            _pending[i] = null!;
            var result = item.Result;
            result.Timestamps.ScoredTicks = scoredTicks;
            var alert = _alerts.Evaluate(result, _scorer.ModelId);
            if (alert is not null)
            {
                var now = Stopwatch.GetTimestamp();
                alert = alert with
                {
                    ProcessingLatencyMicroseconds = (now - result.Timestamps.CompleteTicks) * 1e6 / Stopwatch.Frequency,
                    WindowCompleteTimestamp = result.Timestamps.CompleteTicks,
                    WindowCompleteTime = WallClock(result.Timestamps.CompleteTicks),
                    ScoredTime = WallClock(scoredTicks),
                };
                if (alert.State == AlertState.Raised)
                {
                    Interlocked.Increment(ref _alertsRaised);
                }

                foreach (var notifier in _notifiers)
                {
                    notifier.Post(alert);
                }

                LogAlert(_logger, alert.State, alert.Severity, alert.Channel.ToString(), alert.Score, alert.AlertId);
            }

            var done = Stopwatch.GetTimestamp();
            result.Timestamps.AlertDispatchedTicks = done;
            CompleteToDispatched.RecordTicks(done - result.Timestamps.CompleteTicks);
            ReceivedToDispatched.RecordTicks(done - result.Timestamps.ReceivedTicks);
            FeatureLatency.RecordTicks(result.Timestamps.FeaturesDoneTicks - result.Timestamps.CompleteTicks);

            foreach (var sink in _telemetry)
            {
                var copy = sink.Rent();
                result.CopyTo(copy.Result);
                sink.Post(copy);
            }

            if (item.Samples is { } samples)
            {
                foreach (var sink in _training)
                {
                    var copy = sink.Rent();
                    result.CopyTo(copy.Result);
                    samples.AsSpan().CopyTo(copy.Samples);
                    sink.Post(copy);
                }
            }

            Interlocked.Increment(ref _windows);
            _workers[item.WorkerIndex].Recycle(item);
        }

        return true;
    }

    /// <summary>Stopwatch ticks → wall clock, anchored once at construction (alert stage timestamps).</summary>
    private DateTimeOffset WallClock(long stopwatchTicks) =>
        _wallAnchorUtc.AddTicks((long)((stopwatchTicks - _wallAnchorTicks) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));

    private sealed class ScoringWake(SignalPipeline pipeline) : IWakeable
    {
        public void Wake() => pipeline.Wake();
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Pipeline started: {Channels} channels on {Workers} workers, window {WindowSize} hop {Hop}, scorer {ModelId}")]
    private static partial void LogStarted(ILogger logger, int channels, int workers, int windowSize, int hop, string modelId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Alert {State} {Severity} on {Channel}: score {Score}, id {AlertId}")]
    private static partial void LogAlert(ILogger logger, AlertState state, AlertSeverity severity, string channel, float score, string alertId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Scorer {ModelId} failed on a batch; those windows stay unscored")]
    private static partial void LogScorerFailed(ILogger logger, string modelId, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Critical, Message = "The scoring stage crashed")]
    private static partial void LogScoringCrashed(ILogger logger, Exception exception);
}

/// <summary>Counters of one channel.</summary>
public sealed record ChannelStatistics(ChannelId Channel, long Windows, long Blocks, long DroppedBlocks, long DroppedSamples, long Gaps, long MissedSamples, long RepeatedSamples)
{
    /// <summary>Samples accepted from the source.</summary>
    public long Samples { get; init; }

    /// <summary>Stopwatch ticks when the last block arrived (0 before the first): the last sample's age.</summary>
    public long LastReceivedTicks { get; init; }
}

/// <summary>Counters of one sink queue.</summary>
public sealed record SinkStatistics(string Name, long Posted, long Handled, long Dropped, long Failed, int Depth, int Capacity);

/// <summary>Counters of the whole pipeline.</summary>
public sealed record PipelineStatistics(
    long Windows, long Scored, long AlertsRaised, long DroppedWindows, long FailedWindows, long PoolGrowth,
    IReadOnlyList<ChannelStatistics> Channels, IReadOnlyList<SinkStatistics> Sinks, AllocationStatistics Allocation);

/// <summary>
/// Bytes allocated on the pipeline's own threads since start: inside feature extraction (MathNet's
/// FFT allocates per call) and everywhere else (rings, assembly, health, scoring, alert rules,
/// fan-out), which must stay at zero per window in steady state apart from pool warm-up and alerts.
/// </summary>
public sealed record AllocationStatistics(long ExtractorBytes, long WorkerBytes, long ScoringBytes)
{
    /// <summary>Everything the pipeline's threads allocated outside feature extraction.</summary>
    public long PipelineBytes => WorkerBytes + ScoringBytes;
}
