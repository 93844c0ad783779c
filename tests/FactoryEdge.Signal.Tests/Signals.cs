using System.Globalization;

namespace FactoryEdge.Signal.Tests;

/// <summary>Synthetic test signals and a tiny CWRU CSV reader (test-only).</summary>
internal static class Signals
{
    public static float[] Sine(int length, double sampleRateHz, double frequencyHz, double amplitude, double phase = 0.3, double offset = 0)
    {
        var x = new float[length];
        for (var n = 0; n < length; n++)
        {
            x[n] = (float)(offset + (amplitude * Math.Sin((2 * Math.PI * frequencyHz * n / sampleRateHz) + phase)));
        }

        return x;
    }

    /// <summary>Standard normal samples (Box–Muller) from a seeded generator.</summary>
    public static float[] Gaussian(int length, double sigma, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (var n = 0; n < length; n++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            x[n] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return x;
    }

    public static float[] Add(float[] a, float[] b)
    {
        var x = new float[a.Length];
        for (var n = 0; n < a.Length; n++)
        {
            x[n] = a[n] + b[n];
        }

        return x;
    }

    /// <summary>
    /// A clean synthetic machine: 1× and 2× shaft lines, a structural resonance excited by broadband
    /// noise, and sensor noise, in g.
    /// </summary>
    public static float[] Machine(int length, double sampleRateHz, double shaftHz, int seed)
    {
        var noise = Gaussian(length, 0.02, seed);
        var x = new float[length];
        for (var n = 0; n < length; n++)
        {
            var t = n / sampleRateHz;
            x[n] = (float)((0.05 * Math.Sin(2 * Math.PI * shaftHz * t)) + (0.02 * Math.Sin((2 * Math.PI * 2 * shaftHz * t) + 1.0))
                + (0.03 * Math.Sin((2 * Math.PI * 3100 * t) + 0.2))) + noise[n];
        }

        return x;
    }

    /// <summary>Runs an extractor over a long signal, window by window, and returns the last features.</summary>
    public static float[] Run(FeatureExtractor extractor, ReadOnlySpan<float> signal, double externalSpeedHz = double.NaN)
    {
        var features = new float[extractor.FeatureCount];
        var n = extractor.Options.WindowSize;
        var hop = extractor.Options.Hop;
        for (var start = 0; start + n <= signal.Length; start += hop)
        {
            extractor.Extract(signal.Slice(start, n), features, externalSpeedHz);
        }

        return features;
    }

    public static float Feature(this FeatureExtractor extractor, float[] features, string name)
    {
        var index = -1;
        for (var i = 0; i < extractor.FeatureNames.Count; i++)
        {
            if (extractor.FeatureNames[i] == name)
            {
                index = i;
            }
        }

        Assert.True(index >= 0, $"feature {name} not found");
        return features[index];
    }

    /// <summary>Reads a CWRU recording CSV: a '# key=value …' header line, then one value per line.</summary>
    public static CwruRecording LoadCwru(string path)
    {
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<float>(250_000);
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('#'))
            {
                foreach (var token in line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = token.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0)
                    {
                        header[token[..eq]] = token[(eq + 1)..];
                    }
                }

                continue;
            }

            if (line.Length > 0)
            {
                samples.Add((float)double.Parse(line, NumberStyles.Float, CultureInfo.InvariantCulture));
            }
        }

        var rate = double.Parse(header["sampling_rate_hz"], NumberStyles.Float, CultureInfo.InvariantCulture);
        return new CwruRecording(rate, header, samples.ToArray());
    }
}

internal sealed record CwruRecording(double SampleRateHz, IReadOnlyDictionary<string, string> Header, float[] Samples);
