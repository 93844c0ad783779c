using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Tests.Shared;

namespace FactoryEdge.Scoring.Tests;

[Collection("model")]
public sealed class ScorerTests(ModelFixture fixture) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Activate_FeatureSchemaMismatch_RefusedNamingTheFeature_PreviousModelKeepsScoring()
    {
        using var scorer = Initialised(4, out var batch);
        Assert.True(scorer.Activate(Load(1)).Accepted);
        scorer.Score(batch);

        var renamed = fixture.FeatureNames.ToArray();
        renamed[5] = "skew";
        var path = TestModels.Write(fixture.Model, _dir.Path, "renamed", 2, m => m with { FeatureSchema = renamed });
        var result = scorer.Activate(ModelLoader.Load(path, ModelLoadPolicy.Evaluation));
        Assert.False(result.Accepted);
        Assert.Contains("feature 5 is 'skew' in the model, 'skewness' in the pipeline", result.Message, StringComparison.Ordinal);

        scorer.Score(batch);
        Assert.Equal("machine@v1", scorer.ModelId);
        Assert.All(Enumerable.Range(0, batch.Count), r => Assert.True(float.IsFinite(batch.Scores[r])));
    }

    [Fact]
    public void Activate_ModelOfSchemaVersion1_StillLoadsAndScores()
    {
        // A manifest written before the band-search features: its schema ends at env_rms, a prefix of today's.
        var v1 = fixture.FeatureNames.Take(Signal.FeatureSchema.FirstBand + 6 + 17).ToArray();
        Assert.Equal("env_rms", v1[^1]);
        var path = TestModels.Write(fixture.Model, _dir.Path, "schema-v1", 2, m => m with { FeatureSchema = v1, LineDetector = null, SelfTest = null });
        using var scorer = Initialised(2, out var batch);

        var result = scorer.Activate(ModelLoader.Load(path, ModelLoadPolicy.Evaluation));
        scorer.Score(batch);

        Assert.True(result.Accepted, result.Message);
        Assert.Equal("machine@v2", scorer.ModelId);
        Assert.All(Enumerable.Range(0, batch.Count), r => Assert.True(float.IsFinite(batch.Scores[r])));
    }

    [Fact]
    public void Load_LineDetectorOfAnOlderBandSearch_RefusedAskingForRetraining()
    {
        // A first-release manifest: no band_search in its line detector (= version 1, before tone suppression).
        Assert.Equal(Signal.FeatureSchema.BandSearchVersion, fixture.Model.Manifest.LineDetector!.BandSearch);
        var path = TestModels.Write(fixture.Model, _dir.Path, "old-band-search", 2, m => m with { LineDetector = m.LineDetector! with { BandSearch = 1 } });

        var error = Assert.Throws<ModelLoadException>(() => ModelLoader.Load(path, ModelLoadPolicy.Evaluation));

        Assert.Contains("band-search version 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("retrain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_LineDetector_OneDefectLineRisingAloneCrossesTheThreshold()
    {
        var line = fixture.Model.Manifest.LineDetector;
        Assert.NotNull(line);
        using var scorer = Initialised(1, out var batch);
        Assert.True(scorer.Activate(Load(1)).Accepted);
        var row = fixture.NormalRows[^1].ToArray();
        batch.Clear();
        batch.Add(0, row);
        scorer.Score(batch);
        var normal = batch.Scores[0];

        // One band's prominence at (ZThreshold + 1) deviations above its training mean, everything else normal.
        var input = line.Inputs[0];
        row[fixture.FeatureNames.ToList().IndexOf(input.Name)] = (float)Math.Pow(10, input.Mean + ((line.ZThreshold + 1) * input.Scale));
        batch.Clear();
        batch.Add(0, row);
        scorer.Score(batch);

        Assert.True(normal < batch.Thresholds[0], $"normal row scored {normal}");
        Assert.True(batch.Scores[0] > batch.Thresholds[0], $"line at z = {line.ZThreshold + 1} scored {batch.Scores[0]}, threshold {batch.Thresholds[0]}");
        var drivers = FaultDiagnoser.Diagnose(fixture.Model.Manifest, fixture.FeatureNames, row).Drivers;
        Assert.Equal(input.Name, drivers[0].Key); // the explanation names the band that drove the score
        Assert.Equal(line.ZThreshold + 1, drivers[0].Value, 3);
    }

    [Fact]
    public void Activate_LongerSchemaThanPipeline_WindowSizeRateOrBearingMismatch_Refused()
    {
        var longer = fixture.FeatureNames.Append("future_feature").ToArray();
        var path = TestModels.Write(fixture.Model, _dir.Path, "longer", 2, m => m with { FeatureSchema = longer, SelfTest = m.SelfTest! with { Features = [.. m.SelfTest.Features, 0f] } });
        using (var scorer = Initialised(2, out _))
        {
            var result = scorer.Activate(ModelLoader.Load(path, ModelLoadPolicy.Evaluation));
            Assert.Contains($"expects {longer.Length} features", result.Message, StringComparison.Ordinal);
        }

        using (var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], windowSize: 8192))
        {
            scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
            Assert.Contains("trained on 4096-sample windows, the pipeline uses 8192", scorer.Activate(Load(1)).Message, StringComparison.Ordinal);
        }

        using (var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096))
        {
            scorer.Initialize(ModelFixture.Channels(2, sampleRateHz: 48000), fixture.FeatureNames);
            Assert.Contains("samples at 48000 Hz", scorer.Activate(Load(1)).Message, StringComparison.Ordinal);
        }

        using (var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096))
        {
            scorer.Initialize(ModelFixture.Channels(2, bearing: false), fixture.FeatureNames);
            Assert.Contains("declares no bearing", scorer.Activate(Load(1)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Activate_VersionPolicy_OlderRefusedUnlessRollback_SameVersionOtherModelRefused()
    {
        using var scorer = Initialised(2, out var batch);
        Assert.True(scorer.Activate(Load(5)).Accepted);
        scorer.Score(batch);
        Assert.Contains("older than the active machine@v5", scorer.Activate(Load(4)).Message, StringComparison.Ordinal);
        Assert.Contains("already active", scorer.Activate(Load(5)).Message, StringComparison.Ordinal);
        var other = TestModels.Write(fixture.Model, _dir.Path, "other", 5, m => m with { ModelSha256 = new string('a', 64) });
        Assert.Throws<ModelLoadException>(() => ModelLoader.Load(other, ModelLoadPolicy.Evaluation)); // hash mismatch never loads

        Assert.True(scorer.Activate(Load(4), allowOlder: true).Accepted);
        scorer.Score(batch);
        Assert.Equal("machine@v4", scorer.ModelId);
    }

    [Fact]
    public void Activate_ModelOfUnassignedLine_Refused()
    {
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("plant/line-1/other", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
        Assert.Contains("no channel is assigned to model 'machine'", scorer.Activate(Load(1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_BatchedEqualsOneByOne_NormalBelowFaultAboveThreshold_ChunksAboveMaxBatch()
    {
        var model = ModelLoader.Load(TestModels.Write(fixture.Model, _dir.Path, "m", 1), new ModelLoadPolicy { RequireSignature = false, MaxBatch = 8 });
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(40), fixture.FeatureNames);
        Assert.True(scorer.Activate(model).Accepted);
        var rows = fixture.NormalRows.Take(20).Concat(fixture.FaultRows.Take(20)).ToList();
        var batch = new ScoringBatch(40, fixture.FeatureNames.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            batch.Add(i, rows[i]);
        }

        scorer.Score(batch); // 40 rows in chunks of 8
        var batched = batch.Scores.Take(rows.Count).ToArray();
        var single = new ScoringBatch(1, fixture.FeatureNames.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            single.Clear();
            single.Add(i, rows[i]);
            scorer.Score(single);
            Assert.Equal(single.Scores[0], batched[i], 5);
        }

        var threshold = (float)fixture.Model.Manifest.Threshold;
        Assert.All(batched.Take(20), s => Assert.InRange(s, 0f, threshold));
        Assert.All(batched.Skip(20), s => Assert.True(s > threshold));
        Assert.All(Enumerable.Range(0, rows.Count), r => Assert.Equal(threshold, batch.Thresholds[r]));
    }

    [Fact]
    public void Score_WarmingRowsAndUnassignedChannels_WarmupMarkedAndFallbackScores()
    {
        var baseline = new StatisticalBaselineScorer(new BaselineOptions { WarmupWindows = 2 });
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("plant/line-1/m1/accel0", "machine")], 4096, baseline);
        scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
        Assert.True(scorer.Activate(Load(1)).Accepted);
        var envRms = fixture.FeatureNames.ToList().IndexOf("env_rms");
        var warming = fixture.NormalRows[0].ToArray();
        warming[envRms] = 0;
        var batch = new ScoringBatch(8, fixture.FeatureNames.Count);
        batch.Add(0, warming);
        batch.Add(0, fixture.NormalRows[1]);
        batch.Add(1, fixture.NormalRows[2]);
        scorer.Score(batch);
        Assert.True(batch.WarmingUp[0]);
        Assert.False(batch.WarmingUp[1]);
        Assert.True(float.IsFinite(batch.Scores[1]));
        Assert.True(batch.WarmingUp[2]); // the baseline learns channel 1
        Assert.Equal(6f, batch.Thresholds[2]);
        Assert.Equal("machine@v1+baseline-zscore", scorer.ModelId);
    }

    [Fact]
    public void Score_SteadyState_AllocatesNothing()
    {
        var baseline = new StatisticalBaselineScorer(new BaselineOptions { WarmupWindows = 1 });
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("plant/line-1/m1", "machine")], 4096, baseline);
        var channels = ModelFixture.Channels(64).Concat(ModelFixture.Channels(8, machine: "m2")).ToArray();
        scorer.Initialize(channels, fixture.FeatureNames);
        Assert.True(scorer.Activate(Load(1)).Accepted);
        var sizes = new[] { 1, 64, 72 };
        foreach (var size in sizes)
        {
            var batch = new ScoringBatch(72, fixture.FeatureNames.Count);
            for (var i = 0; i < size; i++)
            {
                batch.Add(i % channels.Length, fixture.NormalRows[i % fixture.NormalRows.Count]);
            }

            for (var i = 0; i < 50; i++)
            {
                scorer.Score(batch);
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                scorer.Score(batch);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"batch {size}: {allocated} bytes in 1000 calls");
            Assert.All(Enumerable.Range(0, size), r => Assert.True(float.IsFinite(batch.Scores[r])));
        }
    }

    [Fact]
    public void Shadow_ReportsWouldBeAlertRate_PromoteMakesItActive()
    {
        using var scorer = Initialised(4, out _, raiseAfter: 3);
        Assert.True(scorer.Activate(Load(1)).Accepted);
        // A candidate with a threshold so low that it flags everything.
        var strict = TestModels.Write(fixture.Model, _dir.Path, "strict", 2, m => m with { Threshold = 1e-3 });
        Assert.True(scorer.StartShadow(ModelLoader.Load(strict, ModelLoadPolicy.Evaluation)).Accepted);
        var batch = new ScoringBatch(4, fixture.FeatureNames.Count);
        for (var tick = 0; tick < 5; tick++)
        {
            batch.Clear();
            for (var c = 0; c < 4; c++)
            {
                batch.Add(c, fixture.NormalRows[(tick * 4) + c]);
            }

            scorer.Score(batch);
            Assert.All(Enumerable.Range(0, 4), r => Assert.True(batch.Scores[r] < batch.Thresholds[r])); // alerts follow the active model
        }

        var report = scorer.GetShadowReport("machine")!;
        Assert.Equal("machine@v1", report.ActiveModel);
        Assert.Equal("machine@v2", report.ShadowModel);
        Assert.Equal(20, report.Windows);
        Assert.Equal(0, report.ActiveAnomalousWindows);
        Assert.Equal(20, report.ShadowAnomalousWindows);
        Assert.Equal(1.0, report.ShadowAnomalousRate);
        Assert.Equal(4, report.ShadowAlerts); // one per channel after 3 consecutive windows
        Assert.Equal(0, report.ActiveAlerts);

        Assert.True(scorer.Promote("machine"));
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);
        Assert.Null(scorer.GetShadowReport("machine"));
        Assert.All(Enumerable.Range(0, 4), r => Assert.True(batch.Scores[r] > batch.Thresholds[r]));
    }

    [Fact]
    public void Stage_BeforeInitialize_BoundAtInitialize_MismatchThrows()
    {
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 8192);
        scorer.Stage(Load(1));
        var ex = Assert.Throws<ModelLoadException>(() => scorer.Initialize(ModelFixture.Channels(1), fixture.FeatureNames));
        Assert.Contains("8192", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelAnalysis_WindowMismatch_TellsWhichWindowToUse()
    {
        var path = TestModels.Write(fixture.Model, _dir.Path, "m", 1);
        var ex = Assert.Throws<ModelLoadException>(() => ModelAnalysis.CreateScorer(path, 8192));
        Assert.Contains("--window 4096", ex.Message, StringComparison.Ordinal);
        using var scorer = ModelAnalysis.CreateScorer(path, 4096);
        scorer.Initialize(ModelFixture.Channels(1), fixture.FeatureNames);
        Assert.Equal("machine@v1", scorer.ModelId);
    }

    [Fact]
    public void Score_SessionThrows_ExceptionReachesThePipeline_NextBatchScoresNormally()
    {
        var path = TestModels.Write(fixture.Model, _dir.Path, "fake", 1, m => m with { SelfTest = null });
        FakeSession? session = null;
        var model = ModelLoader.Load(path, ModelLoadPolicy.Evaluation, (_, manifest, options) => session = new FakeSession(manifest.Inputs.Count, manifest.Clusters, options.MaxBatch));
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(3), fixture.FeatureNames);
        Assert.True(scorer.Activate(model).Accepted);
        var batch = new ScoringBatch(3, fixture.FeatureNames.Count);
        for (var c = 0; c < 3; c++)
        {
            batch.Add(c, fixture.NormalRows[c]);
        }

        session!.Fail = true;
        Assert.Throws<InvalidOperationException>(() => scorer.Score(batch));
        session.Fail = false;
        scorer.Score(batch);
        Assert.Equal(3, session.LastRows);
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal(2f, batch.Scores[r])); // √4 from the fake distances
    }

    [Theory]
    [InlineData("*", true)]
    [InlineData("plant", true)]
    [InlineData("plant/line-1/m1", true)]
    [InlineData("plant/*/m1/*/x", true)]
    [InlineData("plant/line-1/m2", false)]
    [InlineData("plant/line-1/m1/accel0/x/extra", false)]
    public void ModelAssignment_Patterns(string pattern, bool matches) =>
        Assert.Equal(matches, new ModelAssignment(pattern, "m").Matches(new ChannelId("plant", "line-1", "m1", "accel0", "x")));

    private sealed class FakeSession(int inputWidth, int outputWidth, int maxBatch) : IModelSession
    {
        private readonly float[] _input = new float[inputWidth * maxBatch];
        private readonly float[] _output = new float[outputWidth * maxBatch];

        public bool Fail { get; set; }

        public int LastRows { get; private set; }

        public int InputWidth => inputWidth;

        public int OutputWidth => outputWidth;

        public int MaxBatch => maxBatch;

        public Span<float> Input => _input;

        public ReadOnlySpan<float> Output => _output;

        public void Run(int rows)
        {
            if (Fail)
            {
                throw new InvalidOperationException("session failed");
            }

            LastRows = rows;
            _output.AsSpan().Fill(4f);
        }

        public void Dispose()
        {
        }
    }

    private LoadedModel Load(long version) =>
        ModelLoader.Load(TestModels.Write(fixture.Model, _dir.Path, "machine-v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture), version), ModelLoadPolicy.Evaluation);

    private OnnxAnomalyScorer Initialised(int channels, out ScoringBatch batch, int raiseAfter = 3)
    {
        var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096, raiseAfter: raiseAfter);
        scorer.Initialize(ModelFixture.Channels(channels), fixture.FeatureNames);
        batch = new ScoringBatch(channels, fixture.FeatureNames.Count);
        for (var c = 0; c < channels; c++)
        {
            batch.Add(c, fixture.NormalRows[c]);
        }

        return scorer;
    }
}
