using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>A pooled unit of work: a window's result, and its raw samples when training sinks want them.</summary>
internal sealed class WindowItem
{
    public WindowItem(int featureCount, int windowSize, bool keepSamples)
    {
        Result = new WindowResult(featureCount);
        Samples = keepSamples ? new float[windowSize] : null;
    }

    public WindowResult Result { get; }

    public float[]? Samples { get; }

    /// <summary>The worker that owns this item (it goes back to that worker's pool).</summary>
    public int WorkerIndex { get; set; }

    /// <summary>Speed (Hz) the features tracked, for the machine-state detector; NaN if unknown.</summary>
    public double SpeedHz { get; set; }
}

/// <summary>A result copy owned by one sink until its handler returns.</summary>
internal sealed class SinkItem
{
    public SinkItem(int featureCount, int windowSize, bool keepSamples)
    {
        Result = new WindowResult(featureCount);
        Samples = keepSamples ? new float[windowSize] : null;
    }

    public WindowResult Result { get; }

    public float[]? Samples { get; }
}
