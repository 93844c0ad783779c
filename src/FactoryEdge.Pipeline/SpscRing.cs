using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FactoryEdge.Pipeline;

/// <summary>
/// A bounded single-producer/single-consumer ring of unmanaged values. Lock-free: the producer only
/// writes the tail, the consumer only writes the head, each published with a release store and read
/// with an acquire load. Capacity is a power of two. Writes are all-or-nothing.
/// </summary>
internal sealed class SpscRing<T>
    where T : unmanaged
{
    private readonly T[] _buffer;
    private readonly int _mask;
    private PaddedLong _head; // next index to read (consumer owned)
    private PaddedLong _tail; // next index to write (producer owned)

    public SpscRing(int minimumCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumCapacity, 2);
        var capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)minimumCapacity);
        _buffer = new T[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _buffer.Length;

    /// <summary>Items available to read (consumer view; exact on the consumer thread).</summary>
    public int Count => (int)(Volatile.Read(ref _tail.Value) - Volatile.Read(ref _head.Value));

    /// <summary>Room for writing (producer view; exact on the producer thread).</summary>
    public int FreeCount => Capacity - Count;

    /// <summary>Writes all of <paramref name="items"/> or nothing.</summary>
    public bool TryWrite(ReadOnlySpan<T> items)
    {
        var tail = _tail.Value; // only the producer writes the tail
        var head = Volatile.Read(ref _head.Value);
        if (items.Length > Capacity - (int)(tail - head))
        {
            return false;
        }

        var start = (int)(tail & _mask);
        var first = Math.Min(items.Length, _buffer.Length - start);
        items[..first].CopyTo(_buffer.AsSpan(start, first));
        if (first < items.Length)
        {
            items[first..].CopyTo(_buffer.AsSpan(0, items.Length - first));
        }

        Volatile.Write(ref _tail.Value, tail + items.Length);
        return true;
    }

    /// <summary>Writes one item.</summary>
    public bool TryWrite(in T item)
    {
        var tail = _tail.Value;
        if (tail - Volatile.Read(ref _head.Value) >= Capacity)
        {
            return false;
        }

        _buffer[(int)(tail & _mask)] = item;
        Volatile.Write(ref _tail.Value, tail + 1);
        return true;
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length items; returns how many.</summary>
    public int Read(Span<T> destination)
    {
        var head = _head.Value;
        var available = (int)(Volatile.Read(ref _tail.Value) - head);
        var n = Math.Min(available, destination.Length);
        if (n == 0)
        {
            return 0;
        }

        var start = (int)(head & _mask);
        var first = Math.Min(n, _buffer.Length - start);
        _buffer.AsSpan(start, first).CopyTo(destination);
        if (first < n)
        {
            _buffer.AsSpan(0, n - first).CopyTo(destination[first..]);
        }

        Volatile.Write(ref _head.Value, head + n);
        return n;
    }

    /// <summary>Reads one item.</summary>
    public bool TryRead(out T item)
    {
        var head = _head.Value;
        if (Volatile.Read(ref _tail.Value) == head)
        {
            item = default;
            return false;
        }

        item = _buffer[(int)(head & _mask)];
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }

    /// <summary>Contiguous readable segments without consuming (consumer only); follow with <see cref="Advance"/>.</summary>
    public void Peek(int count, out ReadOnlySpan<T> first, out ReadOnlySpan<T> second)
    {
        var head = _head.Value;
        var available = (int)(Volatile.Read(ref _tail.Value) - head);
        if (count > available)
        {
            throw new InvalidOperationException($"Peek of {count} items with only {available} available.");
        }

        var start = (int)(head & _mask);
        var n1 = Math.Min(count, _buffer.Length - start);
        first = _buffer.AsSpan(start, n1);
        second = _buffer.AsSpan(0, count - n1);
    }

    public void Advance(int count) => Volatile.Write(ref _head.Value, _head.Value + count);
}

/// <summary>A bounded single-producer/single-consumer queue of references (lock-free).</summary>
internal sealed class SpscQueue<T>
    where T : class
{
    private readonly T?[] _buffer;
    private readonly int _mask;
    private PaddedLong _head;
    private PaddedLong _tail;

    public SpscQueue(int minimumCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumCapacity, 2);
        var capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)minimumCapacity);
        _buffer = new T?[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _buffer.Length;

    public int Count => (int)(Volatile.Read(ref _tail.Value) - Volatile.Read(ref _head.Value));

    public bool TryEnqueue(T item)
    {
        var tail = _tail.Value;
        if (tail - Volatile.Read(ref _head.Value) >= _buffer.Length)
        {
            return false;
        }

        _buffer[(int)(tail & _mask)] = item;
        Volatile.Write(ref _tail.Value, tail + 1);
        return true;
    }

    public bool TryDequeue([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        var head = _head.Value;
        if (Volatile.Read(ref _tail.Value) == head)
        {
            item = null;
            return false;
        }

        ref var slot = ref _buffer[(int)(head & _mask)];
        item = slot!;
        slot = null;
        Volatile.Write(ref _head.Value, head + 1);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsEmpty() => Volatile.Read(ref _tail.Value) == Volatile.Read(ref _head.Value);
}

/// <summary>A long on its own cache line, so producer and consumer indices never share one.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedLong
{
    [FieldOffset(64)]
    public long Value;
}
