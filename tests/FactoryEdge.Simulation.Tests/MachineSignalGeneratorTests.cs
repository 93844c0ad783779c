using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Simulation.Tests;

public sealed class MachineSignalGeneratorTests
{
    private const double Rate = 25600;

    /// <summary>2^18 samples ≈ 10.2 s at 25.6 kHz: 0.098 Hz bins.</summary>
    private const int Long = 1 << 18;

    private static float[] Generate(MachineSignalOptions options, int length)
    {
        var samples = new float[length];
        new MachineSignalGenerator(options).Generate(samples);
        return samples;
    }

    private static MachineSignalOptions WithFault(FaultType type, double severity = 1.0, double onset = 0, double ramp = 0, int seed = 1) =>
        new() { Seed = seed, Faults = [new MachineFault(type, severity, onset, ramp)] };

    [Fact]
    public void Generate_SameSeed_ProducesIdenticalSamples()
    {
        var options = WithFault(FaultType.InnerRace, 0.5, seed: 42);

        Assert.Equal(Generate(options, 20_000), Generate(options, 20_000));
    }

    [Fact]
    public void Generate_DifferentSeed_ProducesDifferentSamples()
    {
        Assert.NotEqual(Generate(new MachineSignalOptions { Seed = 1 }, 1000), Generate(new MachineSignalOptions { Seed = 2 }, 1000));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1)]
    [InlineData(4099)]
    public void Generate_SplitIntoCalls_EqualsOneCall(int firstCall)
    {
        var options = new MachineSignalOptions { Faults = [new MachineFault(FaultType.OuterRace, 0.7), new MachineFault(FaultType.Looseness, 0.5)] };
        var whole = Generate(options, 2 * 8192);

        var generator = new MachineSignalGenerator(options);
        var parts = new float[2 * 8192];
        generator.Generate(parts.AsSpan(0, firstCall));
        generator.Generate(parts.AsSpan(firstCall, 8192 - firstCall));
        generator.Generate(parts.AsSpan(8192));

        Assert.Equal(whole, parts);
        Assert.Equal(2 * 8192, generator.SampleIndex);
    }

    [Fact]
    public void Generate_HealthyMachine_RmsRealisticAndGaussianKurtosis()
    {
        var x = Generate(new MachineSignalOptions(), Long);

        Assert.InRange(SignalMath.Rms(x), 0.05, 0.2);
        Assert.InRange(SignalMath.Kurtosis(x), 2.6, 3.3);
    }

    [Theory]
    [InlineData(24.7)]
    [InlineData(29.93)]
    [InlineData(49.2)]
    public void Generate_HealthyMachine_OneXLineAtConfiguredShaftSpeed(double shaftHz)
    {
        var x = Generate(new MachineSignalOptions { ShaftHz = shaftHz }, 1 << 16);
        var spectrum = SignalMath.AmplitudeSpectrum(x);
        var bin = Rate / x.Length;

        var peak = SignalMath.PeakFrequency(spectrum, bin, 5, 500);

        Assert.InRange(peak, shaftHz - bin, shaftHz + bin);
        Assert.InRange(SignalMath.AmplitudeAt(x, shaftHz, Rate), 0.025, 0.035);
    }

    [Fact]
    public void DefectFrequencies_DefaultBearing_MatchCwruTable()
    {
        var generator = new MachineSignalGenerator(new MachineSignalOptions { ShaftHz = 1796 / 60.0 });

        // CWRU's table for the 6205: BPFO 3.5848×, BPFI 5.4152×, 2 × spin 4.7135×, FTF 0.39828×.
        Assert.Equal(3.5848, generator.Orders.Bpfo, 0.001);
        Assert.Equal(5.4152, generator.Orders.Bpfi, 0.001);
        Assert.Equal(4.7135, 2 * generator.Orders.Bsf, 0.001);
        Assert.Equal(0.39828, generator.Orders.Ftf, 0.0001);
        Assert.Equal(107.3, generator.BpfoHz, 0.1);
    }

    [Fact]
    public void Generate_OuterRaceFault_EnvelopeLineAtBpfo()
    {
        var generator = new MachineSignalGenerator(WithFault(FaultType.OuterRace));
        var x = new float[Long];
        generator.Generate(x);
        var envelope = SignalMath.EnvelopeSpectrum(x, Rate, 2000, 5000);
        var bin = Rate / Long;

        var peak = SignalMath.PeakFrequency(envelope, bin, 20, 500);
        var floor = SignalMath.Median(envelope, bin, 20, 500);

        Assert.InRange(peak, generator.BpfoHz * 0.98, generator.BpfoHz * 1.02);
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfoHz, 1) > 20 * floor);
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfiHz, 1) < 5 * floor);
    }

    [Fact]
    public void Generate_OuterRaceFault_AutocorrelationOfEnvelopePeaksAtBpfoPeriod()
    {
        var generator = new MachineSignalGenerator(WithFault(FaultType.OuterRace));
        var x = new float[1 << 16];
        generator.Generate(x);
        var envelope = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            envelope[i] = Math.Abs(x[i]);
        }

        var period = Rate / generator.BpfoHz;
        var best = 0;
        var bestValue = double.MinValue;
        for (var lag = (int)(period * 0.5); lag <= (int)(period * 1.5); lag++)
        {
            double sum = 0;
            for (var i = 0; i + lag < envelope.Length; i++)
            {
                sum += envelope[i] * envelope[i + lag];
            }

            if (sum > bestValue)
            {
                bestValue = sum;
                best = lag;
            }
        }

        Assert.InRange(best, period * 0.98, period * 1.02);
    }

    [Fact]
    public void Generate_InnerRaceFault_EnvelopeLineAtBpfiWithShaftSidebands()
    {
        var options = WithFault(FaultType.InnerRace);
        var generator = new MachineSignalGenerator(options);
        var x = new float[Long];
        generator.Generate(x);
        var envelope = SignalMath.EnvelopeSpectrum(x, Rate, 2000, 5000);
        var bin = Rate / Long;
        var floor = SignalMath.Median(envelope, bin, 20, 500);

        var peak = SignalMath.PeakFrequency(envelope, bin, generator.BpfiHz * 0.9, generator.BpfiHz * 1.1);

        Assert.InRange(peak, generator.BpfiHz * 0.98, generator.BpfiHz * 1.02);
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfiHz, 1) > 10 * floor);
        // Load-zone modulation at shaft speed: sidebands at BPFI ± 1×.
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfiHz - options.ShaftHz, 1) > 3 * floor);
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfiHz + options.ShaftHz, 1) > 3 * floor);
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BpfoHz, 1) < 5 * floor);
    }

    [Fact]
    public void Generate_BallFault_EnvelopeLinesAtBallSpinAndTwiceBallSpin()
    {
        var generator = new MachineSignalGenerator(WithFault(FaultType.Ball));
        var x = new float[Long];
        generator.Generate(x);
        var envelope = SignalMath.EnvelopeSpectrum(x, Rate, 2000, 5000);
        var bin = Rate / Long;
        var floor = SignalMath.Median(envelope, bin, 20, 500);

        var peak = SignalMath.PeakFrequency(envelope, bin, 2 * generator.BsfHz * 0.9, 2 * generator.BsfHz * 1.1);

        Assert.InRange(peak, 2 * generator.BsfHz * 0.98, 2 * generator.BsfHz * 1.02);
        Assert.True(SignalMath.PeakNear(envelope, bin, 2 * generator.BsfHz, 1) > 10 * floor);
        // Outer and inner race strikes alternate in strength: a line at the spin frequency itself.
        Assert.True(SignalMath.PeakNear(envelope, bin, generator.BsfHz, 1) > 3 * floor);
    }

    [Theory]
    [InlineData(FaultType.OuterRace, 0.8, 2.0, 5.5)]
    [InlineData(FaultType.InnerRace, 0.35, 1.0, 4.5)]
    [InlineData(FaultType.Ball, 0.1, 0.5, 3.8)]
    public void Generate_DevelopedBearingFault_LevelsAndKurtosisLikeCwruRecords(FaultType type, double minRms, double maxRms, double minKurtosis)
    {
        var x = Generate(WithFault(type), Long);

        Assert.InRange(SignalMath.Rms(x), minRms, maxRms);
        Assert.InRange(SignalMath.Kurtosis(x), minKurtosis, 9);
    }

    [Fact]
    public void Generate_BeforeOnset_EqualsHealthySignalBitForBit()
    {
        const double Onset = 0.5;
        var healthy = Generate(new MachineSignalOptions(), 25600);
        var faulty = Generate(new MachineSignalOptions
        {
            Faults = [new MachineFault(FaultType.OuterRace, 1, Onset, 2), new MachineFault(FaultType.Imbalance, 1, Onset, 2), new MachineFault(FaultType.Looseness, 1, Onset)],
        }, 25600);
        var onsetSample = (int)(Onset * Rate);

        Assert.Equal(healthy.AsSpan(0, onsetSample).ToArray(), faulty.AsSpan(0, onsetSample).ToArray());
        Assert.NotEqual(healthy.AsSpan(onsetSample + 1000).ToArray(), faulty.AsSpan(onsetSample + 1000).ToArray());
    }

    [Fact]
    public void Generate_KurtosisGrowsWithSeverity()
    {
        double[] severities = [0, 0.03, 0.06, 0.12, 0.3];
        var kurtosis = severities.Select(s => SignalMath.Kurtosis(Generate(WithFault(FaultType.OuterRace, s), Long))).ToArray();

        for (var i = 1; i < kurtosis.Length; i++)
        {
            Assert.True(kurtosis[i] > kurtosis[i - 1], $"kurtosis at severity {severities[i]} ({kurtosis[i]:F2}) is not above that at {severities[i - 1]} ({kurtosis[i - 1]:F2})");
        }

        Assert.InRange(kurtosis[0], 2.6, 3.3);
        Assert.True(kurtosis[^1] > 5);
    }

    [Fact]
    public void Generate_RampingFault_RmsGrowsAlongTheRamp()
    {
        var options = WithFault(FaultType.OuterRace, 1, onset: 1, ramp: 4);
        var generator = new MachineSignalGenerator(options);
        var second = new float[(int)Rate];
        var rms = new double[6];
        for (var i = 0; i < rms.Length; i++)
        {
            generator.Generate(second);
            rms[i] = SignalMath.Rms(second);
        }

        Assert.Equal(0.5, generator.SeverityAt(0, 3), 12);
        Assert.Equal(0, generator.SeverityAt(0, 0.999));
        Assert.Equal(1, generator.SeverityAt(0, 7));
        for (var i = 1; i < rms.Length; i++)
        {
            Assert.True(rms[i] > rms[i - 1], $"RMS of second {i} ({rms[i]:F3}) is not above second {i - 1} ({rms[i - 1]:F3})");
        }

        // Second i covers severities around (i − 0.5)/4: the RMS follows them once the fault dominates.
        Assert.InRange(rms[5] / rms[3], 1.4, 2.2);
    }

    [Fact]
    public void Generate_Imbalance_RaisesOneXLine()
    {
        var healthy = Generate(new MachineSignalOptions(), 1 << 16);
        var faulty = Generate(WithFault(FaultType.Imbalance), 1 << 16);
        var shaft = new MachineSignalOptions().ShaftHz;

        var healthyOneX = SignalMath.AmplitudeAt(healthy, shaft, Rate);
        var faultyOneX = SignalMath.AmplitudeAt(faulty, shaft, Rate);

        Assert.InRange(faultyOneX - healthyOneX, 0.2, 0.3);
        Assert.InRange(SignalMath.AmplitudeAt(faulty, 2 * shaft, Rate), 0, 0.02);
    }

    [Fact]
    public void Generate_Misalignment_TwoXDominatesWithThreeX()
    {
        var x = Generate(WithFault(FaultType.Misalignment), 1 << 16);
        var shaft = new MachineSignalOptions().ShaftHz;

        var oneX = SignalMath.AmplitudeAt(x, shaft, Rate);
        var twoX = SignalMath.AmplitudeAt(x, 2 * shaft, Rate);
        var threeX = SignalMath.AmplitudeAt(x, 3 * shaft, Rate);

        Assert.True(twoX > 2 * oneX, $"2× {twoX:F3} g vs 1× {oneX:F3} g");
        Assert.True(threeX > 0.05);
    }

    [Fact]
    public void Generate_Looseness_HalfOrderSubharmonicsAndManyHarmonics()
    {
        var healthy = Generate(new MachineSignalOptions(), 1 << 16);
        var x = Generate(WithFault(FaultType.Looseness), 1 << 16);
        var shaft = new MachineSignalOptions().ShaftHz;

        Assert.True(SignalMath.AmplitudeAt(x, 0.5 * shaft, Rate) > 0.03);
        Assert.True(SignalMath.AmplitudeAt(x, 1.5 * shaft, Rate) > 0.02);
        Assert.InRange(SignalMath.AmplitudeAt(healthy, 0.5 * shaft, Rate), 0, 0.005);
        for (var k = 3; k <= 10; k++)
        {
            Assert.True(SignalMath.AmplitudeAt(x, k * shaft, Rate) > 0.02, $"{k}× missing");
        }
    }

    [Fact]
    public void Generate_AfterWarmUp_DoesNotAllocate()
    {
        var generator = new MachineSignalGenerator(new MachineSignalOptions { Faults = [new MachineFault(FaultType.InnerRace), new MachineFault(FaultType.Looseness)] });
        var buffer = new float[4096];
        generator.Generate(buffer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            generator.Generate(buffer);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Constructor_OtherBearing_UsesItsDefectFrequencies()
    {
        var bearing = BearingCatalog.Get("6203");
        var generator = new MachineSignalGenerator(new MachineSignalOptions { Bearing = bearing, ShaftHz = 50 });

        Assert.Equal(BearingOrders.FromGeometry(bearing).Bpfo * 50, generator.BpfoHz, 9);
    }

    [Theory]
    [InlineData(nameof(MachineSignalOptions.SampleRateHz))]
    [InlineData(nameof(MachineSignalOptions.ShaftHz))]
    [InlineData(nameof(MachineSignalOptions.ResonanceHz))]
    [InlineData(nameof(MachineSignalOptions.NoiseRmsG))]
    [InlineData(nameof(MachineFault.OnsetSeconds))]
    public void Constructor_InvalidOption_ThrowsNamingIt(string property)
    {
        var options = property switch
        {
            nameof(MachineSignalOptions.SampleRateHz) => new MachineSignalOptions { SampleRateHz = 0 },
            nameof(MachineSignalOptions.ShaftHz) => new MachineSignalOptions { ShaftHz = -1 },
            nameof(MachineSignalOptions.ResonanceHz) => new MachineSignalOptions { ResonanceHz = 20000 },
            nameof(MachineSignalOptions.NoiseRmsG) => new MachineSignalOptions { NoiseRmsG = double.NaN },
            _ => WithFault(FaultType.Ball, onset: -1),
        };

        var ex = Assert.Throws<ArgumentException>(() => new MachineSignalGenerator(options));

        Assert.Contains(property, ex.Message, StringComparison.Ordinal);
    }
}
