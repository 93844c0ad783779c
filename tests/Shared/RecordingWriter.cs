using FactoryEdge.Core;

namespace FactoryEdge.Tests.Shared;

/// <summary>One block a source wrote, as a <see cref="RecordingWriter"/> keeps it.</summary>
internal sealed record RecordedBlock(float[] Samples, long Index, long Ticks, SampleQuality Quality, ClockQuality Clock)
{
    public long FirstSampleIndex => Index;

    public long SourceTimestampTicks => Ticks;

    public void Deconstruct(out float[] samples, out long index, out SampleQuality quality, out ClockQuality clock)
    {
        samples = Samples;
        index = Index;
        quality = Quality;
        clock = Clock;
    }

    public void Deconstruct(out float[] samples, out long index)
    {
        samples = Samples;
        index = Index;
    }
}

/// <summary>
/// A channel writer for tests of sources: records every block (a copy of its samples, its index,
/// source time, quality and clock quality) and where gaps were marked. Thread-safe; the lists it
/// returns are snapshots.
/// </summary>
internal sealed class RecordingWriter(ChannelDescriptor descriptor) : IChannelWriter
{
    private readonly Lock _lock = new();
    private readonly List<RecordedBlock> _blocks = [];
    private readonly List<int> _gapsBefore = [];

    public ChannelDescriptor Descriptor { get; } = descriptor;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _blocks.Count;
            }
        }
    }

    public List<RecordedBlock> Blocks
    {
        get
        {
            lock (_lock)
            {
                return [.. _blocks];
            }
        }
    }

    /// <summary>Number of blocks written before each MarkGap call.</summary>
    public List<int> GapsBefore
    {
        get
        {
            lock (_lock)
            {
                return [.. _gapsBefore];
            }
        }
    }

    public bool TryWrite(in SampleBlock block)
    {
        var recorded = new RecordedBlock(block.Samples.ToArray(), block.FirstSampleIndex, block.SourceTimestampTicks, block.Quality, block.Clock);
        lock (_lock)
        {
            _blocks.Add(recorded);
        }

        return true;
    }

    public void Write(in SampleBlock block, CancellationToken cancellationToken) => TryWrite(block);

    public void MarkGap()
    {
        lock (_lock)
        {
            _gapsBefore.Add(_blocks.Count);
        }
    }
}
