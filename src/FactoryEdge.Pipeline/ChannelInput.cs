using System.Diagnostics;
using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>Header of a block in the ring: where its samples sit in the channel's sequence.</summary>
internal struct BlockHeader
{
    public long FirstSampleIndex;
    public int Count;
    public long SourceTimestampTicks;
    public long ReceivedTicks;
    public SampleQuality Quality;
    public ClockQuality Clock;
    public bool GapBefore;
}

/// <summary>
/// The producer side of one channel: a lock-free SPSC ring of samples plus a ring of block headers.
/// The source thread writes; one pipeline worker reads. Nothing here blocks the producer unless it
/// asks to wait (<see cref="Write"/>, used for replays that must lose nothing).
/// </summary>
internal sealed class ChannelInput : IChannelWriter
{
    private readonly SpscRing<float> _samples;
    private readonly SpscRing<BlockHeader> _headers;
    private readonly IWakeable _consumer;
    private volatile bool _gapPending;
    private long _droppedBlocks;
    private long _droppedSamples;
    private long _blocks;
    private long _acceptedSamples;
    private long _lastReceivedTicks;

    public ChannelInput(int index, ChannelDescriptor descriptor, int sampleCapacity, IWakeable consumer)
    {
        Index = index;
        Descriptor = descriptor;
        _samples = new SpscRing<float>(sampleCapacity);
        _headers = new SpscRing<BlockHeader>(Math.Max(64, _samples.Capacity / 64));
        _consumer = consumer;
    }

    public int Index { get; }

    public ChannelDescriptor Descriptor { get; }

    public int SampleCapacity => _samples.Capacity;

    public long DroppedBlocks => Interlocked.Read(ref _droppedBlocks);

    public long DroppedSamples => Interlocked.Read(ref _droppedSamples);

    public long Blocks => Interlocked.Read(ref _blocks);

    /// <summary>Samples accepted into the ring (for samples/s metrics).</summary>
    public long AcceptedSamples => Interlocked.Read(ref _acceptedSamples);

    /// <summary>Stopwatch ticks when the last block was accepted (0 before the first).</summary>
    public long LastReceivedTicks => Volatile.Read(ref _lastReceivedTicks);

    internal SpscRing<float> Samples => _samples;

    internal SpscRing<BlockHeader> Headers => _headers;

    public bool TryWrite(in SampleBlock block)
    {
        if (block.Samples.IsEmpty)
        {
            return true;
        }

        if (block.Samples.Length > _samples.FreeCount || _headers.FreeCount == 0)
        {
            Interlocked.Increment(ref _droppedBlocks);
            Interlocked.Add(ref _droppedSamples, block.Samples.Length);
            _gapPending = true;
            _consumer.Wake();
            return false;
        }

        Publish(block.Samples, block.FirstSampleIndex, block.SourceTimestampTicks, block.Quality, block.Clock);
        return true;
    }

    public void Write(in SampleBlock block, CancellationToken cancellationToken)
    {
        var samples = block.Samples;
        var chunk = Math.Max(1, _samples.Capacity / 2);
        var offset = 0;
        while (offset < samples.Length)
        {
            var n = Math.Min(chunk, samples.Length - offset);
            var spin = default(SpinWait);
            while (n > _samples.FreeCount || _headers.FreeCount == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _consumer.Wake();
                spin.SpinOnce(sleep1Threshold: 20);
            }

            var ticks = block.SourceTimestampTicks + (long)(offset * TimeSpan.TicksPerSecond / Descriptor.SampleRateHz);
            Publish(samples.Slice(offset, n), block.FirstSampleIndex + offset, ticks, block.Quality, block.Clock);
            offset += n;
        }
    }

    public void MarkGap()
    {
        _gapPending = true;
        _consumer.Wake();
    }

    private void Publish(ReadOnlySpan<float> samples, long firstIndex, long sourceTicks, SampleQuality quality, ClockQuality clock)
    {
        var gap = _gapPending;
        if (gap)
        {
            _gapPending = false;
        }

        // Samples first, then the header that makes them visible to the consumer.
        _samples.TryWrite(samples);
        var header = new BlockHeader
        {
            FirstSampleIndex = firstIndex,
            Count = samples.Length,
            SourceTimestampTicks = sourceTicks,
            ReceivedTicks = Stopwatch.GetTimestamp(),
            Quality = quality,
            Clock = clock,
            GapBefore = gap,
        };
        _headers.TryWrite(header);
        Interlocked.Increment(ref _blocks);
        Interlocked.Add(ref _acceptedSamples, samples.Length);
        Volatile.Write(ref _lastReceivedTicks, header.ReceivedTicks);
        _consumer.Wake();
    }
}

/// <summary>Something that sleeps until producers have work for it.</summary>
internal interface IWakeable
{
    void Wake();
}
