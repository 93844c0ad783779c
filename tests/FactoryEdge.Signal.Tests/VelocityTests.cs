using FactoryEdge.Core;

namespace FactoryEdge.Signal.Tests;

public sealed class VelocityTests
{
    [Theory]
    [InlineData(48_000, 50.0, 1.0)]
    [InlineData(48_000, 159.155, 1.0)]
    [InlineData(48_000, 800.0, 3.0)]
    [InlineData(25_600, 30.0, 0.5)]
    [InlineData(12_800, 12.0, 0.2)]
    public void Extract_SineAccelerationInG_VelocityRmsIsAnalytic(double fs, double frequencyHz, double amplitudeG)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = fs, Unit = SignalUnit.G };
        var extractor = new FeatureExtractor(options);
        var signal = Signals.Sine((int)(fs * 3), fs, frequencyHz, amplitudeG);

        var features = Signals.Run(extractor, signal);

        // a = A·g0·sin(ωt) m/s² → v = A·g0/ω m/s peak → RMS in mm/s.
        var expected = amplitudeG * SignalUnits.StandardGravity / (2 * Math.PI * frequencyHz) * 1000 / Math.Sqrt(2);
        Assert.Equal(expected, extractor.Feature(features, "velocity_rms_mm_s"), expected * 0.02);
    }

    [Fact]
    public void Extract_SineAccelerationInMetresPerSecondSquared_ConvertsWithoutGravity()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, Unit = SignalUnit.MetersPerSecondSquared };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Sine(48_000 * 3, 48_000, 100, 5.0));

        var expected = 5.0 / (2 * Math.PI * 100) * 1000 / Math.Sqrt(2);
        Assert.Equal(expected, extractor.Feature(features, "velocity_rms_mm_s"), expected * 0.02);
    }

    [Fact]
    public void Extract_VelocityChannel_TakesVelocityAsIs()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 25_600, Unit = SignalUnit.MillimetersPerSecond };
        var extractor = new FeatureExtractor(options);
        var signal = Signals.Add(Signals.Sine(25_600 * 3, 25_600, 49.5, 4.0), Signals.Sine(25_600 * 3, 25_600, 3, 2.0)); // 3 Hz lies outside 10–1000 Hz

        var features = Signals.Run(extractor, signal);

        Assert.Equal(4.0 / Math.Sqrt(2), extractor.Feature(features, "velocity_rms_mm_s"), 0.03);
    }

    [Fact]
    public void Extract_DisplacementChannel_IsDifferentiated()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 12_800, Unit = SignalUnit.Micrometers };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Sine(12_800 * 3, 12_800, 50, 40.0));

        var expected = 2 * Math.PI * 50 * 40.0 * 1e-3 / Math.Sqrt(2); // µm/s → mm/s
        Assert.Equal(expected, extractor.Feature(features, "velocity_rms_mm_s"), expected * 0.02);
    }

    [Theory]
    [InlineData(4.0)]
    [InlineData(2500.0)]
    [InlineData(15_000.0)] // above the 1 kHz band and above the low-rate Nyquist: must not alias in
    public void Extract_AccelerationOutsideVelocityBand_ContributesAlmostNothing(double frequencyHz)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000 };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Sine(48_000 * 3, 48_000, frequencyHz, 1.0));

        var inBandEquivalent = SignalUnits.StandardGravity / (2 * Math.PI * frequencyHz) * 1000 / Math.Sqrt(2);
        var velocity = extractor.Feature(features, "velocity_rms_mm_s");
        Assert.True(velocity < 0.01 * Math.Max(inBandEquivalent, 1), $"velocity {velocity} mm/s");
    }

    [Theory]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Rigid, 1.0, IsoZone.A)]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Rigid, 3.5, IsoZone.C)]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Flexible, 5.0, IsoZone.B)]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Rigid, 9.0, IsoZone.D)]
    public void Extract_VelocityLevel_IsoZoneFeatureFollowsTable(IsoMachineGroup group, IsoSupport support, double velocityRms, IsoZone expected)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 25_600, Unit = SignalUnit.MillimetersPerSecond, MachineGroup = group, Support = support };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Sine(25_600 * 3, 25_600, 100, velocityRms * Math.Sqrt(2)));

        Assert.Equal(velocityRms, extractor.Feature(features, "velocity_rms_mm_s"), velocityRms * 0.02);
        Assert.Equal((float)(int)expected, extractor.Feature(features, "iso_zone"));
    }
}
