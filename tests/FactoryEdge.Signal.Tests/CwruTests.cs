using System.Collections.Concurrent;
using FactoryEdge.Core;
using FactoryEdge.Tests.Shared;

namespace FactoryEdge.Signal.Tests;

/// <summary>
/// Real recordings: Case Western Reserve University Bearing Data Center, drive-end accelerometer,
/// 48 kHz, 0 hp, SKF 6205 (BPFI 162.1 Hz, BPFO 107.3 Hz), shaft 1796 rpm = 29.93 Hz.
/// </summary>
public sealed class CwruTests
{
    private const double ShaftHz = 29.93;
    private const double Bpfi = 162.1;
    private const double Bpfo = 107.3;

    // A nameplate-style guess 5 % off the true speed: the tracker has to find the 1× line itself.
    private const double NominalGuessHz = 28.5;

    private static readonly ConcurrentDictionary<(string File, int Decimation), CwruRecording> Cache = new();

    [CwruTheory]
    [InlineData(TestData.Normal)]
    [InlineData(TestData.InnerRace)]
    [InlineData(TestData.OuterRace)]
    [InlineData(TestData.Ball)]
    public void Extract_EachRecording_TrackedShaftSpeedWithinOnePercent(string file)
    {
        var run = Analyse(file);

        Assert.True(run.Windows.Count > 40);
        foreach (var w in run.Windows)
        {
            Assert.True(w.SpeedTracked, "the 1× line was found (no fallback to the nominal guess)");
            Assert.InRange(w.Get("shaft_hz"), ShaftHz * 0.99, ShaftHz * 1.01);
        }
    }

    [CwruFact]
    public void Extract_InnerRaceRecording_EnvelopeShowsBpfi()
    {
        var run = Analyse(TestData.InnerRace);

        foreach (var w in run.Windows)
        {
            Assert.InRange(w.Get("env_peak_hz"), Bpfi * 0.98, Bpfi * 1.02);
            Assert.InRange(w.Get("env_bpfi_hz"), Bpfi * 0.98, Bpfi * 1.02);
        }
    }

    [CwruFact]
    public void Extract_OuterRaceRecording_EnvelopeShowsBpfo()
    {
        var run = Analyse(TestData.OuterRace);

        foreach (var w in run.Windows)
        {
            Assert.InRange(w.Get("env_peak_hz"), Bpfo * 0.98, Bpfo * 1.02);
            Assert.InRange(w.Get("env_bpfo_hz"), Bpfo * 0.98, Bpfo * 1.02);
        }
    }

    [CwruFact]
    public void Extract_FaultRecordings_DefectAmplitudeFarAboveNormal()
    {
        var normal = Analyse(TestData.Normal);
        var inner = Analyse(TestData.InnerRace);
        var outer = Analyse(TestData.OuterRace);
        var ball = Analyse(TestData.Ball);

        Assert.True(inner.Median("env_bpfi") > 10 * normal.Median("env_bpfi"), $"env_bpfi inner {inner.Median("env_bpfi")} vs normal {normal.Median("env_bpfi")}");
        Assert.True(outer.Median("env_bpfo") > 10 * normal.Median("env_bpfo"), $"env_bpfo outer {outer.Median("env_bpfo")} vs normal {normal.Median("env_bpfo")}");
        // Each fault's own line dominates the other race's line in the same recording.
        Assert.True(inner.Median("env_bpfi") > 5 * inner.Median("env_bpfo"));
        Assert.True(outer.Median("env_bpfo") > 5 * outer.Median("env_bpfi"));
        // The race faults are impulsive; the normal bearing is not.
        Assert.True(inner.Median("kurtosis") > 5 && outer.Median("kurtosis") > 5 && normal.Median("kurtosis") < 3.5);
        // The ball record shows no clear BSF line (a known property of these records), but its
        // demodulated level is still well above the healthy bearing's.
        Assert.True(ball.Median("env_rms") > 2 * normal.Median("env_rms"), $"env_rms ball {ball.Median("env_rms")} vs normal {normal.Median("env_rms")}");
    }

