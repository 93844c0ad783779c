namespace FactoryEdge.Signal.Tests;

public sealed class EnvelopeTests
{
    /// <summary>x = A·(1 + m·cos(2π·fm·t))·sin(2π·fc·t) + a little noise.</summary>
    private static float[] AmCarrier(int length, double fs, double carrierHz, double modulationHz, double amplitude, double depth, int seed)
    {
        var noise = Signals.Gaussian(length, 0.01, seed);
        var x = new float[length];
        for (var n = 0; n < length; n++)
        {
            var t = n / fs;
            x[n] = (float)(amplitude * (1 + (depth * Math.Cos(2 * Math.PI * modulationHz * t))) * Math.Sin(2 * Math.PI * carrierHz * t)) + noise[n];
        }

        return x;
    }

    [Theory]
    [InlineData(48_000, 4096, 2048, 6000)]
    [InlineData(48_000, 4096, 4096, 9000)]   // no overlap: the demodulator keeps its own two-window frame
    [InlineData(25_600, 8192, 2048, 4000)]
    [InlineData(12_800, 4096, 1024, 2500)]
    [InlineData(12_800, 1024, 1000, 2500)]   // hop not a power of two
    public void Extract_AmCarrier_EnvelopeLineAtModulationFrequency(double fs, int window, int hop, double carrierHz)
    {
        const double modulationHz = 87.3;
        const double amplitude = 1.0;
        const double depth = 0.5;
        var options = new FeatureExtractorOptions { SampleRateHz = fs, WindowSize = window, Hop = hop };
        var extractor = new FeatureExtractor(options);
        var signal = AmCarrier((int)(fs * 4), fs, carrierHz, modulationHz, amplitude, depth, seed: 1);

        var features = Signals.Run(extractor, signal);

        Assert.True(extractor.IsWarmedUp);
        Assert.Equal(modulationHz, extractor.Feature(features, "env_peak_hz"), 0.3);
        var line = SpectralPeaks.Match(extractor.EnvelopeAmplitude, extractor.EnvelopeBinHz, modulationHz, 0.02, WindowFunction.Hann);
        Assert.Equal(amplitude * depth, line.Amplitude, 0.03);
        // The envelope's AC part is the modulation: RMS = A·m/√2.
        Assert.Equal(amplitude * depth / Math.Sqrt(2), extractor.Feature(features, "env_rms"), 0.02);
    }

    [Fact]
    public void Extract_ModulationAtBpfoWithTachometer_EnvBpfoMatchesLine()
    {
        var bearing = BearingCatalog.Get("6205");
        var orders = FactoryEdge.Core.BearingOrders.FromGeometry(bearing);
        const double shaftHz = 24.6;
        var bpfo = orders.Bpfo * shaftHz * 0.99; // 1 % slip
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = 25, Bearing = bearing };
        var extractor = new FeatureExtractor(options);
        var signal = AmCarrier(48_000 * 4, 48_000, 5200, bpfo, 0.6, 0.4, seed: 2);

        var features = Signals.Run(extractor, signal, externalSpeedHz: shaftHz);

