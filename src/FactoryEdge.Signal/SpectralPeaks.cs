namespace FactoryEdge.Signal;

/// <summary>A line found in a spectrum: interpolated frequency and peak amplitude.</summary>
internal readonly record struct SpectralLine(double FrequencyHz, double Amplitude)
{
    public static SpectralLine None => default;
}

/// <summary>Peak search and interpolation on one-sided amplitude spectra.</summary>
internal static class SpectralPeaks
{
    /// <summary>Index of the largest value in [lo, hi] (inclusive), or -1 for an empty range.</summary>
    public static int ArgMax(ReadOnlySpan<double> amplitude, int lo, int hi)
    {
        lo = Math.Max(lo, 0);
        hi = Math.Min(hi, amplitude.Length - 1);
        var best = -1;
        var bestValue = double.NegativeInfinity;
        for (var k = lo; k <= hi; k++)
        {
            if (amplitude[k] > bestValue)
            {
                bestValue = amplitude[k];
                best = k;
            }
        }

        return best;
    }

    /// <summary>True when bin k is a local maximum (not lower than either neighbour, higher than one).</summary>
    public static bool IsLocalMax(ReadOnlySpan<double> amplitude, int k) =>
        k > 0 && k < amplitude.Length - 1
        && amplitude[k] >= amplitude[k - 1] && amplitude[k] >= amplitude[k + 1]
        && (amplitude[k] > amplitude[k - 1] || amplitude[k] > amplitude[k + 1]);

    /// <summary>
    /// Refines a local maximum at bin k into a frequency offset (bins, −0.5…0.5) and the true peak
    /// amplitude, using the window's known main-lobe shape: exact for a single tone under Hann
    /// (Grandke's ratio) and rectangular windows; parabolic for the flat-top, whose flat lobe already
    /// reads the amplitude within 0.01 dB.
    /// </summary>
    public static SpectralLine Interpolate(ReadOnlySpan<double> amplitude, int k, double binHz, WindowFunction window)
    {
        if (!IsLocalMax(amplitude, k))
        {
            return k >= 0 && k < amplitude.Length ? new SpectralLine(k * binHz, amplitude[k]) : SpectralLine.None;
        }

        var a0 = amplitude[k];
        var left = amplitude[k - 1];
        var right = amplitude[k + 1];
        if (!(a0 > 0))
        {
            return new SpectralLine(k * binHz, 0);
        }

        double delta;
        double gain;
        switch (window)
        {
            case WindowFunction.Hann:
            {
                var sign = right >= left ? 1.0 : -1.0;
                var alpha = Math.Max(right, left) / a0;
                delta = sign * ((2.0 * alpha) - 1.0) / (alpha + 1.0);
                delta = Math.Clamp(delta, -0.5, 0.5);
                gain = HannGain(delta);
                break;
            }

            case WindowFunction.Rectangular:
            {
                var sign = right >= left ? 1.0 : -1.0;
                var alpha = Math.Max(right, left) / a0;
                delta = sign * alpha / (1.0 + alpha);
                delta = Math.Clamp(delta, -0.5, 0.5);
                gain = Math.Abs(Sinc(delta));
                break;
            }

            default:
            {
                var denominator = left - (2.0 * a0) + right;
                delta = denominator < 0 ? Math.Clamp(0.5 * (left - right) / denominator, -0.5, 0.5) : 0.0;
                gain = 1.0;
                break;
            }
        }

        return new SpectralLine((k + delta) * binHz, gain > 0.3 ? a0 / gain : a0);
    }

    /// <summary>
    /// The strongest line near <paramref name="targetHz"/>, searched within ±<paramref name="tolerance"/>
    /// (relative) but never less than ±1 bin; interpolated.
    /// </summary>
    public static SpectralLine Match(ReadOnlySpan<double> amplitude, double binHz, double targetHz, double tolerance, WindowFunction window)
    {
        if (!(targetHz > 0))
        {
            return SpectralLine.None;
        }

        var centre = targetHz / binHz;
        var half = Math.Max(1.0, centre * tolerance);
        var lo = Math.Max(1, (int)Math.Floor(centre - half));
        var hi = Math.Min(amplitude.Length - 2, (int)Math.Ceiling(centre + half));
        if (hi < lo)
        {
            return SpectralLine.None;
        }

        var k = ArgMax(amplitude, lo, hi);
        return k < 0 ? SpectralLine.None : Interpolate(amplitude, k, binHz, window);
    }

    /// <summary>Amplitude response of the Hann main lobe at an offset of <paramref name="delta"/> bins (1 at 0).</summary>
    public static double HannGain(double delta)
    {
        var d2 = delta * delta;
        return Math.Abs(d2 - 1.0) < 1e-9 ? 0.5 : Sinc(delta) / (1.0 - d2);
    }

    private static double Sinc(double x) => Math.Abs(x) < 1e-12 ? 1.0 : Math.Sin(Math.PI * x) / (Math.PI * x);
}
