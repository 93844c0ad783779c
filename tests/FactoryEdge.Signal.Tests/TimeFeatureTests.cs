namespace FactoryEdge.Signal.Tests;

public sealed class TimeFeatureTests
{
    private static readonly FeatureExtractorOptions Options48k = new() { SampleRateHz = 48_000 };

    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(2.5, 0.7)]
    [InlineData(0.01, -3.0)]
    public void Extract_SineOfKnownAmplitude_RmsIsAmplitudeOverRootTwoAndPeakIsAmplitude(double amplitude, double offset)
    {
        var extractor = new FeatureExtractor(Options48k);
        var features = new float[extractor.FeatureCount];
        var window = Signals.Sine(4096, 48_000, 1000, amplitude, offset: offset);

        extractor.Extract(window, features);

        Assert.Equal(amplitude / Math.Sqrt(2), features[FeatureSchema.Rms], amplitude * 0.003);
        Assert.Equal(amplitude, features[FeatureSchema.Peak], amplitude * 0.003);
        Assert.Equal(2 * amplitude, features[FeatureSchema.PeakToPeak], amplitude * 0.003);
        Assert.Equal(Math.Sqrt(2), features[FeatureSchema.CrestFactor], 0.01);
        Assert.Equal(1.5, features[FeatureSchema.Kurtosis], 0.01);
        Assert.Equal(0.0, features[FeatureSchema.Skewness], 0.01);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Extract_GaussianNoise_KurtosisIsPearsonThree(int seed)
    {
        var extractor = new FeatureExtractor(Options48k with { WindowSize = 16384, Hop = 16384 });
        var features = new float[extractor.FeatureCount];
        var noise = Signals.Gaussian(16384, 0.3, seed);

        extractor.Extract(noise, features);

        // Standard error of the sample kurtosis is √(24/N) ≈ 0.038 here: ±0.2 is five of them.
        Assert.Equal(3.0, features[FeatureSchema.Kurtosis], 0.2);
        Assert.Equal(0.0, features[FeatureSchema.Skewness], 0.1);
        Assert.Equal(0.3, features[FeatureSchema.Rms], 0.01);
    }

    [Fact]
    public void Extract_ImpulsesOnNoise_KurtosisAndCrestFactorRise()
    {
        var extractor = new FeatureExtractor(Options48k);
        var features = new float[extractor.FeatureCount];
        var signal = Signals.Gaussian(4096, 0.1, 9);
        for (var n = 100; n < signal.Length; n += 400)
        {
            signal[n] += 2.0f;
        }

        extractor.Extract(signal, features);

        Assert.True(features[FeatureSchema.Kurtosis] > 10, $"kurtosis {features[FeatureSchema.Kurtosis]}");
        Assert.True(features[FeatureSchema.CrestFactor] > 5, $"crest {features[FeatureSchema.CrestFactor]}");
        Assert.True(features[FeatureSchema.Skewness] > 1, $"skewness {features[FeatureSchema.Skewness]}");
    }

    [Fact]
    public void Extract_ConstantSignal_AllFeaturesFiniteAndShapeFeaturesZero()
    {
        var extractor = new FeatureExtractor(Options48k with { NominalShaftHz = 30, Bearing = BearingCatalog.Get("6205") });
        var features = new float[extractor.FeatureCount];
        var window = new float[4096];
        Array.Fill(window, 0.25f);

        for (var i = 0; i < 120; i++)
        {
            extractor.Extract(window, features);
        }

        Assert.All(features, f => Assert.True(float.IsFinite(f)));
        Assert.Equal(0f, features[FeatureSchema.Rms]);
        Assert.Equal(0f, features[FeatureSchema.CrestFactor]);
        Assert.Equal(0f, features[FeatureSchema.Kurtosis]);
        Assert.Equal(0f, features[FeatureSchema.DominantHz]);
    }

    [Fact]
    public void Extract_WindowWithNaN_FeaturesStayFinite()
    {
        var extractor = new FeatureExtractor(Options48k with { NominalShaftHz = 30 });
        var features = new float[extractor.FeatureCount];
        var signal = Signals.Machine(48_000 * 5, 48_000, 30, seed: 4);
        signal[70_000] = float.NaN;
        signal[90_000] = float.PositiveInfinity;

        features = Signals.Run(extractor, signal);

        Assert.All(features, f => Assert.True(float.IsFinite(f)));
        Assert.True(extractor.IsWarmedUp);
    }
}
