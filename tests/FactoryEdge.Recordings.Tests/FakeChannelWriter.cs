using FactoryEdge.Core;

namespace FactoryEdge.Recordings.Tests;

/// <summary>A block as a fake writer received it (samples copied).</summary>
internal sealed record ReceivedBlock(float[] Samples, long FirstSampleIndex, long SourceTimestampTicks, ClockQuality Clock, SampleQuality Quality, bool ViaTryWrite, int GapsBefore);

/// <summary>An <see cref="IChannelWriter"/> that keeps what it is given.</summary>
internal sealed class FakeChannelWriter(ChannelDescriptor descriptor) : IChannelWriter
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedBlock> _blocks = [];
    private int _gaps;

    public ChannelDescriptor Descriptor { get; } = descriptor;

    /// <summary>Whether TryWrite accepts (the ring has room).</summary>
    public bool AcceptTryWrite { get; set; } = true;

    /// <summary>Called after every accepted block, outside the lock (e.g. to cancel after N samples).</summary>
    public Action<FakeChannelWriter>? AfterBlock { get; set; }

    public int RejectedTryWrites { get; private set; }

    public int Gaps
    {
        get
        {
            lock (_lock)
            {
                return _gaps;
            }
        }
    }

    public IReadOnlyList<ReceivedBlock> Blocks
    {
        get
        {
            lock (_lock)
            {
                return [.. _blocks];
            }
        }
    }

    public long SampleCount
    {
        get
        {
            lock (_lock)
            {
                long n = 0;
                foreach (var b in _blocks)
                {
                    n += b.Samples.Length;
                }

                return n;
            }
        }
    }

    public bool TryWrite(in SampleBlock block)
    {
        if (!AcceptTryWrite)
        {
            RejectedTryWrites++;
            return false;
        }

        Add(block, viaTryWrite: true);
        return true;
    }

    public void Write(in SampleBlock block, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Add(block, viaTryWrite: false);
    }

    public void MarkGap()
    {
        lock (_lock)
        {
            _gaps++;
        }
    }

    public float[] AllSamples()
    {
        var result = new List<float>();
        foreach (var b in Blocks)
        {
            result.AddRange(b.Samples);
        }

        return [.. result];
    }

    private void Add(in SampleBlock block, bool viaTryWrite)
    {
        lock (_lock)
        {
            _blocks.Add(new ReceivedBlock(block.Samples.ToArray(), block.FirstSampleIndex, block.SourceTimestampTicks, block.Clock, block.Quality, viaTryWrite, _gaps));
        }

        AfterBlock?.Invoke(this);
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> (real time) until true or the timeout passes.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var limit = TimeSpan.FromSeconds(10);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (timeout ?? limit))
            {
                throw new TimeoutException("Condition not reached in time.");
            }

            await Task.Delay(2);
        }
    }
}
