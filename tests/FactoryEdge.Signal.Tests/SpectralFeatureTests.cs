namespace FactoryEdge.Signal.Tests;

public sealed class SpectralFeatureTests
{
    [Theory]
    [InlineData(WindowFunction.FlatTop, 0.002)]
    [InlineData(WindowFunction.Hann, 0.01)]
    [InlineData(WindowFunction.Rectangular, 0.02)]
    public void Extract_SineBetweenBins_AmplitudeSpectrumPeakIsSineAmplitude(WindowFunction window, double tolerance)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, Window = window };
        var extractor = new FeatureExtractor(options);
        var features = new float[extractor.FeatureCount];
        var frequency = 1234.5 + (0.37 * 48_000 / 4096.0); // deliberately off-bin
        const double amplitude = 0.8;

        extractor.Extract(Signals.Sine(4096, 48_000, frequency, amplitude), features);

        var spectrum = extractor.WindowAmplitude;
        var k = SpectralPeaks.ArgMax(spectrum, 1, spectrum.Length - 2);
        var line = SpectralPeaks.Interpolate(spectrum, k, extractor.WindowBinHz, window);
        Assert.Equal(amplitude, line.Amplitude, amplitude * tolerance);
        Assert.Equal(frequency, features[FeatureSchema.DominantHz], extractor.WindowBinHz * (window == WindowFunction.FlatTop ? 0.25 : 0.05));
        if (window == WindowFunction.FlatTop)
        {
            // The flat-top needs no interpolation: the raw bin reads the amplitude.
            Assert.Equal(amplitude, spectrum[k], amplitude * tolerance);
        }
    }

    [Theory]
    [InlineData(WindowFunction.Hann)]
    [InlineData(WindowFunction.FlatTop)]
    public void Extract_SineInBand_BandEnergyIsMeanSquare(WindowFunction window)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, Window = window };
        var extractor = new FeatureExtractor(options);
        var features = new float[extractor.FeatureCount];
        const double amplitude = 1.5;

        extractor.Extract(Signals.Sine(4096, 48_000, 3000, amplitude), features);

        var band2000To5000 = FeatureSchema.FirstBand + 4;
        Assert.Equal("band_2000_5000_hz", extractor.FeatureNames[band2000To5000]);
        Assert.Equal(amplitude * amplitude / 2, features[band2000To5000], amplitude * amplitude / 2 * 0.01);
        Assert.True(features[FeatureSchema.FirstBand] < 1e-6, "no energy in 10–100 Hz");
        Assert.Equal(3000, features[FeatureSchema.SpectralCentroidHz], 15.0);
    }

    [Fact]
    public void Extract_WhiteNoise_BandsCoveringEverythingSumToVariance()
    {
        var options = new FeatureExtractorOptions
        {
            SampleRateHz = 48_000,
            WindowSize = 16384,
            Hop = 16384,
            Bands = [new(0, 6000), new(6000, 12000), new(12000, 24001)],
        };
        var extractor = new FeatureExtractor(options);
        var features = new float[extractor.FeatureCount];
        var noise = Signals.Gaussian(16384, 0.5, 21);

        extractor.Extract(noise, features);

        var total = features[FeatureSchema.FirstBand] + features[FeatureSchema.FirstBand + 1] + features[FeatureSchema.FirstBand + 2];
        var variance = features[FeatureSchema.Rms] * features[FeatureSchema.Rms];
        Assert.Equal((double)variance, total, variance * 0.03);
        // White: the centroid sits in the middle of the band.
        Assert.Equal(12_000, features[FeatureSchema.SpectralCentroidHz], 400.0);
        Assert.Equal("band_12000_24001_hz", extractor.FeatureNames[FeatureSchema.FirstBand + 2]);
    }
}
