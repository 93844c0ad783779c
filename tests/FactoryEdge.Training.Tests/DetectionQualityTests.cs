using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Scoring;
using FactoryEdge.Simulation;
using FactoryEdge.Tests.Shared;
using Xunit.Abstractions;

namespace FactoryEdge.Training.Tests;

/// <summary>
/// Detection quality of the trained model, the way an engineer evaluates one (train, then analyze):
/// windows flagged per fault type, false alarms on unseen normal data, diagnosed defect type. The
/// numbers are printed (dotnet test --logger "console;verbosity=detailed") and documented in docs/models.md.
/// </summary>
[Trait("Category", "Quality")]
public sealed class DetectionQualityTests(ITestOutputHelper output)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    [CwruFact]
    public Task Cwru_TrainOnFirstPartOfNormal_FlagsInnerAndOuterRaceAndNoHeldOutNormal() => EvaluateCwruAsync(decimation: 1, windowSize: 4096);

    /// <summary>
    /// Another sample rate: the same records decimated to 12 kHz (windowed-sinc low-pass at 5.4 kHz,
    /// every 4th sample), 1024-sample windows (the same 85 ms), the same goals.
    /// </summary>
    [CwruFact]
    public Task Cwru_DecimatedTo12kHz_SameGoalsWith1024SampleWindows() => EvaluateCwruAsync(decimation: 4, windowSize: 1024);

    private async Task EvaluateCwruAsync(int decimation, int windowSize)
    {
        Recording Load(string file) => Decimate(RecordingReader.Load(TestData.Cwru(file)), decimation);
        var normal = Load(TestData.Normal);
        var split = (long)(normal.SampleCount * 0.6);
        var trained = await ModelTrainer.TrainAsync(
            [new TrainingInput(normal, TestData.Normal, "-") { EndSample = split }],
            new ModelTrainingOptions { ModelId = "cwru", Version = 1, WindowSize = windowSize }, TimeProvider.System);
        using var dir = new TempDirectory();
        var path = trained.Save(dir.File("cwru.onnx")) is { } m ? dir.File(m.ModelFile) : throw new InvalidOperationException();
        output.WriteLine(string.Create(Inv, $"{normal.SampleRateHz} Hz, {windowSize}-sample windows: trained on {trained.Manifest.TrainingWindows} windows (+{trained.Manifest.Calibration!.Windows} held back) of the first 60 % of the normal record; threshold {trained.Manifest.Threshold:0.00}"));

        var normalTest = (await ScoreAsync(path, normal, windowSize)).Where(r => r.FirstSampleIndex >= split).ToList();
        var inner = await ScoreAsync(path, Load(TestData.InnerRace), windowSize);
        var outer = await ScoreAsync(path, Load(TestData.OuterRace), windowSize);
        var ball = await ScoreAsync(path, Load(TestData.Ball), windowSize);
        var rows = new[] { ("normal (last 40 %)", normalTest, DefectType.Unknown), ("inner race 0.007\"", inner, DefectType.InnerRace), ("outer race 0.007\" @6", outer, DefectType.OuterRace), ("ball 0.007\"", ball, DefectType.Ball) };
        var stats = new Dictionary<string, (double Flagged, double Diagnosed)>();
        foreach (var (name, results, expected) in rows)
        {
            var (flagged, diagnosed, summary) = Summarise(trained.Manifest, results, expected);
            stats[name] = (flagged, diagnosed);
            output.WriteLine($"{name}: {summary}");
            output.WriteLine($"  band search medians: {BandSearchMedians(trained.Manifest, results)}");
        }

        Assert.True(normalTest.Count >= 40);
        Assert.Equal(0, stats["normal (last 40 %)"].Flagged);
        Assert.True(stats["inner race 0.007\""].Flagged >= 0.99);
        Assert.True(stats["outer race 0.007\" @6"].Flagged >= 0.99);
        Assert.True(stats["inner race 0.007\""].Diagnosed >= 0.95);
        Assert.True(stats["outer race 0.007\" @6"].Diagnosed >= 0.95);

        // Ball: reported, not required (no clear BSF line in this record).
        Assert.True(stats["ball 0.007\""].Flagged >= 0.9);
    }

    [Fact]
    public async Task Generator_SpeedAndLoadVarying_FalseAlarmsBelow1e3On3000NormalWindows_FaultsFlaggedAndDiagnosed()
    {
        // Train on 8 machines-runs of 25 s at random speeds 27–33 Hz and loads 0.8–1.25.
        var trained = await TestModels.TrainGeneratorAsync("generator", count: 8, seconds: 25, seed: 100);
        using var dir = new TempDirectory();
        var path = TestModels.Write(trained, dir.Path, "generator");
        output.WriteLine(string.Create(Inv, $"trained on {trained.Manifest.TrainingWindows} windows (+{trained.Manifest.Calibration!.Windows} held back), {trained.Manifest.Clusters} clusters, threshold {trained.Manifest.Threshold:0.00}"));

        // Unseen normal runs (other seeds, speeds, loads).
        var random = new Random(7);
        long normalWindows = 0, falseAlarms = 0;
        for (var i = 0; i < 12; i++)
        {
            var results = await ScoreAsync(path, TestModels.Machine(500 + i, 27 + (6 * random.NextDouble()), 0.8 + (0.45 * random.NextDouble()), 25));
            normalWindows += results.Count;
            falseAlarms += results.Count(r => r.Anomalous);
            foreach (var r in results.Where(r => r.Anomalous))
            {
                var z = FeatureTransforms.LineScore(trained.Manifest.LineDetector, trained.Manifest.FeatureSchema, r.Features) / (trained.Manifest.LineDetector?.Scale ?? 1);
                output.WriteLine(string.Create(Inv, $"  false alarm run {i} at {r.FirstSampleIndex / TestModels.SampleRateHz:0.00} s: score {r.Score:0.00}, line z {z:0.0}"));
            }
        }

        output.WriteLine(string.Create(Inv, $"normal: {falseAlarms} false alarms in {normalWindows} unseen windows ({(double)falseAlarms / normalWindows:E1} per window)"));
        Assert.True(normalWindows >= 3000);
        Assert.True((double)falseAlarms / normalWindows <= 1e-3);

        foreach (var fault in new[] { FaultType.OuterRace, FaultType.InnerRace, FaultType.Ball, FaultType.Imbalance, FaultType.Misalignment, FaultType.Looseness })
        {
            foreach (var severity in new[] { 1.0, 0.3 })
            {
                var results = new List<WindowResult>();
                for (var i = 0; i < 2; i++)
                {
                    results.AddRange(await ScoreAsync(path, TestModels.Machine(900 + i, 27 + (6 * random.NextDouble()), 0.8 + (0.45 * random.NextDouble()), 8, fault, severity)));
                }

                var expected = Enum.Parse<DefectType>(fault.ToString());
                var (flagged, diagnosed, summary) = Summarise(trained.Manifest, results, expected);
                output.WriteLine(string.Create(Inv, $"{fault} severity {severity}: {summary}"));
                Assert.True(flagged >= 0.99, $"{fault} {severity}: {summary}");
                Assert.True(diagnosed >= 0.95, $"{fault} {severity}: {summary}");
            }
        }
    }

    /// <summary>
    /// Incipient faults: generator bearing impacts (outer race at BPFO; inner race at BPFI with
    /// load-zone modulation) through a resonance of 2–6 kHz, added to the real CWRU normal record at
    /// −30 … 0 dB (fault RMS / background RMS). Reports the weakest level with ≥ 90 % of windows
    /// flagged, with the false alarms of the same model on the same clean windows (≤ 1 %: measured 0).
    /// </summary>
    [CwruFact]
    public async Task Incipient_GeneratorImpactsInRealNormalRecord_WeakestDetectedLevelReported()
    {
        var normal = RecordingReader.Load(TestData.Cwru(TestData.Normal));
        var split = (long)(normal.SampleCount * 0.6);
        var trained = await ModelTrainer.TrainAsync([new TrainingInput(normal, TestData.Normal, "-") { EndSample = split }], new ModelTrainingOptions { ModelId = "cwru", Version = 1 }, TimeProvider.System);
        using var dir = new TempDirectory();
        var path = TestModels.Write(trained, dir.Path, "cwru");
        if (trained.Manifest.LineDetector is { } ld)
        {
            output.WriteLine(string.Create(Inv, $"line detector: {ld.Inputs.Count} bands, z threshold {ld.ZThreshold:0.0} (held-back max {ld.CalibrationMaxZ:0.0}); deviations {string.Join(" ", ld.Inputs.Select(i => $"{i.Deviation:0.000}"))}"));
        }

        var clean = (await ScoreAsync(path, normal)).Where(r => r.FirstSampleIndex >= split).ToList();
        var cleanShare = (double)clean.Count(r => r.Anomalous) / clean.Count;
        output.WriteLine(string.Create(Inv, $"clean last 40 %: {clean.Count(r => r.Anomalous)}/{clean.Count} windows flagged"));
        Assert.True(cleanShare <= 0.01);
        var background = normal.Channels[0].Samples.ToArray();
        var backgroundRms = Rms(background);
        var worstOf = new Dictionary<FaultType, double>();
        foreach (var fault in new[] { FaultType.OuterRace, FaultType.InnerRace })
        {
            var worst = double.NegativeInfinity;
            foreach (var resonance in new[] { 2000.0, 4000, 6000 })
            {
                foreach (var damping in new[] { 0.02, 0.06 })
                {
                    var impacts = new float[background.Length];
                    new MachineSignalGenerator(new MachineSignalOptions
                    {
                        SampleRateHz = normal.SampleRateHz,
                        ShaftHz = normal.NominalShaftHz,
                        OneXAmplitudeG = 0,
                        TwoXAmplitudeG = 0,
                        NoiseRmsG = 0,
                        ResonanceNoiseRmsG = 0,
                        ResonanceHz = resonance,
                        ResonanceDampingRatio = damping,
                        Seed = 3,
                        Faults = [new MachineFault(fault)],
                    }).Generate(impacts);
                    var impactRms = Rms(impacts);
                    var weakest = double.NaN;
                    var line = new List<string>();
                    foreach (var db in new[] { 0.0, -5, -10, -15, -20, -25, -30 })
                    {
                        var gain = (float)(backgroundRms * Math.Pow(10, db / 20) / impactRms);
                        var mixed = new float[background.Length];
                        for (var i = 0; i < mixed.Length; i++)
                        {
                            mixed[i] = background[i] + (gain * impacts[i]);
                        }

                        var recording = new Recording("mixed.csv", normal.SampleRateHz, [new RecordingChannel("accel", "x", SignalUnit.G, mixed)], normal.Metadata)
                        {
                            Bearing = normal.Bearing,
                            NominalShaftHz = normal.NominalShaftHz,
                        };
                        var results = (await ScoreAsync(path, recording)).Where(r => r.FirstSampleIndex >= split).ToList();
                        var share = (double)results.Count(r => r.Anomalous) / results.Count;
                        var schema = trained.Manifest.FeatureSchema.ToList();
                        int Ix(string n) => schema.IndexOf(n);
                        var med = (string n) => Ix(n) < 0 ? 0 : results.Select(r => r.Features[Ix(n)]).Order().ElementAt(results.Count / 2);
                        var zs = results.Select(r => FeatureTransforms.LineScore(trained.Manifest.LineDetector, schema, r.Features) / (trained.Manifest.LineDetector?.Scale ?? 1)).Order().ToList();
                        line.Add(string.Create(Inv, $"{db} dB {share:P0} z {zs[zs.Count / 2]:0.0} [o {med("env_bpfo_prom"):0.0} i {med("env_bpfi_prom"):0.0} b {med("env_bsf_prom"):0.0} band {med("env_band_hz"):0} sk {med("env_sk"):0.00}@{med("env_sk_band_hz"):0}]"));
                        if (share >= 0.9)
                        {
                            weakest = db;
                        }
                    }

                    output.WriteLine(string.Create(Inv, $"{fault}, resonance {resonance} Hz, ζ {damping}: weakest level ≥ 90 % flagged {weakest} dB ({string.Join(", ", line)})"));
                    Assert.False(double.IsNaN(weakest), $"{fault} at {resonance} Hz not detected even at 0 dB");
                    worst = Math.Max(worst, weakest);
                }
            }

            worstOf[fault] = worst;
        }

        // Measured (docs/models.md): outer race −15 … −30 dB, inner race −10 … −25 dB depending on the
        // resonance; the −20 dB goal is met at 9 of 12 rows, not at 4 kHz (ζ .06 outer, both inner)
        // where the record's own background is strongest. Asserted with 5 dB of slack.
        Assert.True(worstOf[FaultType.OuterRace] <= -10, $"outer race: weakest level detected at every resonance {worstOf[FaultType.OuterRace]} dB");
        Assert.True(worstOf[FaultType.InnerRace] <= -5, $"inner race: weakest level detected at every resonance {worstOf[FaultType.InnerRace]} dB");
    }

    private static async Task<List<WindowResult>> ScoreAsync(string modelPath, Recording recording, int windowSize = 4096)
    {
        using var scorer = ModelAnalysis.CreateScorer(modelPath, windowSize);
        var results = await FeatureReplay.RunAsync(recording, FeatureReplay.Describe(recording), windowSize, 0.5, scorer);
        return [.. results.Where(r => !r.WarmingUp && float.IsFinite(r.Score))];
    }

    /// <summary>Every <paramref name="factor"/>-th sample after a windowed-sinc low-pass at 0.45 × the new rate (255 taps, Blackman).</summary>
    private static Recording Decimate(Recording recording, int factor)
    {
        if (factor == 1)
        {
            return recording;
        }

        const int taps = 255;
        var h = new double[taps];
        var cutoff = 0.45 / factor;
        for (var n = 0; n < taps; n++)
        {
            var m = n - ((taps - 1) / 2.0);
            var sinc = m == 0 ? 2 * cutoff : Math.Sin(2 * Math.PI * cutoff * m) / (Math.PI * m);
            var blackman = 0.42 - (0.5 * Math.Cos(2 * Math.PI * n / (taps - 1))) + (0.08 * Math.Cos(4 * Math.PI * n / (taps - 1)));
            h[n] = sinc * blackman;
        }

        var x = recording.Channels[0].Samples.Span;
        var y = new float[(x.Length - taps) / factor];
        for (var i = 0; i < y.Length; i++)
        {
            var acc = 0.0;
            var start = i * factor;
            for (var n = 0; n < taps; n++)
            {
                acc += h[n] * x[start + n];
            }

            y[i] = (float)acc;
        }

        var channel = recording.Channels[0];
        return new Recording(recording.Name, recording.SampleRateHz / factor, [new RecordingChannel(channel.Name, channel.Axis, channel.Unit, y)], recording.Metadata)
        {
            Bearing = recording.Bearing,
            NominalShaftHz = recording.NominalShaftHz,
        };
    }

    /// <summary>Share of windows flagged; share of the flagged, diagnosable windows diagnosed as expected.</summary>
    private static (double Flagged, double Diagnosed, string Summary) Summarise(ModelManifest manifest, List<WindowResult> results, DefectType expected)
    {
        var flagged = results.Where(r => r.Anomalous).ToList();
        var diagnoses = flagged.Select(r => FaultDiagnoser.Diagnose(manifest, manifest.FeatureSchema, r.Features)).ToList();
        var diagnosable = diagnoses.Where(d => d.Defect != DefectType.Unknown).ToList();
        var correct = diagnosable.Count(d => d.Defect == expected);
        var flaggedShare = results.Count == 0 ? 0 : (double)flagged.Count / results.Count;
        var diagnosedShare = diagnosable.Count == 0 ? 0 : (double)correct / diagnosable.Count;
        var breakdown = string.Join(", ", diagnoses.GroupBy(d => d.Defect).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
        return (flaggedShare, diagnosedShare, string.Create(Inv, $"{flagged.Count}/{results.Count} windows flagged ({flaggedShare:P1}); diagnosis correct on {correct}/{diagnosable.Count} diagnosable flagged windows ({diagnosedShare:P1}) [{breakdown}]"));
    }

    /// <summary>Median band-search prominences (outer, inner, ball) and band, over the windows where they are available.</summary>
    private static string BandSearchMedians(ModelManifest manifest, List<WindowResult> results)
    {
        var schema = manifest.FeatureSchema.ToList();
        string Median(string name)
        {
            var i = schema.IndexOf(name);
            var values = i < 0 ? [] : results.Select(r => r.Features[i]).Where(v => v > 0).Order().ToList();
            return values.Count == 0 ? "-" : values[values.Count / 2].ToString("0.#", Inv);
        }

        return $"env_bpfo_prom {Median("env_bpfo_prom")}, env_bpfi_prom {Median("env_bpfi_prom")}, env_bsf_prom {Median("env_bsf_prom")}, env_band_hz {Median("env_band_hz")}";
    }

    private static double Rms(float[] x)
    {
        var mean = x.Average(v => (double)v);
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / x.Length);
    }
}
