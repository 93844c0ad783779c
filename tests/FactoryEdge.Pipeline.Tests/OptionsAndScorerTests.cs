using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

public sealed class OptionsAndScorerTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(512)]
    [InlineData(131072)]
    public void Validate_WindowSizeNotPowerOfTwoInRange_NamesKeyAndAllowedValues(int size)
    {
        var result = new PipelineOptionsValidator().Validate(null, new PipelineOptions { WindowSize = size });
        Assert.True(result.Failed);
        Assert.Contains("FactoryEdge:Pipeline:WindowSize", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("power of two from 1024 to 65536", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverlapTooLarge_NamesKeyAndRange()
    {
        var result = new PipelineOptionsValidator().Validate(null, new PipelineOptions { Overlap = 0.95 });
        Assert.True(result.Failed);
        Assert.Contains("FactoryEdge:Pipeline:Overlap = 0.95", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("from 0 to 0.9", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new PipelineOptionsValidator().Validate(null, new PipelineOptions()).Succeeded);

    [Fact]
    public void Score_AfterWarmup_GivesUpwardZScoreOfMonitoredFeatures()
    {
        var scorer = new StatisticalBaselineScorer(new BaselineOptions { WarmupWindows = 50, Threshold = 6 });
        string[] names = ["rms", "kurtosis", "dominant_hz"];
        scorer.Initialize([Channels.Make(0)], names);
        Assert.Equal(2, scorer.MonitoredFeatureCount); // dominant_hz is not monitored
        var batch = new ScoringBatch(1, 3);
        var random = new Random(3);
        for (var i = 0; i < 50; i++)
        {
            batch.Clear();
            batch.Add(0, [(float)(0.1 * (1 + (0.2 * (random.NextDouble() - 0.5)))), (float)(3 + (0.2 * (random.NextDouble() - 0.5))), 100]);
            scorer.Score(batch);
            Assert.True(batch.WarmingUp[0]);
        }

        batch.Clear();
        batch.Add(0, [0.1f, 3f, 5000f]);
        scorer.Score(batch);
        Assert.False(batch.WarmingUp[0]);
        Assert.True(batch.Scores[0] < 2, $"normal window scored {batch.Scores[0]}");

        batch.Clear();
        batch.Add(0, [0.1f, 6f, 100f]); // kurtosis doubles: an impulsive fault
        scorer.Score(batch);
        Assert.True(batch.Scores[0] > 6, $"impulsive window scored {batch.Scores[0]}");

        batch.Clear();
        batch.Add(0, [0.01f, 3f, 100f]); // quieter than normal: not a fault
        scorer.Score(batch);
        Assert.True(batch.Scores[0] < 1, $"quiet window scored {batch.Scores[0]}");
    }

    [Fact]
    public void Explain_EnvelopeLineRisesAtBpfo_NamesOuterRaceWithMatchedFrequency()
    {
        var scorer = new StatisticalBaselineScorer(new BaselineOptions { WarmupWindows = 30, Threshold = 6 });
        string[] names = ["rms", "kurtosis", "env_bpfo", "env_bpfo_hz", "env_bpfi", "env_bpfi_hz", "shaft_hz", "order_1x"];
        scorer.Initialize([Channels.Make(0)], names);
        var batch = new ScoringBatch(1, names.Length);
        var random = new Random(5);
        float Jitter(double v) => (float)(v * (1 + (0.1 * (random.NextDouble() - 0.5))));
        for (var i = 0; i < 30; i++)
        {
            batch.Clear();
            batch.Add(0, [Jitter(0.1), Jitter(3), Jitter(0.002), 106, Jitter(0.002), 160, 29.6f, Jitter(0.01)]);
            scorer.Score(batch);
        }

        float[] faulty = [0.15f, 6f, 0.5f, 106.4f, 0.003f, 160f, 29.6f, 0.01f];
        var explanation = scorer.Explain(0, faulty);
        Assert.NotNull(explanation);
        Assert.Equal("outer race", explanation.Defect);
        Assert.Equal(106.4, explanation.DefectFrequencyHz!.Value, 3);
        Assert.Equal("env_bpfo", explanation.Drivers[0].Key);
        Assert.Contains("outer race (line at 106.4 Hz)", explanation.Summary, StringComparison.Ordinal);

        // A window where only the 1× order rose points at imbalance, at the shaft frequency.
        float[] imbalance = [0.1f, 3f, 0.002f, 106f, 0.002f, 160f, 29.6f, 0.2f];
        var other = scorer.Explain(0, imbalance);
        Assert.Equal("imbalance", other!.Defect);
        Assert.Equal(29.6, other.DefectFrequencyHz!.Value, 3);
    }

    [Fact]
    public void AlertId_SameWindow_IsStable()
    {
        var a = new WindowResult(1) { Channel = Channels.Make(0).Id, FirstSampleIndex = 42 };
        a.Timestamps.SourceStartTicks = 1234;
        var b = new WindowResult(1) { Channel = Channels.Make(0).Id, FirstSampleIndex = 42 };
        b.Timestamps.SourceStartTicks = 1234;
        var c = new WindowResult(1) { Channel = Channels.Make(1).Id, FirstSampleIndex = 42 };
        c.Timestamps.SourceStartTicks = 1234;
        Assert.Equal(AlertEngine.AlertIdFor(a), AlertEngine.AlertIdFor(b));
        Assert.NotEqual(AlertEngine.AlertIdFor(a), AlertEngine.AlertIdFor(c));
    }
}
