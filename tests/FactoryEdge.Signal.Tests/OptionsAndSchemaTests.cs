namespace FactoryEdge.Signal.Tests;

public sealed class OptionsAndSchemaTests
{
    [Fact]
    public void Names_DefaultBands_KeepFixedOrderAndAppendOnly()
    {
        var names = FeatureSchema.Names(FeatureExtractorOptions.DefaultBands);

        Assert.Equal("rms", names[FeatureSchema.Rms]);
        Assert.Equal("dominant_hz", names[FeatureSchema.DominantHz]);
        Assert.Equal("band_10_100_hz", names[FeatureSchema.FirstBand]);
        Assert.Equal("shaft_hz", names[FeatureSchema.FirstBand + 6]);
        // Version 1 ended with iso_zone, env_rms; version 2 appends the band search after them.
        var v1 = FeatureSchema.FirstBand + 6 + FeatureSchema.TailCountByVersion[1];
        Assert.Equal("iso_zone", names[v1 - 2]);
        Assert.Equal("env_rms", names[v1 - 1]);
        Assert.Equal(v1 - 1, FeatureSchema.IndexOf("env_rms", 6));
        Assert.Equal("env_bpfo_prom", names[v1]);
        Assert.Equal("env_prom_b31", names[^1]);
        Assert.Equal(FeatureSchema.FirstBand + 6 + FeatureSchema.TailCountByVersion[FeatureSchema.Version], names.Length);
    }

    [Theory]
    [InlineData(1000, 500, "WindowSize")]
    [InlineData(4096, 0, "Hop")]
    [InlineData(4096, 8192, "Hop")]
    public void Constructor_BadWindowOrHop_ThrowsNamingTheOption(int windowSize, int hop, string option)
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 48_000, WindowSize = windowSize, Hop = hop };

        var error = Assert.Throws<ArgumentException>(() => new FeatureExtractor(options));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_EnvelopeBandAboveNyquist_ThrowsNamingTheOption()
    {
        var options = new FeatureExtractorOptions { SampleRateHz = 12_800, EnvelopeBand = new FrequencyBand(2000, 8000) };

        var error = Assert.Throws<ArgumentException>(() => new FeatureExtractor(options));

        Assert.Contains("EnvelopeBand", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_WrongWindowLength_Throws()
    {
        var extractor = new FeatureExtractor(new FeatureExtractorOptions { SampleRateHz = 48_000 });

        Assert.Throws<ArgumentException>(() => extractor.Extract(new float[1000], new float[extractor.FeatureCount]));
        Assert.Throws<ArgumentException>(() => extractor.Extract(new float[4096], new float[3]));
    }

    [Fact]
    public void Extractor_DefaultOptions48k_UsesDocumentedRatesAndResolutions()
    {
        var extractor = new FeatureExtractor(new FeatureExtractorOptions { SampleRateHz = 48_000 });

        Assert.Equal(48_000 / 18.0, extractor.LowRateHz, 1e-9);
        Assert.True(extractor.LowBinHz < 0.7, $"low-rate resolution {extractor.LowBinHz} Hz");
        Assert.True(extractor.EnvelopeBinHz < 1.0, $"envelope resolution {extractor.EnvelopeBinHz} Hz");
        Assert.True(extractor.Envelope.UsesWindowSpectrum);
        Assert.Equal(2048, extractor.Envelope.InverseLength);
    }
}
