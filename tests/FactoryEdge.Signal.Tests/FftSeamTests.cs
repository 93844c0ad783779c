using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace FactoryEdge.Signal.Tests;

public sealed class FftSeamTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(1024)]
    [InlineData(2048)]
    public void MathNetEngine_Forward_MatchesNaiveDft(int length)
    {
        var input = RandomComplex(length, seed: length);
        var engine = new MathNetFftEngine(length);
        input.CopyTo(engine.Buffer);

        engine.Forward();

        var expected = NaiveDft(input, sign: -1);
        AssertClose(expected, engine.Buffer, 1e-9 * length);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4096)]
    public void MathNetEngine_Forward_MatchesMathNetCalledDirectly(int length)
    {
        var input = RandomComplex(length, seed: 7);
        var direct = (Complex[])input.Clone();
        Fourier.Forward(direct, FourierOptions.NoScaling);
        var engine = new MathNetFftEngine(length);
        input.CopyTo(engine.Buffer);

        engine.Forward();

        AssertClose(direct, engine.Buffer, 1e-12);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(2048)]
    public void MathNetEngine_Inverse_IsUnscaledInverseOfForward(int length)
    {
        var input = RandomComplex(length, seed: 3);
        var engine = new MathNetFftEngine(length);
        input.CopyTo(engine.Buffer);

        engine.Forward();
        engine.Inverse();

        var expected = new Complex[length];
        for (var i = 0; i < length; i++)
        {
            expected[i] = input[i] * length;
        }

        AssertClose(expected, engine.Buffer, 1e-9 * length);
        var naive = NaiveDft(NaiveDft(input, -1), +1);
        AssertClose(naive, engine.Buffer, 1e-9 * length);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4096)]
    public void RealFft_Forward_MatchesNaiveDftOfRealSignal(int length)
    {
        var random = new Random(11);
        var signal = new float[length];
        for (var i = 0; i < length; i++)
        {
            signal[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var fft = new RealFft(length, FftEngines.Default);
        var spectrum = new Complex[fft.SpectrumLength];

        fft.Forward(signal, offset: 0.25, spectrum);

        var complexInput = new Complex[length];
        for (var i = 0; i < length; i++)
        {
            complexInput[i] = signal[i] - 0.25;
        }

        var expected = NaiveDft(complexInput, -1);
        AssertClose(expected.AsSpan(0, fft.SpectrumLength), spectrum, 1e-9 * length);
    }

    [Fact]
    public void FeatureExtractor_OnNaiveDftEngine_GivesSameFeaturesAsOnMathNet()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 12_800, WindowSize = 1024, Hop = 512, NominalShaftHz = 25 };
        var signal = Signals.Machine(1024, 12_800, 25, seed: 5);
        var viaMathNet = new FeatureExtractor(options);
        var viaNaive = new FeatureExtractor(options, static n => new NaiveDftEngine(n));
        var a = new float[viaMathNet.FeatureCount];
        var b = new float[viaNaive.FeatureCount];

        viaMathNet.Extract(signal, a);
        viaNaive.Extract(signal, b);

        for (var i = 0; i <= FeatureSchema.FirstBand + options.Bands.Count; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * Math.Max(1, Math.Abs(a[i])), $"{viaMathNet.FeatureNames[i]}: {a[i]} vs {b[i]}");
        }
    }

    internal static Complex[] RandomComplex(int length, int seed)
    {
        var random = new Random(seed);
        var x = new Complex[length];
        for (var i = 0; i < length; i++)
        {
            x[i] = new Complex((random.NextDouble() * 2) - 1, (random.NextDouble() * 2) - 1);
        }

        return x;
    }

    internal static Complex[] NaiveDft(ReadOnlySpan<Complex> x, int sign)
    {
        var n = x.Length;
        var result = new Complex[n];
        for (var k = 0; k < n; k++)
        {
            var sum = Complex.Zero;
            for (var t = 0; t < n; t++)
            {
                var angle = sign * 2.0 * Math.PI * ((long)k * t % n) / n;
                sum += x[t] * new Complex(Math.Cos(angle), Math.Sin(angle));
            }

            result[k] = sum;
        }

        return result;
    }

    private static void AssertClose(ReadOnlySpan<Complex> expected, ReadOnlySpan<Complex> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var error = (expected[i] - actual[i]).Magnitude;
            Assert.True(error <= tolerance, $"bin {i}: expected {expected[i]}, got {actual[i]} (error {error})");
        }
    }

    /// <summary>An O(N²) engine: proves the extractor depends on the seam only.</summary>
    private sealed class NaiveDftEngine(int length) : IFftEngine
    {
        private readonly Complex[] _buffer = new Complex[length];

        public int Length => _buffer.Length;

        public Span<Complex> Buffer => _buffer;

        public void Forward() => NaiveDft(_buffer, -1).CopyTo(_buffer, 0);

        public void Inverse() => NaiveDft(_buffer, +1).CopyTo(_buffer, 0);
    }
}
