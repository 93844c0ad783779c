using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace FactoryEdge.Signal.Tests;

/// <summary>The allocation-free FFT behind <see cref="FftEngines.Default"/>, checked against MathNet and a naive DFT.</summary>
public sealed class RadixTwoFftEngineTests
{
    public static TheoryData<int> Lengths() => [2, 4, 8, 64, 512, 2048, 8192, 32768, 65536];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Forward_MatchesMathNet(int length)
    {
        var input = Random(length, seed: length);
        var reference = (Complex[])input.Clone();
        Fourier.Forward(reference, FourierOptions.NoScaling);
        var engine = new RadixTwoFftEngine(length);
        input.CopyTo(engine.Buffer);

        engine.Forward();

        AssertClose(reference, engine.Buffer, 1e-9 * Math.Sqrt(length));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Inverse_MatchesMathNet(int length)
    {
        var input = Random(length, seed: length + 1);
        var reference = (Complex[])input.Clone();
        Fourier.Inverse(reference, FourierOptions.NoScaling);
        var engine = new RadixTwoFftEngine(length);
        input.CopyTo(engine.Buffer);

        engine.Inverse();

        AssertClose(reference, engine.Buffer, 1e-9 * Math.Sqrt(length));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(256)]
    public void Forward_MatchesNaiveDft_AndInverseRestoresInputTimesN(int length)
    {
        var input = Random(length, seed: 5);
        var engine = new RadixTwoFftEngine(length);
        input.CopyTo(engine.Buffer);
        engine.Forward();
        var naive = new Complex[length];
        for (var k = 0; k < length; k++)
        {
            for (var n = 0; n < length; n++)
            {
                naive[k] += input[n] * Complex.FromPolarCoordinates(1, -2 * Math.PI * k * n / length);
            }
        }

        AssertClose(naive, engine.Buffer, 1e-9 * length);
        engine.Inverse();
        AssertClose([.. input.Select(x => x * length)], engine.Buffer, 1e-9 * length);
    }

    [Fact]
    public void ForwardAndInverse_SteadyState_AllocateNothing()
    {
        var engine = new RadixTwoFftEngine(4096);
        Random(4096, 9).CopyTo(engine.Buffer);
        engine.Forward();
        engine.Inverse();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            engine.Forward();
            engine.Inverse();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Default_IsTheAllocationFreeEngine_RealFftStillMatchesMathNet()
    {
        Assert.IsType<RadixTwoFftEngine>(FftEngines.Create(1024));
        var random = new Random(3);
        var signal = new float[4096];
        for (var i = 0; i < signal.Length; i++)
        {
            signal[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var ours = new RealFft(4096, FftEngines.Default);
        var theirs = new RealFft(4096, n => new MathNetFftEngine(n));
        var a = new Complex[ours.SpectrumLength];
        var b = new Complex[theirs.SpectrumLength];
        ours.Forward(signal, offset: 0.0, a);
        theirs.Forward(signal, offset: 0.0, b);
        AssertClose(b, a, 1e-9);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12)]
    public void Constructor_NotPowerOfTwo_Throws(int length) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RadixTwoFftEngine(length));

    private static Complex[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var data = new Complex[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = new Complex((random.NextDouble() * 2) - 1, (random.NextDouble() * 2) - 1);
        }

        return data;
    }

    private static void AssertClose(ReadOnlySpan<Complex> expected, ReadOnlySpan<Complex> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, (expected[i] - actual[i]).Magnitude);
        }

        Assert.True(worst <= tolerance, $"largest difference {worst:G3} > {tolerance:G3}");
    }
}
