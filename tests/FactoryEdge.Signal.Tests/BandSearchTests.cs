using FactoryEdge.Core;

namespace FactoryEdge.Signal.Tests;

public sealed class BandSearchTests
{
    private const double ShaftHz = 29.93;

    private static FeatureExtractorOptions Options(double fs, bool bearing = true) => new()
    {
        SampleRateHz = fs,
        NominalShaftHz = ShaftHz,
        Bearing = bearing ? BearingCatalog.Get("6205") : null,
    };

    /// <summary>Decaying rings of a resonance, one per 1/<paramref name="rateHz"/> s, scaled to <paramref name="rms"/>.</summary>
    private static float[] Impacts(int length, double fs, double rateHz, double resonanceHz, double damping, double rms)
    {
        var x = new double[length];
        var omega = 2 * Math.PI * resonanceHz;
        var decay = damping * omega;
        var ring = (int)(8 / decay * fs);
        for (var k = 0; ; k++)
        {
            var start = (int)Math.Round(k * fs / rateHz);
            if (start >= length)
            {
                break;
            }

            for (var n = 0; n < ring && start + n < length; n++)
            {
                var t = n / fs;
                x[start + n] += Math.Exp(-decay * t) * Math.Sin(omega * t);
            }
        }

        var actual = Math.Sqrt(x.Sum(v => v * v) / length);
        return [.. x.Select(v => (float)(v * rms / actual))];
    }

    private static double Rms(float[] x) => Math.Sqrt(x.Sum(v => (double)v * v) / x.Length);

    [Theory]
    [InlineData(2500.0)]
    [InlineData(5500.0)]
    public void Extract_WeakOuterRaceImpactsAtAnyResonance_RaiseOuterRaceProminenceInThatBand(double resonanceHz)
    {
        const double fs = 48_000;
        var length = (int)(fs * 6);
        var machine = Signals.Machine(length, fs, ShaftHz, seed: 4);
        var bpfo = BearingOrders.FromGeometry(BearingCatalog.Get("6205")).Bpfo * ShaftHz;
        // −15 dB: the impacts carry 3 % of the power; the fixed-band envelope barely moves.
        var faulty = Signals.Add(machine, Impacts(length, fs, bpfo, resonanceHz, 0.03, Rms(machine) * Math.Pow(10, -15 / 20.0)));

        var healthyExtractor = new FeatureExtractor(Options(fs));
        var healthy = Signals.Run(healthyExtractor, machine);
        var faultyExtractor = new FeatureExtractor(Options(fs));
        var fault = Signals.Run(faultyExtractor, faulty);

        Assert.True(healthyExtractor.Feature(healthy, "env_bpfo_prom") > 0);
        Assert.True(faultyExtractor.Feature(fault, "env_bpfo_prom") > 5 * healthyExtractor.Feature(healthy, "env_bpfo_prom"));
        Assert.True(faultyExtractor.Feature(fault, "env_bpfo_prom") > 3 * faultyExtractor.Feature(fault, "env_bpfi_prom"));
        var band = faultyExtractor.Feature(fault, "env_band_hz");
        Assert.InRange(band, resonanceHz * 0.85, resonanceHz * 1.15);
    }

    [Fact]
    public void Extract_SameSignalTwice_IdenticalBandSearchFeatures()
    {
        const double fs = 25_600;
        var signal = Signals.Machine((int)(fs * 4), fs, ShaftHz, seed: 9);
        var a = new FeatureExtractor(Options(fs));
        var b = new FeatureExtractor(Options(fs));

        var first = Signals.Run(a, signal);
        var second = Signals.Run(b, signal);
        a.Reset();
        var afterReset = Signals.Run(a, signal);

        Assert.Equal(first, second);
        Assert.Equal(first, afterReset);
        Assert.True(a.Feature(first, "env_prom_b00") > 0);
    }

    [Fact]
    public void Extract_NoBearing_BandSearchOffAndFeaturesZero()
    {
        const double fs = 48_000;
        var extractor = new FeatureExtractor(Options(fs, bearing: false));

        var features = Signals.Run(extractor, Signals.Machine((int)(fs * 3), fs, ShaftHz, seed: 2));

        Assert.Null(extractor.BandBank);
        Assert.Equal(0f, extractor.Feature(features, "env_bpfo_prom"));
        Assert.Equal(0f, extractor.Feature(features, "env_prom_b00"));
        Assert.Equal(0f, extractor.Feature(features, "env_sk"));
    }

