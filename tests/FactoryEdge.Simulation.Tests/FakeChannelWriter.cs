using FactoryEdge.Core;

namespace FactoryEdge.Simulation.Tests;

/// <summary>A block as a fake writer received it (samples copied).</summary>
internal sealed record ReceivedBlock(float[] Samples, long FirstSampleIndex, long SourceTimestampTicks, ClockQuality Clock, bool ViaTryWrite);

/// <summary>An <see cref="IChannelWriter"/> that keeps what it is given.</summary>
internal sealed class FakeChannelWriter(ChannelDescriptor descriptor) : IChannelWriter
{
    private readonly Lock _lock = new();
    private readonly List<ReceivedBlock> _blocks = [];

    public ChannelDescriptor Descriptor { get; } = descriptor;

    /// <summary>Whether TryWrite accepts (the ring has room).</summary>
    public volatile bool AcceptTryWrite = true;

    public Action<FakeChannelWriter>? AfterBlock { get; set; }

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

    public long SampleCount => Blocks.Sum(b => (long)b.Samples.Length);

    public float[] AllSamples() => [.. Blocks.SelectMany(b => b.Samples)];

    public bool TryWrite(in SampleBlock block)
    {
        if (!AcceptTryWrite)
        {
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
    }

    private void Add(in SampleBlock block, bool viaTryWrite)
    {
        lock (_lock)
        {
            _blocks.Add(new ReceivedBlock(block.Samples.ToArray(), block.FirstSampleIndex, block.SourceTimestampTicks, block.Clock, viaTryWrite));
        }

        AfterBlock?.Invoke(this);
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> (real time) until true or 10 s pass.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("Condition not reached in time.");
            }

            await Task.Delay(2);
        }
    }
}
