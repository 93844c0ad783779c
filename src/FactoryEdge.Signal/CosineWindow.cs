using System.Numerics;

namespace FactoryEdge.Signal;

/// <summary>
/// A periodic (DFT-even) cosine-sum window w[n] = Σ_m (−1)^m·a_m·cos(2π·m·n/N). Hann and flat-top are
/// both of this family, so a windowed spectrum is a short convolution of the rectangular spectrum:
/// X_w[k] = a_0·X[k] + Σ_{m≥1} (−1)^m·(a_m/2)·(X[k−m] + X[k+m]). One rectangular FFT per window
/// then serves both the windowed analysis and the envelope demodulation.
/// </summary>
internal sealed class CosineWindow
{
    // Hann: 0.5 − 0.5·cos.
    private static readonly double[] HannCoefficients = [0.5, 0.5];

    // Five-term flat-top (the coefficients of MATLAB's flattopwin / SRS): scalloping loss < 0.01 dB,
    // so a sine anywhere between two bins reads its true amplitude.
    private static readonly double[] FlatTopCoefficients = [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368];

    private static readonly double[] RectangularCoefficients = [1.0];

    private readonly double[] _kernel; // signed convolution weights for offsets 0..J

    private CosineWindow(WindowFunction function, double[] coefficients)
    {
        Function = function;
        Coefficients = coefficients;
        _kernel = new double[coefficients.Length];
        _kernel[0] = coefficients[0];
        for (var m = 1; m < coefficients.Length; m++)
        {
            _kernel[m] = ((m & 1) == 1 ? -0.5 : 0.5) * coefficients[m];
        }

        CoherentGain = coefficients[0];
        var meanSquare = coefficients[0] * coefficients[0];
        for (var m = 1; m < coefficients.Length; m++)
        {
            meanSquare += 0.5 * coefficients[m] * coefficients[m];
        }

        MeanSquare = meanSquare;
    }

    public static CosineWindow Hann { get; } = new(WindowFunction.Hann, HannCoefficients);

    public static CosineWindow FlatTop { get; } = new(WindowFunction.FlatTop, FlatTopCoefficients);

    public static CosineWindow Rectangular { get; } = new(WindowFunction.Rectangular, RectangularCoefficients);

    public WindowFunction Function { get; }

    /// <summary>a_0, a_1, … (all positive; signs alternate in the window).</summary>
    public IReadOnlyList<double> Coefficients { get; }

    /// <summary>Mean of w[n] (= a_0): a sine of amplitude A shows |X_w| = A·N·CoherentGain/2.</summary>
    public double CoherentGain { get; }

    /// <summary>Mean of w[n]²; with <see cref="CoherentGain"/> it gives the noise bandwidth.</summary>
    public double MeanSquare { get; }

    /// <summary>Equivalent noise bandwidth in bins (1.5 for Hann, ≈3.77 for flat-top).</summary>
    public double NoiseBandwidthBins => MeanSquare / (CoherentGain * CoherentGain);

    /// <summary>Half-width of the main lobe in bins (2 for Hann, 5 for the flat-top).</summary>
    public int MainLobeHalfWidth => Coefficients.Count;

    public static CosineWindow For(WindowFunction function) => function switch
    {
        WindowFunction.Hann => Hann,
        WindowFunction.FlatTop => FlatTop,
        WindowFunction.Rectangular => Rectangular,
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown window function."),
    };

    /// <summary>w[n] of the periodic window of length <paramref name="length"/>.</summary>
    public double Value(int n, int length)
    {
        var w = Coefficients[0];
        for (var m = 1; m < Coefficients.Count; m++)
        {
            var term = Coefficients[m] * Math.Cos(2.0 * Math.PI * m * n / length);
            w += (m & 1) == 1 ? -term : term;
        }

        return w;
    }

    /// <summary>
    /// Windowed spectrum bin k from the one-sided rectangular spectrum X[0..N/2] of a real signal
    /// (the negative and above-Nyquist bins are the conjugate mirror images).
    /// </summary>
    public Complex Apply(ReadOnlySpan<Complex> oneSided, int k)
    {
        var result = _kernel[0] * oneSided[k];
        for (var m = 1; m < _kernel.Length; m++)
        {
            result += _kernel[m] * (Mirror(oneSided, k - m) + Mirror(oneSided, k + m));
        }

        return result;
    }

    /// <summary>
    /// |X_w[k]|² for every bin of the one-sided spectrum into <paramref name="power"/> (same length);
    /// interior bins without the mirror bookkeeping.
    /// </summary>
    public void ApplyPower(ReadOnlySpan<Complex> oneSided, Span<double> power)
    {
        var half = oneSided.Length - 1;
        var reach = _kernel.Length - 1;
        for (var k = 0; k <= half; k++)
        {
            Complex w;
            if (k < reach || k > half - reach)
            {
                w = Apply(oneSided, k);
            }
            else if (reach == 1)
            {
                var a = oneSided[k - 1];
                var b = oneSided[k];
                var c = oneSided[k + 1];
                w = new Complex(
                    (_kernel[0] * b.Real) + (_kernel[1] * (a.Real + c.Real)),
                    (_kernel[0] * b.Imaginary) + (_kernel[1] * (a.Imaginary + c.Imaginary)));
            }
            else
            {
                var re = _kernel[0] * oneSided[k].Real;
                var im = _kernel[0] * oneSided[k].Imaginary;
                for (var m = 1; m <= reach; m++)
                {
                    var a = oneSided[k - m];
                    var c = oneSided[k + m];
                    re += _kernel[m] * (a.Real + c.Real);
                    im += _kernel[m] * (a.Imaginary + c.Imaginary);
                }

                w = new Complex(re, im);
            }

            power[k] = (w.Real * w.Real) + (w.Imaginary * w.Imaginary);
        }
    }

    private static Complex Mirror(ReadOnlySpan<Complex> oneSided, int k)
    {
        var half = oneSided.Length - 1;
        if (k < 0)
        {
            return Complex.Conjugate(oneSided[-k]);
        }

        return k > half ? Complex.Conjugate(oneSided[(2 * half) - k]) : oneSided[k];
    }
}
