using System.Numerics;
using MathNet.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace FactoryEdge.Signal;

/// <summary>
/// A complex FFT of one fixed power-of-two length, in place on a buffer the engine owns. This is the
/// seam behind which MathNet.Numerics sits today; a faster transform replaces it by implementing this
/// interface and being returned from <see cref="FftEngines.Create"/>.
/// </summary>
/// <remarks>
/// Conventions (both unscaled): forward X[k] = Σ x[n]·e^(−2πi·kn/N); inverse x[n] = Σ X[k]·e^(+2πi·kn/N).
/// Implementations must not allocate per call beyond what the underlying library itself does.
/// </remarks>
internal interface IFftEngine
{
    /// <summary>Transform length (a power of two).</summary>
    int Length { get; }

    /// <summary>The work buffer the transforms run on, <see cref="Length"/> values.</summary>
    Span<Complex> Buffer { get; }

    /// <summary>Forward transform of <see cref="Buffer"/>, in place, unscaled.</summary>
    void Forward();

    /// <summary>Inverse transform of <see cref="Buffer"/>, in place, unscaled (no 1/N).</summary>
    void Inverse();
}

/// <summary>Creates the FFT engines the signal path uses.</summary>
internal static class FftEngines
{
    /// <summary>
    /// The default engine factory: the allocation-free <see cref="RadixTwoFftEngine"/> (MathNet's transform
    /// recomputes its twiddle factors and allocates on every call, which showed as GC pauses in the alert
    /// latency). <see cref="MathNetFftEngine"/> stays as the reference the tests compare with.
    /// </summary>
    public static Func<int, IFftEngine> Default { get; } = static length => new RadixTwoFftEngine(length);

    public static IFftEngine Create(int length) => Default(length);
}

/// <summary>
/// MathNet.Numerics radix-2 FFT on a preallocated buffer. MathNet is told to stay on the calling
/// thread (<see cref="Control.UseSingleThread"/>): the pipeline parallelises across channels, and
/// MathNet's own parallel loops would fight it for the two cores.
/// </summary>
internal sealed class MathNetFftEngine : IFftEngine
{
    private readonly Complex[] _buffer;

    static MathNetFftEngine()
    {
        Control.UseSingleThread();
    }

    public MathNetFftEngine(int length)
    {
        if (length < 2 || !BitOperations.IsPow2(length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "FFT length must be a power of two ≥ 2.");
        }

        _buffer = new Complex[length];
    }

    public int Length => _buffer.Length;

    public Span<Complex> Buffer => _buffer;

    public void Forward() => Fourier.Forward(_buffer, FourierOptions.NoScaling);

    public void Inverse() => Fourier.Inverse(_buffer, FourierOptions.NoScaling);
}

/// <summary>
/// Iterative radix-2 decimation-in-time FFT with its bit-reversal permutation and twiddle factors
/// computed once per length: nothing is allocated per transform. Same conventions as
/// <see cref="IFftEngine"/> (unscaled both ways); checked against MathNet and a naive DFT in the tests.
/// </summary>
internal sealed class RadixTwoFftEngine : IFftEngine
{
    private readonly Complex[] _buffer;
    private readonly double[] _cos;
    private readonly double[] _sin;
    private readonly int[] _swaps;

    public RadixTwoFftEngine(int length)
    {
        if (length < 2 || !BitOperations.IsPow2(length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "FFT length must be a power of two ≥ 2.");
        }

        _buffer = new Complex[length];
        _cos = new double[length / 2];
        _sin = new double[length / 2];
        for (var k = 0; k < _cos.Length; k++)
        {
            // e^(−2πi·k/N) = cos − i·sin; computed per k (no recurrence), so every factor is exact to rounding.
            (_sin[k], _cos[k]) = Math.SinCos(2.0 * Math.PI * k / length);
        }

        var bits = BitOperations.Log2((uint)length);
        var swaps = new List<int>();
        for (var i = 0; i < length; i++)
        {
            var j = (int)(ReverseBits((uint)i) >> (32 - bits));
            if (i < j)
            {
                swaps.Add(i);
                swaps.Add(j);
            }
        }

        _swaps = [.. swaps];
    }

    public int Length => _buffer.Length;

    public Span<Complex> Buffer => _buffer;

    public void Forward() => Transform(-1.0);

    public void Inverse() => Transform(1.0);

    private void Transform(double sign)
    {
        var data = _buffer.AsSpan();
        var swaps = _swaps;
        for (var k = 0; k < swaps.Length; k += 2)
        {
            (data[swaps[k]], data[swaps[k + 1]]) = (data[swaps[k + 1]], data[swaps[k]]);
        }

        var n = data.Length;
        var cos = _cos;
        var sin = _sin;
        for (var size = 2; size <= n; size <<= 1)
        {
            var half = size >> 1;
            var step = n / size;
            for (var start = 0; start < n; start += size)
            {
                for (int j = 0, t = 0; j < half; j++, t += step)
                {
                    var wr = cos[t];
                    var wi = sign * sin[t];
                    ref var a = ref data[start + j];
                    ref var b = ref data[start + j + half];
                    var br = (b.Real * wr) - (b.Imaginary * wi);
                    var bi = (b.Real * wi) + (b.Imaginary * wr);
                    var ar = a.Real;
                    var ai = a.Imaginary;
                    a = new Complex(ar + br, ai + bi);
                    b = new Complex(ar - br, ai - bi);
                }
            }
        }
    }

    private static uint ReverseBits(uint v)
    {
        v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
        v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
        v = ((v >> 4) & 0x0F0F0F0Fu) | ((v & 0x0F0F0F0Fu) << 4);
        v = ((v >> 8) & 0x00FF00FFu) | ((v & 0x00FF00FFu) << 8);
        return (v >> 16) | (v << 16);
    }
}
