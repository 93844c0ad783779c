namespace FactoryEdge.Pipeline.Tests;

public sealed class SpscRingTests
{
    [Fact]
    public void TryWrite_MoreThanFree_WritesNothing()
    {
        var ring = new SpscRing<float>(8);
        Assert.True(ring.TryWrite([1f, 2f, 3f, 4f, 5f, 6f]));
        Assert.False(ring.TryWrite([7f, 8f, 9f]));
        Assert.Equal(6, ring.Count);
    }

    [Fact]
    public void ReadWrite_AcrossWrapAround_KeepsOrder()
    {
        var ring = new SpscRing<float>(8);
        var next = 0f;
        var expected = 0f;
        var buffer = new float[5];
        for (var round = 0; round < 100; round++)
        {
            var block = new float[(round % 5) + 1];
            for (var i = 0; i < block.Length; i++)
            {
                block[i] = next++;
            }

            Assert.True(ring.TryWrite(block));
            var n = ring.Read(buffer);
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(expected++, buffer[i]);
            }
        }

        while (ring.Read(buffer) is var n && n > 0)
        {
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(expected++, buffer[i]);
            }
        }

        Assert.Equal(next, expected);
    }

    [Fact]
    public void ProducerAndConsumerThreads_MillionItems_ArriveInOrderWithoutLoss()
    {
        var ring = new SpscRing<long>(1024);
        const long Total = 1_000_000;
        var producer = new Thread(() =>
        {
            Span<long> chunk = stackalloc long[7];
            long value = 0;
            while (value < Total)
            {
                var n = (int)Math.Min(chunk.Length, Total - value);
                for (var i = 0; i < n; i++)
                {
                    chunk[i] = value + i;
                }

                while (!ring.TryWrite(chunk[..n]))
                {
                    Thread.SpinWait(10);
                }

                value += n;
            }
        });
        producer.Start();
        long expected = 0;
        var buffer = new long[13];
        var bad = 0L;
        while (expected < Total)
        {
            var n = ring.Read(buffer);
            for (var i = 0; i < n; i++)
            {
                if (buffer[i] != expected++)
                {
                    bad++;
                }
            }
        }

        producer.Join();
        Assert.Equal(0, bad);
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void SpscQueue_FullQueue_RefusesAndKeepsOrder()
    {
        var queue = new SpscQueue<string>(4);
        Assert.True(queue.TryEnqueue("a"));
        Assert.True(queue.TryEnqueue("b"));
        Assert.True(queue.TryEnqueue("c"));
        Assert.True(queue.TryEnqueue("d"));
        Assert.False(queue.TryEnqueue("e"));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal("a", first);
        Assert.True(queue.TryEnqueue("e"));
        var rest = new List<string>();
        while (queue.TryDequeue(out var item))
        {
            rest.Add(item);
        }

        Assert.Equal(["b", "c", "d", "e"], rest);
    }
}