        Assert.Equal(shaftHz, extractor.Feature(features, "shaft_hz"), 1e-4);
        Assert.Equal(bpfo, extractor.Feature(features, "env_bpfo_hz"), 0.3);
        Assert.Equal(0.6 * 0.4, extractor.Feature(features, "env_bpfo"), 0.015);
        // Nothing at the inner-race or cage frequencies.
        Assert.True(extractor.Feature(features, "env_bpfi") < 0.02, "env_bpfi");
        Assert.True(extractor.Feature(features, "env_ftf") < 0.02, "env_ftf");
    }

    [Fact]
    public void Extract_BallDefectAtTwiceSpin_EnvBsfReportsTheTwiceSpinLine()
    {
        var bearing = BearingCatalog.Get("6205");
        var orders = FactoryEdge.Core.BearingOrders.FromGeometry(bearing);
        const double shaftHz = 29.93;
        var twiceSpin = 2 * orders.Bsf * shaftHz;
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = shaftHz, Bearing = bearing };
        var extractor = new FeatureExtractor(options);
        var signal = AmCarrier(48_000 * 4, 48_000, 7000, twiceSpin, 1.0, 0.3, seed: 3);

        var features = Signals.Run(extractor, signal, externalSpeedHz: shaftHz);

        Assert.Equal(twiceSpin, extractor.Feature(features, "env_bsf_hz"), 0.3);
        Assert.Equal(0.3, extractor.Feature(features, "env_bsf"), 0.02);
    }

    [Fact]
    public void Extract_SlowAcquisition_StillDemodulatesWithinItsBandwidth()
    {
        // 2.56 kHz (a Modbus-polled sensor): default band 400–1000 Hz, envelope analysed to 300 Hz.
        var options = new FeatureExtractorOptions { SampleRateHz = 2560, WindowSize = 1024, Hop = 512, NominalShaftHz = 24.75 };
        var extractor = new FeatureExtractor(options);
        var signal = AmCarrier(2560 * 6, 2560, 700, 41.3, 1.0, 0.5, seed: 8);

        var features = Signals.Run(extractor, signal);

        Assert.True(extractor.IsWarmedUp);
        Assert.All(features, f => Assert.True(float.IsFinite(f)));
        Assert.Equal(41.3, extractor.Feature(features, "env_peak_hz"), 0.3);
    }

    [Fact]
    public void Extract_NoBearingConfigured_DefectFeaturesAreZero()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = 30 };
        var extractor = new FeatureExtractor(options);
        var signal = AmCarrier(48_000 * 4, 48_000, 6000, 107, 1.0, 0.5, seed: 4);

        var features = Signals.Run(extractor, signal);

        Assert.True(extractor.IsWarmedUp);
        foreach (var name in new[] { "env_bpfo", "env_bpfo_hz", "env_bpfi", "env_bpfi_hz", "env_bsf", "env_bsf_hz", "env_ftf", "env_ftf_hz" })
        {
            Assert.Equal(0f, extractor.Feature(features, name));
        }

        Assert.Equal(107, extractor.Feature(features, "env_peak_hz"), 0.3);
    }

    [Fact]
    public void Extract_BeforeHistoryIsFull_EnvelopeFeaturesAreZeroAndNotWarmedUp()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, NominalShaftHz = 30, Bearing = BearingCatalog.Get("6205") };
        var extractor = new FeatureExtractor(options);
        var features = new float[extractor.FeatureCount];

        extractor.Extract(AmCarrier(4096, 48_000, 6000, 107, 1, 0.5, 5), features);

        Assert.False(extractor.IsWarmedUp);
        Assert.Equal(0f, extractor.Feature(features, "env_peak_hz"));
        Assert.Equal(0f, extractor.Feature(features, "velocity_rms_mm_s"));
        Assert.Equal(0f, extractor.Feature(features, "iso_zone"));
        Assert.Equal(30f, extractor.Feature(features, "shaft_hz"));
    }

    [Fact]
    public void Reset_AfterGap_HistoryStartsAgain()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000 };
        var extractor = new FeatureExtractor(options);
        Signals.Run(extractor, AmCarrier(48_000 * 3, 48_000, 6000, 60, 1, 0.5, 6));
        Assert.True(extractor.IsWarmedUp);

        extractor.Reset();
        var features = Signals.Run(extractor, AmCarrier(48_000 * 3, 48_000, 6000, 140, 1, 0.5, 7));

        Assert.Equal(140, extractor.Feature(features, "env_peak_hz"), 0.3);
    }

    [Theory]
    [InlineData(48_000, 2000, 18_750)]
    [InlineData(25_600, 1066.67, 10_000)]
    [InlineData(12_800, 1000, 5000)]
    [InlineData(2_560, 400, 1000)]
    public void DefaultEnvelopeBand_ForSampleRate_IsFsOver24ToFsOver256(double fs, double low, double high)
    {
        var band = FeatureExtractorOptions.DefaultEnvelopeBand(fs);

        Assert.Equal(low, band.LowHz, 0.01);
        Assert.Equal(high, band.HighHz, 0.01);
    }
}
