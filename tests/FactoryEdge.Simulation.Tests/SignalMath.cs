using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace FactoryEdge.Simulation.Tests;

/// <summary>Reference signal analysis for the tests (plain loops and MathNet's FFT).</summary>
internal static class SignalMath
{
    public static double Rms(ReadOnlySpan<float> x)
    {
        var mean = Mean(x);
        double sum = 0;
        foreach (var v in x)
        {
            sum += (v - mean) * (v - mean);
        }

        return Math.Sqrt(sum / x.Length);
    }

    public static double Kurtosis(ReadOnlySpan<float> x)
    {
        var mean = Mean(x);
        double m2 = 0, m4 = 0;
        foreach (var v in x)
        {
            var d = v - mean;
            m2 += d * d;
            m4 += d * d * d * d;
        }

        m2 /= x.Length;
        m4 /= x.Length;
        return m4 / (m2 * m2);
    }

    /// <summary>Amplitude (peak) of the sinusoid at <paramref name="frequency"/>: Hann-windowed DFT at that one frequency.</summary>
    public static double AmplitudeAt(ReadOnlySpan<float> x, double frequency, double sampleRate)
    {
        double re = 0, im = 0, windowSum = 0;
        for (var n = 0; n < x.Length; n++)
        {
            var w = 0.5 - (0.5 * Math.Cos(2 * Math.PI * n / x.Length));
            var angle = 2 * Math.PI * frequency * n / sampleRate;
            re += w * x[n] * Math.Cos(angle);
            im -= w * x[n] * Math.Sin(angle);
            windowSum += w;
        }

        return 2 * Math.Sqrt((re * re) + (im * im)) / windowSum;
    }

    /// <summary>Hann-windowed amplitude spectrum, bins 0 … N/2 − 1 (N a power of two).</summary>
    public static double[] AmplitudeSpectrum(ReadOnlySpan<double> x)
    {
        var n = x.Length;
        var z = new Complex[n];
        for (var i = 0; i < n; i++)
        {
            z[i] = new Complex(x[i] * (0.5 - (0.5 * Math.Cos(2 * Math.PI * i / n))), 0);
        }

        Fourier.Forward(z, FourierOptions.Matlab);
        var result = new double[n / 2];
        for (var k = 0; k < result.Length; k++)
        {
            result[k] = z[k].Magnitude * 4 / n;
        }

        return result;
    }

    public static double[] AmplitudeSpectrum(ReadOnlySpan<float> x)
    {
        var mean = Mean(x);
        var d = new double[x.Length];
        for (var i = 0; i < d.Length; i++)
        {
            d[i] = x[i] - mean;
        }

        return AmplitudeSpectrum(d);
    }

    /// <summary>
    /// Envelope spectrum: band-pass <paramref name="lowHz"/>–<paramref name="highHz"/> and analytic
    /// signal in one step (keep the positive-frequency bins of the band, doubled), magnitude, remove
    /// the mean, amplitude spectrum.
    /// </summary>
    public static double[] EnvelopeSpectrum(ReadOnlySpan<float> x, double sampleRate, double lowHz, double highHz)
    {
        var n = x.Length;
        var z = new Complex[n];
        for (var i = 0; i < n; i++)
        {
            z[i] = new Complex(x[i], 0);
        }

        Fourier.Forward(z, FourierOptions.Matlab);
        for (var k = 0; k < n; k++)
        {
            var f = k * sampleRate / n;
            z[k] = k > 0 && k < n / 2 && f >= lowHz && f <= highHz ? z[k] * 2 : Complex.Zero;
        }

        Fourier.Inverse(z, FourierOptions.Matlab);
        var envelope = new double[n];
        double mean = 0;
        for (var i = 0; i < n; i++)
        {
            envelope[i] = z[i].Magnitude;
            mean += envelope[i];
        }

        mean /= n;
        for (var i = 0; i < n; i++)
        {
            envelope[i] -= mean;
        }

        return AmplitudeSpectrum(envelope);
    }

    /// <summary>Frequency of the highest bin in [<paramref name="lowHz"/>, <paramref name="highHz"/>].</summary>
    public static double PeakFrequency(double[] spectrum, double binHz, double lowHz, double highHz)
    {
        var best = (int)Math.Ceiling(lowHz / binHz);
        for (var k = best; k <= (int)Math.Floor(highHz / binHz) && k < spectrum.Length; k++)
        {
            if (spectrum[k] > spectrum[best])
            {
                best = k;
            }
        }

        return best * binHz;
    }

    /// <summary>Highest bin within ±<paramref name="toleranceHz"/> of <paramref name="frequency"/>.</summary>
    public static double PeakNear(double[] spectrum, double binHz, double frequency, double toleranceHz)
    {
        var peak = 0.0;
        for (var k = (int)Math.Floor((frequency - toleranceHz) / binHz); k <= (int)Math.Ceiling((frequency + toleranceHz) / binHz); k++)
        {
            peak = Math.Max(peak, spectrum[k]);
        }

        return peak;
    }

    /// <summary>Median of the bins in [<paramref name="lowHz"/>, <paramref name="highHz"/>]: the noise floor.</summary>
    public static double Median(double[] spectrum, double binHz, double lowHz, double highHz)
    {
        var values = spectrum[(int)Math.Ceiling(lowHz / binHz)..(int)Math.Floor(highHz / binHz)];
        Array.Sort(values);
        return values[values.Length / 2];
    }

    private static double Mean(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (var v in x)
        {
            sum += v;
        }

        return sum / x.Length;
    }
}