    [Theory]
    [InlineData(12_800, 4096, 1024)]
    [InlineData(25_600, 4096, 2048)]
    [InlineData(48_000, 4096, 2048)]
    [InlineData(48_000, 16384, 4096)]
    [InlineData(96_000, 8192, 8192)]
    public void Bank_AnyRate_AtMostTheSchemaSlotsCoveringOneKilohertzToUsableBandwidth(double fs, int window, int hop)
    {
        var extractor = new FeatureExtractor(Options(fs) with { WindowSize = window, Hop = hop });

        var bank = extractor.BandBank;

        Assert.NotNull(bank);
        Assert.InRange(bank.BandCount, 8, FeatureSchema.BandSlots);
        Assert.True(bank.BandCentreHz(0) < 1600, $"lowest band centre {bank.BandCentreHz(0)} Hz");
        Assert.True(bank.BandCentreHz(bank.BandCount - 1) > 0.8 * fs / 2.56, $"highest band centre {bank.BandCentreHz(bank.BandCount - 1)} Hz");
        for (var i = 1; i < bank.BandCount; i++)
        {
            Assert.True(bank.BandCentreHz(i) > bank.BandCentreHz(i - 1));
        }
    }

    [Fact]
    public void Prominence_PureNoise_NearOne_ModulatedResonanceNoise_Large()
    {
        const double fs = 48_000;
        var length = (int)(fs * 4);
        var noise = Signals.Gaussian(length, 0.05, seed: 5);
        var modulated = Signals.Add(noise, ModulatedNoise(length, fs, 7000, 107.3, 0.05, seed: 6));

        var quiet = new FeatureExtractor(Options(fs));
        var loud = new FeatureExtractor(Options(fs));
        var q = Signals.Run(quiet, noise, externalSpeedHz: ShaftHz);
        var l = Signals.Run(loud, modulated, externalSpeedHz: ShaftHz);

        Assert.InRange(quiet.Feature(q, "env_bpfo_prom"), 0.3, 8);
        // 107.3 Hz = BPFO of a 6205 at 29.93 Hz: resonance noise modulated at exactly that rate is an outer-race line.
        Assert.True(loud.Feature(l, "env_bpfo_prom") > 20, $"prominence {loud.Feature(l, "env_bpfo_prom")}");
        Assert.InRange(loud.Feature(l, "env_band_hz"), 5500, 8500);
    }

    [Fact]
    public void Prominence_StrongStationaryTonesOverTheResonance_LineStillFound()
    {
        // Tones 30 dB above the modulated resonance noise, in its band (like the CWRU normal
        // record's tones near 4.2 kHz): their beats would bury the line without tone suppression.
        const double fs = 48_000;
        var length = (int)(fs * 4);
        var clean = Signals.Add(Signals.Gaussian(length, 0.05, seed: 5), ModulatedNoise(length, fs, 4200, 107.3, 0.03, seed: 6));
        var tones = Signals.Add(clean, Signals.Add(Signals.Sine(length, fs, 4130, 1.0), Signals.Sine(length, fs, 4275, 0.7, phase: 1.1)));

        var plain = new FeatureExtractor(Options(fs));
        var toned = new FeatureExtractor(Options(fs));
        var p = plain.Feature(Signals.Run(plain, clean, externalSpeedHz: ShaftHz), "env_bpfo_prom");
        var t = toned.Feature(Signals.Run(toned, tones, externalSpeedHz: ShaftHz), "env_bpfo_prom");

        Assert.True(p > 10, $"without tones {p}");
        Assert.True(t > p / 3, $"with tones {t}, without {p}");
    }

    /// <summary>Gaussian noise band-limited around <paramref name="carrierHz"/> (±~1 kHz), its amplitude modulated at <paramref name="modulationHz"/>: what impacts ringing a resonance look like.</summary>
    private static float[] ModulatedNoise(int length, double fs, double carrierHz, double modulationHz, double rms, int seed)
    {
        var white = Signals.Gaussian(length, 1, seed);
        var result = new float[length];
        const int span = 24;
        var sum = 0.0;
        for (var n = 0; n < length; n++)
        {
            sum += white[n] - (n >= span ? white[n - span] : 0);
            var t = n / fs;
            var envelope = 1 + (0.8 * Math.Cos(2 * Math.PI * modulationHz * t));
            result[n] = (float)(rms * Math.Sqrt(2.0 / span) * sum * envelope * Math.Sin(2 * Math.PI * carrierHz * t));
        }

        return result;
    }
}
