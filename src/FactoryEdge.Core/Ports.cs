namespace FactoryEdge.Core;

/// <summary>Writes sample blocks of one channel into the pipeline. One producer thread per writer.</summary>
public interface IChannelWriter
{
    ChannelDescriptor Descriptor { get; }

    /// <summary>
    /// Writes a block without blocking. Returns false (and counts the drop) when the channel's ring
    /// has no room; the next accepted block is then seen as a gap.
    /// </summary>
    bool TryWrite(in SampleBlock block);

    /// <summary>
    /// Writes a block, waiting for room (replay of recordings, where the source may be slowed down
    /// but must not lose samples). Blocks larger than the ring are split.
    /// </summary>
    void Write(in SampleBlock block, CancellationToken cancellationToken);

    /// <summary>Marks a gap explicitly (reconnect, device restart): window assembly restarts.</summary>
    void MarkGap();
}

/// <summary>
/// A source of samples (an OPC UA server, Modbus devices, a recording, a simulator). It declares its
/// channels, then runs until cancelled (or, for a finite recording, until its data ends), writing
/// blocks through the writers it is given, one writer per declared channel in the same order.
/// </summary>
public interface ISensorSource
{
    string Name { get; }

    IReadOnlyList<ChannelDescriptor> Channels { get; }

    Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken);
}

/// <summary>
/// A batch of feature vectors from several channels scored together in one pipeline tick. The
/// scorer writes <see cref="Scores"/>, <see cref="Thresholds"/> and <see cref="WarmingUp"/>.
/// </summary>
public sealed class ScoringBatch
{
    private readonly float[] _features;

    public ScoringBatch(int capacity, int featureCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        Capacity = capacity;
        FeatureCount = featureCount;
        _features = new float[capacity * featureCount];
        ChannelIndices = new int[capacity];
        Scores = new float[capacity];
        Thresholds = new float[capacity];
        WarmingUp = new bool[capacity];
    }

    public int Capacity { get; }

    public int FeatureCount { get; }

    public int Count { get; private set; }

    public int[] ChannelIndices { get; }

    public float[] Scores { get; }

    public float[] Thresholds { get; }

    public bool[] WarmingUp { get; }

    /// <summary>All feature rows, row-major, <see cref="Count"/> × <see cref="FeatureCount"/> in use.</summary>
    public ReadOnlySpan<float> AllFeatures => _features.AsSpan(0, Count * FeatureCount);

    public ReadOnlySpan<float> Features(int row) => _features.AsSpan(row * FeatureCount, FeatureCount);

    public void Clear() => Count = 0;

    /// <summary>Adds a row; returns its index, or -1 when the batch is full.</summary>
    public int Add(int channelIndex, ReadOnlySpan<float> features)
    {
        if (Count == Capacity)
        {
            return -1;
        }

        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Length}.", nameof(features));
        }

        var row = Count++;
        features.CopyTo(_features.AsSpan(row * FeatureCount, FeatureCount));
        ChannelIndices[row] = channelIndex;
        Scores[row] = float.NaN;
        Thresholds[row] = float.NaN;
        WarmingUp[row] = false;
        return row;
    }
}

/// <summary>Scores feature vectors. Called from one pipeline thread; must not allocate per call.</summary>
public interface IAnomalyScorer
{
    /// <summary>Identity and version of the active model (goes into alerts).</summary>
    string ModelId { get; }

    /// <summary>Prepares for the pipeline's channels and feature schema (called once, before scoring).</summary>
    void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames);

    /// <summary>Scores every row of the batch.</summary>
    void Score(ScoringBatch batch);
}

/// <summary>
/// Implemented by scorers that can say why a window scored high. Called only when an alert is
/// raised or escalated (it may allocate), on the scoring thread, with the raising window's features.
/// </summary>
public interface IAlertExplainer
{
    AlertExplanation? Explain(int channelIndex, ReadOnlySpan<float> features);
}

/// <summary>Delivers alerts to people and systems (MQTT, webhooks, log).</summary>
public interface IAlertNotifier
{
    string Name { get; }

    ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken);
}

/// <summary>Receives per-window results (features, scores, health) for storage.</summary>
public interface ITelemetrySink
{
    string Name { get; }

    /// <summary>Takes a result. The instance is the sink's own copy until it returns.</summary>
    ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken);

    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>Receives raw windows (with their result) for model training upstream.</summary>
public interface ITrainingWindowSink
{
    string Name { get; }

    /// <summary>Takes a window. <paramref name="samples"/> is valid only until the call returns.</summary>
    ValueTask WriteAsync(WindowResult result, ReadOnlyMemory<float> samples, CancellationToken cancellationToken);
}
