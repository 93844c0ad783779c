namespace FactoryEdge.Signal.Tests;

public sealed class SpeedAndOrderTests
{
    [Theory]
    [InlineData(48_000, 24.37, 25.0)]
    [InlineData(25_600, 49.2, 50.0)]
    [InlineData(12_800, 8.1, 8.5)]
    [InlineData(12_800, 147.0, 150.0)]
    public void Extract_ShaftLineOffNominal_TracksSpeedWithinHalfPercent(double fs, double shaftHz, double nominalHz)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = fs, NominalShaftHz = nominalHz };
        var extractor = new FeatureExtractor(options);

        // The low-rate history resolves 1.5 % of the nominal speed: 3 s at 25 Hz, 12.8 s at 8.5 Hz.
        var features = Signals.Run(extractor, Signals.Machine((int)(fs * (shaftHz < 10 ? 14 : 5)), fs, shaftHz, seed: 8));

        Assert.True(extractor.SpeedTracked);
        Assert.Equal(shaftHz, extractor.Feature(features, "shaft_hz"), shaftHz * 0.005);
        // Signals.Machine: 0.05 g at 1×, 0.02 g at 2×, nothing at 0.5× and 3×.
        Assert.Equal(0.05, extractor.Feature(features, "order_1x"), 0.003);
        Assert.Equal(0.02, extractor.Feature(features, "order_2x"), 0.002);
        Assert.True(extractor.Feature(features, "order_3x") < 0.003);
        Assert.True(extractor.Feature(features, "order_0_5x") < 0.003);
    }

    [Fact]
    public void Extract_Tachometer_OverridesTracking()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = 25 };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Machine(48_000 * 5, 48_000, 24.37, seed: 8), externalSpeedHz: 24.5);

        Assert.Equal(24.5f, extractor.Feature(features, "shaft_hz"));
        Assert.Equal(0.05, extractor.Feature(features, "order_1x"), 0.003);
    }

    [Fact]
    public void Extract_NoShaftLine_FallsBackToNominal()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = 25 };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Gaussian(48_000 * 5, 0.1, 3));

        Assert.False(extractor.SpeedTracked);
        Assert.Equal(25f, extractor.Feature(features, "shaft_hz"));
    }

    [Fact]
    public void Extract_UnknownNominalAndNoTachometer_SpeedAndOrdersZero()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, Bearing = BearingCatalog.Get("6205") };
        var extractor = new FeatureExtractor(options);

        var features = Signals.Run(extractor, Signals.Machine(48_000 * 3, 48_000, 30, seed: 2));

        Assert.Equal(0f, extractor.Feature(features, "shaft_hz"));
        Assert.Equal(0f, extractor.Feature(features, "order_1x"));
        Assert.Equal(0f, extractor.Feature(features, "env_bpfi"));
        Assert.True(extractor.Feature(features, "velocity_rms_mm_s") > 0);
    }
}
