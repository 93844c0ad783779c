using System.Numerics;
using System.Runtime.InteropServices;

namespace FactoryEdge.Signal;

/// <summary>
/// Anti-aliased decimation of a continuous stream: a linear-phase FIR low-pass evaluated only at the
/// kept output instants (every <see cref="Factor"/>-th input), with the filter history carried from
/// one block to the next, so blocks of any length give the same output as one long block.
/// </summary>
internal sealed class StreamingDecimator
{
    private readonly float[] _taps;
    private readonly float[] _buffer;
    private readonly int _maxChunk;
    private int _count;
    private int _next;

    public StreamingDecimator(float[] taps, int factor, int maxChunk)
    {
        ArgumentNullException.ThrowIfNull(taps);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunk, 1);
        _taps = taps;
        Factor = factor;
        _maxChunk = maxChunk;
        _buffer = new float[taps.Length - 1 + maxChunk];
        Reset();
    }

    public int Factor { get; }

    public int TapCount => _taps.Length;

    /// <summary>Output capacity needed for an input block of <paramref name="inputLength"/> samples.</summary>
    public int MaxOutput(int inputLength) => (inputLength / Factor) + 1;

    public void Reset()
    {
        _count = 0;
        _next = _taps.Length - 1; // the first output needs a full filter history
    }

    /// <summary>Pushes samples; writes the decimated outputs and returns how many.</summary>
    public int Process(ReadOnlySpan<float> input, Span<float> output)
    {
        var written = 0;
        var keep = _taps.Length - 1;
        while (!input.IsEmpty)
        {
            var take = Math.Min(input.Length, _maxChunk);
            input[..take].CopyTo(_buffer.AsSpan(_count));
            _count += take;
            input = input[take..];
            while (_next < _count)
            {
                output[written++] = Dot(_buffer.AsSpan(_next - keep, _taps.Length), _taps);
                _next += Factor;
            }

            if (_count > keep)
            {
                var shift = _count - keep;
                _buffer.AsSpan(shift, keep).CopyTo(_buffer);
                _count = keep;
                _next -= shift;
            }
        }

        return written;
    }

    /// <summary>SIMD dot product.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count * 2)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var acc0 = Vector<float>.Zero;
            var acc1 = Vector<float>.Zero;
            var v = 0;
            for (; v + 1 < va.Length; v += 2)
            {
                acc0 += va[v] * vb[v];
                acc1 += va[v + 1] * vb[v + 1];
            }

            for (; v < va.Length; v++)
            {
                acc0 += va[v] * vb[v];
            }

            sum = Vector.Sum(acc0 + acc1);
            i = va.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
