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
    /// <summary>The default engine factory (MathNet.Numerics).</summary>
    public static Func<int, IFftEngine> Default { get; } = static length => new MathNetFftEngine(length);

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