    [CwruTheory]
    [InlineData(TestData.Normal)]
    [InlineData(TestData.InnerRace)]
    [InlineData(TestData.OuterRace)]
    [InlineData(TestData.Ball)]
    public void Check_EveryWindowOfRecording_NoHealthFlags(string file)
    {
        var recording = Load(file, 1);
        foreach (var nominal in new[] { ShaftHz, 0.0 })
        {
            var checker = new ChannelHealthChecker(new ChannelDescriptor
            {
                Id = ChannelId.Parse("cwru/rig/motor/de/x"),
                SampleRateHz = recording.SampleRateHz,
                NominalShaftHz = nominal,
            });
            foreach (var windowSize in new[] { 4096, 16384 })
            {
                for (var start = 0; start + windowSize <= recording.Samples.Length; start += windowSize / 2)
                {
                    var flags = checker.Check(recording.Samples.AsSpan(start, windowSize));
                    Assert.True(flags == ChannelHealthFlags.None, $"{file} window at {start} ({windowSize}): {flags}");
                }
            }
        }
    }

    [CwruTheory]
    [InlineData(2)] // 24 kHz
    [InlineData(4)] // 12 kHz
    public void Extract_InnerRaceAtLowerSampleRate_StillFindsBpfiAndSpeed(int decimation)
    {
        var run = Analyse(TestData.InnerRace, decimation);

        foreach (var w in run.Windows)
        {
            Assert.InRange(w.Get("env_peak_hz"), Bpfi * 0.98, Bpfi * 1.02);
            Assert.InRange(w.Get("shaft_hz"), ShaftHz * 0.99, ShaftHz * 1.01);
        }
    }

    private static CwruRecording Load(string file, int decimation) => Cache.GetOrAdd((file, decimation), static key =>
    {
        var recording = Signals.LoadCwru(TestData.Cwru(key.File));
        if (key.Decimation == 1)
        {
            return recording;
        }

        var fs = recording.SampleRateHz / key.Decimation;
        var taps = FirDesign.LowPass(0.4 * fs, 0.5 * fs, recording.SampleRateHz, 90);
        var decimator = new StreamingDecimator(taps, key.Decimation, recording.Samples.Length);
        var output = new float[decimator.MaxOutput(recording.Samples.Length)];
        var count = decimator.Process(recording.Samples, output);
        return new CwruRecording(fs, recording.Header, output[..count]);
    });

    private static AnalysisRun Analyse(string file, int decimation = 1)
    {
        var recording = Load(file, decimation);
        Assert.Equal("SKF_6205-2RS_JEM", recording.Header["bearing"]);
        var options = new FeatureExtractorOptions
        {
            SampleRateHz = recording.SampleRateHz,
            WindowSize = 4096,
            Hop = 2048,
            NominalShaftHz = NominalGuessHz,
            Bearing = BearingCatalog.Get(recording.Header["bearing"]),
        };
        var extractor = new FeatureExtractor(options);
        var windows = new List<WindowFeatures>();
        var features = new float[extractor.FeatureCount];
        for (var start = 0; start + options.WindowSize <= recording.Samples.Length; start += options.Hop)
        {
            extractor.Extract(recording.Samples.AsSpan(start, options.WindowSize), features);
            Assert.All(features, f => Assert.True(float.IsFinite(f)));
            if (extractor.IsWarmedUp)
            {
                windows.Add(new WindowFeatures(extractor, (float[])features.Clone(), extractor.SpeedTracked));
            }
        }

        return new AnalysisRun(windows);
    }

    private sealed record WindowFeatures(FeatureExtractor Extractor, float[] Values, bool SpeedTracked)
    {
        public double Get(string name) => Extractor.Feature(Values, name);
    }

    private sealed record AnalysisRun(IReadOnlyList<WindowFeatures> Windows)
    {
        public double Median(string name)
        {
            var values = new double[Windows.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = Windows[i].Get(name);
            }

            Array.Sort(values);
            return values[values.Length / 2];
        }
    }
}
