using BenchmarkDotNet.Attributes;
using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Benchmarks;

/// <summary>
/// Full per-window feature extraction at 48 kHz, 50 % overlap, on a synthetic machine signal with
/// bearing impacts, in steady state (histories full). The long-history spectra are recomputed every
/// 0.25 s (the default), so the mean includes their amortised share; <see cref="ExtractEveryWindowLong"/>
/// shows the cost when they are recomputed on every window.
/// </summary>
[MemoryDiagnoser]
public class ExtractBenchmarks
{
    private const double SampleRateHz = 48_000;
    private float[] _signal = [];
    private float[] _features = [];
    private FeatureExtractor _extractor = null!;
    private FeatureExtractor _everyWindow = null!;
    private FeatureExtractor _noBandSearch = null!;
    private ChannelHealthChecker _checker = null!;
    private int _position;
    private int _positionEvery;
    private int _positionNoBand;

    [Params(4096, 16384)]
    public int WindowSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _signal = MachineWithImpacts((int)(SampleRateHz * 20), SampleRateHz);
        var options = new FeatureExtractorOptions
        {
            SampleRateHz = SampleRateHz,
            WindowSize = WindowSize,
            Hop = WindowSize / 2,
            NominalShaftHz = 29.93,
            Bearing = BearingCatalog.Get("6205"),
        };
        _extractor = new FeatureExtractor(options);
        _everyWindow = new FeatureExtractor(options with { LongSpectrumUpdateSeconds = 0 });
        _noBandSearch = new FeatureExtractor(options with { BandSearch = false });
        _features = new float[_extractor.FeatureCount];
        _checker = new ChannelHealthChecker(new ChannelDescriptor
        {
            Id = ChannelId.Parse("bench/line/machine/de/x"),
            SampleRateHz = SampleRateHz,
            NominalShaftHz = 29.93,
        });

        // Fill the histories so that every measured call is a steady-state call.
        for (var i = 0; i < 200; i++)
        {
            Extract();
            ExtractEveryWindowLong();
            ExtractWithoutBandSearch();
        }
    }

    [Benchmark(Baseline = true, Description = "Extract (long spectra every 0.25 s)")]
    public float Extract()
    {
        _extractor.Extract(NextWindow(ref _position), _features);
        return _features[0];
    }

    [Benchmark(Description = "Extract (long spectra every window)")]
    public float ExtractEveryWindowLong()
    {
        _everyWindow.Extract(NextWindow(ref _positionEvery), _features);
        return _features[0];
    }

    /// <summary>The same without the band search (31 bands at 48 kHz, tone suppression, prominences): its share of <see cref="Extract"/>.</summary>
    [Benchmark(Description = "Extract without band search")]
    public float ExtractWithoutBandSearch()
    {
        _noBandSearch.Extract(NextWindow(ref _positionNoBand), _features);
        return _features[0];
    }

    [Benchmark(Description = "ChannelHealthChecker.Check")]
    public ChannelHealthFlags Health() => _checker.Check(_signal.AsSpan(0, WindowSize));

    private ReadOnlySpan<float> NextWindow(ref int position)
    {
        if (position + WindowSize > _signal.Length)
        {
            position = 0;
        }

        var window = _signal.AsSpan(position, WindowSize);
        position += WindowSize / 2;
        return window;
    }

    /// <summary>1× and 2× lines, outer-race impacts ringing a 3.5 kHz resonance, and noise.</summary>
    private static float[] MachineWithImpacts(int length, double fs)
    {
        var random = new Random(7);
        var x = new float[length];
        const double shaft = 29.93;
        var impactPeriod = fs / (3.5848 * shaft);
        var nextImpact = 0.0;
        var ring = 0.0;
        var ringPhase = 0.0;
        for (var n = 0; n < length; n++)
        {
            if (n >= nextImpact)
            {
                ring = 1.0;
                nextImpact += impactPeriod * (1 + (0.01 * (random.NextDouble() - 0.5)));
            }

            ringPhase += 2 * Math.PI * 3500 / fs;
            ring *= 0.997;
            var t = n / fs;
            var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            x[n] = (float)((0.05 * Math.Sin(2 * Math.PI * shaft * t)) + (0.02 * Math.Sin(4 * Math.PI * shaft * t)) + (0.5 * ring * Math.Sin(ringPhase)) + (0.03 * noise));
        }

        return x;
    }
}
