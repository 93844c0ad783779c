using System.Numerics;

namespace FactoryEdge.Signal;

/// <summary>Kaiser-window FIR designs (done once per extractor, at construction).</summary>
internal static class FirDesign
{
    /// <summary>Kaiser β for a stop-band attenuation in dB.</summary>
    public static double KaiserBeta(double attenuationDb) => attenuationDb switch
    {
        > 50 => 0.1102 * (attenuationDb - 8.7),
        >= 21 => (0.5842 * Math.Pow(attenuationDb - 21, 0.4)) + (0.07886 * (attenuationDb - 21)),
        _ => 0.0,
    };

    /// <summary>Kaiser's estimate of the (odd) length that reaches an attenuation for a transition width.</summary>
    public static int KaiserLength(double attenuationDb, double transitionHz, double sampleRateHz)
    {
        var deltaOmega = 2.0 * Math.PI * transitionHz / sampleRateHz;
        var length = (int)Math.Ceiling((attenuationDb - 7.95) / (2.285 * deltaOmega)) + 1;
        return length | 1;
    }

    /// <summary>Kaiser window of odd length.</summary>
    public static double[] KaiserWindow(int length, double beta)
    {
        var w = new double[length];
        var denominator = BesselI0(beta);
        for (var n = 0; n < length; n++)
        {
            var r = length == 1 ? 0.0 : ((2.0 * n) / (length - 1)) - 1.0;
            w[n] = BesselI0(beta * Math.Sqrt(Math.Max(0.0, 1.0 - (r * r)))) / denominator;
        }

        return w;
    }

    /// <summary>
    /// Linear-phase low-pass for a decimator: pass-band to <paramref name="passHz"/>, stop-band from
    /// <paramref name="stopHz"/>, unity gain at DC.
    /// </summary>
    public static float[] LowPass(double passHz, double stopHz, double sampleRateHz, double attenuationDb)
    {
        var length = KaiserLength(attenuationDb, stopHz - passHz, sampleRateHz);
        var window = KaiserWindow(length, KaiserBeta(attenuationDb));
        var cutoff = 0.5 * (passHz + stopHz) / sampleRateHz; // cycles per sample
        var centre = (length - 1) / 2;
        var taps = new double[length];
        var sum = 0.0;
        for (var n = 0; n < length; n++)
        {
            var t = n - centre;
            var ideal = t == 0 ? 2.0 * cutoff : Math.Sin(2.0 * Math.PI * cutoff * t) / (Math.PI * t);
            taps[n] = ideal * window[n];
            sum += taps[n];
        }

        var result = new float[length];
        for (var n = 0; n < length; n++)
        {
            result[n] = (float)(taps[n] / sum);
        }

        return result;
    }

    /// <summary>
    /// Analytic (one-sided) band-pass: gain 1 for positive frequencies in [low, high], ≈0 for negative
    /// frequencies and outside the band; the transitions, centred on the edges, narrow as <paramref name="length"/> grows.
    /// A real input filtered by it gives half the analytic signal of the band: the envelope is 2·|output|.
    /// </summary>
    public static Complex[] AnalyticBandPass(double lowHz, double highHz, double sampleRateHz, int length, double beta)
    {
        var window = KaiserWindow(length, beta);
        var centre = (length - 1) / 2;
        var taps = new Complex[length];
        var wLow = 2.0 * Math.PI * lowHz / sampleRateHz;
        var wHigh = 2.0 * Math.PI * highHz / sampleRateHz;
        for (var n = 0; n < length; n++)
        {
            var t = n - centre;
            Complex ideal;
            if (t == 0)
            {
                ideal = new Complex((wHigh - wLow) / (2.0 * Math.PI), 0);
            }
            else
            {
                // ∫ e^{iωt} dω / 2π over [wLow, wHigh] = (e^{i·wHigh·t} − e^{i·wLow·t}) / (2πi·t)
                var numerator = Complex.FromPolarCoordinates(1, wHigh * t) - Complex.FromPolarCoordinates(1, wLow * t);
                ideal = numerator / new Complex(0, 2.0 * Math.PI * t);
            }

            taps[n] = ideal * window[n];
        }

        return taps;
    }

    /// <summary>Modified Bessel function of the first kind, order 0 (power series).</summary>
    public static double BesselI0(double x)
    {
        var sum = 1.0;
        var term = 1.0;
        var half = x / 2.0;
        for (var k = 1; k < 200; k++)
        {
            term *= half / k;
            var add = term * term;
            sum += add;
            if (add < sum * 1e-17)
            {
                break;
            }
        }

        return sum;
    }
}
