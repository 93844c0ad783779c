using FactoryEdge.Core;

namespace FactoryEdge.Signal.Tests;

public sealed class ChannelHealthCheckerTests
{
    private static ChannelDescriptor Descriptor(double fs = 48_000, double nominal = 29.93, double fullScale = 0, SignalUnit unit = SignalUnit.G) => new()
    {
        Id = ChannelId.Parse("site/line/pump1/de/x"),
        SampleRateHz = fs,
        NominalShaftHz = nominal,
        FullScale = fullScale,
        Unit = unit,
    };

    private static float[] Machine(int length = 4096, int seed = 1) => Signals.Machine(length, 48_000, 29.93, seed);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Check_CleanMachineSignal_NoFlags(int seed)
    {
        var checker = new ChannelHealthChecker(Descriptor(fullScale: 50));

        Assert.Equal(ChannelHealthFlags.None, checker.Check(Machine(seed: seed)));
    }

    [Fact]
    public void Check_GaussianNoiseAndPureSine_NoFlags()
    {
        var checker = new ChannelHealthChecker(Descriptor());

        Assert.Equal(ChannelHealthFlags.None, checker.Check(Signals.Gaussian(4096, 0.05, 4)));
        Assert.Equal(ChannelHealthFlags.None, checker.Check(Signals.Sine(4096, 48_000, 29.93, 0.1)));
        Assert.Equal(ChannelHealthFlags.None, checker.Check(Signals.Sine(16384, 48_000, 200, 2.0)));
    }

    [Fact]
    public void Check_SixteenBitQuantisedLowLevelNoise_NoFlags()
    {
        // ±10 g range, 16 bits: 0.3 mg steps; noise of 10 mg spans ~130 levels.
        var checker = new ChannelHealthChecker(Descriptor(fullScale: 10));
        var noise = Signals.Gaussian(4096, 0.01, 5);
        var step = 20.0 / 65536;
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)(Math.Round(noise[i] / step) * step);
        }

        Assert.Equal(ChannelHealthFlags.None, checker.Check(noise));
    }

    [Fact]
    public void Check_NaNOrInfinity_NonFinite()
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var withNaN = Machine();
        withNaN[100] = float.NaN;
        var withInf = Machine();
        withInf[4000] = float.NegativeInfinity;

        Assert.Equal(ChannelHealthFlags.NonFinite, checker.Check(withNaN));
        Assert.Equal(ChannelHealthFlags.NonFinite, checker.Check(withInf));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.98f)]
    public void Check_ConstantSignal_FlatLine(float value)
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var window = new float[4096];
        Array.Fill(window, value);

        Assert.Equal(ChannelHealthFlags.FlatLine, checker.Check(window));
    }

    [Fact]
    public void Check_TinyNoiseOnly_FlatLine()
    {
        var checker = new ChannelHealthChecker(Descriptor());

        Assert.Equal(ChannelHealthFlags.FlatLine, checker.Check(Signals.Gaussian(4096, 2e-6, 6)));
    }

    [Fact]
    public void Check_SignalThatSticksHalfway_FlatLine()
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var window = Machine();
        for (var i = 3000; i < window.Length; i++)
        {
            window[i] = window[2999];
        }

        Assert.True(checker.Check(window).HasFlag(ChannelHealthFlags.FlatLine));
    }

    [Fact]
    public void Check_SamplesAtKnownFullScale_Clipping()
    {
        var checker = new ChannelHealthChecker(Descriptor(fullScale: 0.1));
        var window = Machine();
        for (var i = 0; i < window.Length; i++)
        {
            window[i] = Math.Clamp(window[i], -0.1f, 0.1f);
        }

        Assert.Equal(ChannelHealthFlags.Clipping, checker.Check(window));
    }

    [Fact]
    public void Check_PinnedAtExtremesWithUnknownFullScale_Clipping()
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var window = Machine();
        var limit = 0.8f * MaxAbs(window);
        for (var i = 0; i < window.Length; i++)
        {
            window[i] = Math.Clamp(window[i], -limit, limit);
        }

        Assert.Equal(ChannelHealthFlags.Clipping, checker.Check(window));
    }

    [Fact]
    public void Check_LargeDriftUnderMachineSignal_SkiSlope()
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var ramp = Machine();
        var decay = Machine(seed: 2);
        for (var i = 0; i < ramp.Length; i++)
        {
            ramp[i] += (float)(0.6 * i / ramp.Length);
            decay[i] += (float)(0.8 * Math.Exp(-i / 3000.0));
        }

        Assert.Equal(ChannelHealthFlags.SkiSlope, checker.Check(ramp));
        Assert.Equal(ChannelHealthFlags.SkiSlope, checker.Check(decay));
    }

    [Theory]
    [InlineData(12.0)]
    [InlineData(4.8)] // 0.4× nominal, exactly one cycle in the window: the least favourable legitimate line
    public void Check_LowMachineLineOnVelocityChannel_NoSkiSlope(double frequencyHz)
    {
        var checker = new ChannelHealthChecker(Descriptor(nominal: 12, unit: SignalUnit.MillimetersPerSecond));
        const int length = 10_000; // 0.208 s = one cycle of 4.8 Hz: the drift test is active

        for (var phase = 0.0; phase < 2 * Math.PI; phase += 0.2)
        {
            var window = Signals.Add(Signals.Sine(length, 48_000, frequencyHz, 5.0, phase), Signals.Gaussian(length, 0.05, 3));
            Assert.Equal(ChannelHealthFlags.None, checker.Check(window));
        }
    }

    [Fact]
    public void Check_TooShortForDriftJudgement_NoSkiSlope()
    {
        // 85 ms and nothing known about the machine: a 10 Hz component would look like a trend.
        var checker = new ChannelHealthChecker(Descriptor(nominal: 0));
        var window = Machine();
        for (var i = 0; i < window.Length; i++)
        {
            window[i] += (float)(0.6 * i / window.Length);
        }

        Assert.False(checker.Check(window).HasFlag(ChannelHealthFlags.SkiSlope));
    }

    [Fact]
    public void Check_SpikeBeyondWhatAnAccelerometerDelivers_Implausible()
    {
        var checker = new ChannelHealthChecker(Descriptor());
        var window = Machine();
        window[1234] = 750f;

        Assert.True(checker.Check(window).HasFlag(ChannelHealthFlags.Implausible));
    }

    [Fact]
    public void Check_AboveKnownFullScale_Implausible()
    {
        var checker = new ChannelHealthChecker(Descriptor(fullScale: 2));
        var window = Machine();
        window[10] = 2.5f;

        Assert.True(checker.Check(window).HasFlag(ChannelHealthFlags.Implausible));
    }

    [Fact]
    public void Check_ManyWindows_AllocatesNothing()
    {
        var checker = new ChannelHealthChecker(Descriptor(fullScale: 50));
        var window = Machine();
        checker.Check(window);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            checker.Check(window);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static float MaxAbs(float[] x)
    {
        var max = 0f;
        foreach (var v in x)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }
}
