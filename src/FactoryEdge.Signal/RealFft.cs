using System.Numerics;

namespace FactoryEdge.Signal;

/// <summary>
/// Forward FFT of a real sequence of length N through a complex engine of length N/2 (the even samples
/// go into the real parts, the odd ones into the imaginary parts, and one split pass separates them).
/// Half the work of a complex transform of the same length, no allocation per call.
/// </summary>
internal sealed class RealFft
{
    private readonly IFftEngine _engine;
    private readonly Complex[] _twiddles;

    public RealFft(int length, Func<int, IFftEngine> engineFactory)
    {
        if (length < 4 || !BitOperations.IsPow2(length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Real FFT length must be a power of two ≥ 4.");
        }

        Length = length;
        _engine = engineFactory(length / 2);
        if (_engine.Length != length / 2)
        {
            throw new InvalidOperationException($"FFT engine returned length {_engine.Length}, expected {length / 2}.");
        }

        _twiddles = new Complex[length / 2];
        for (var k = 0; k < _twiddles.Length; k++)
        {
            var angle = -2.0 * Math.PI * k / length;
            _twiddles[k] = new Complex(Math.Cos(angle), Math.Sin(angle));
        }
    }

    /// <summary>Real input length N.</summary>
    public int Length { get; }

    /// <summary>Number of one-sided spectrum bins, N/2 + 1 (DC … Nyquist).</summary>
    public int SpectrumLength => (Length / 2) + 1;

    /// <summary>
    /// The packed input: element m holds sample 2m in its real part and sample 2m+1 in its imaginary
    /// part. Callers fill it, then call <see cref="Execute"/>.
    /// </summary>
    public Span<Complex> PackedInput => _engine.Buffer;

    /// <summary>Packs a real signal (optionally minus an offset) and transforms it.</summary>
    public void Forward(ReadOnlySpan<float> signal, double offset, Span<Complex> spectrum)
    {
        if (signal.Length != Length)
        {
            throw new ArgumentException($"Expected {Length} samples, got {signal.Length}.", nameof(signal));
        }

        var packed = _engine.Buffer;
        for (var m = 0; m < packed.Length; m++)
        {
            packed[m] = new Complex(signal[2 * m] - offset, signal[(2 * m) + 1] - offset);
        }

        Execute(spectrum);
    }

    /// <summary>Transforms <see cref="PackedInput"/> into the one-sided spectrum X[0..N/2] (unscaled).</summary>
    public void Execute(Span<Complex> spectrum)
    {
        if (spectrum.Length < SpectrumLength)
        {
            throw new ArgumentException($"Spectrum needs {SpectrumLength} bins.", nameof(spectrum));
        }

        _engine.Forward();
        var z = _engine.Buffer;
        var half = z.Length;
        var z0 = z[0];
        spectrum[0] = new Complex(z0.Real + z0.Imaginary, 0);
        spectrum[half] = new Complex(z0.Real - z0.Imaginary, 0);
        for (var k = 1; k < half; k++)
        {
            var zk = z[k];
            var zc = Complex.Conjugate(z[half - k]);
            var even = (zk + zc) * 0.5;
            var diff = zk - zc;
            var odd = new Complex(diff.Imaginary * 0.5, -diff.Real * 0.5); // (zk − zc) / 2i
            spectrum[k] = even + (_twiddles[k] * odd);
        }
    }
}
