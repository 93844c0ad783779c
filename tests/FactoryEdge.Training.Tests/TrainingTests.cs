using System.Text.Json;
using FactoryEdge.Recordings;
using FactoryEdge.Scoring;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Training.Tests;

/// <summary>One generator model shared by the tests of this class (trained once, ~1 s).</summary>
public sealed class GeneratorModelFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public TrainedModel Model { get; private set; } = null!;

    public async Task InitializeAsync() => Model = await TestModels.TrainGeneratorAsync(time: new FakeTimeProvider(CreatedAt));

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class TrainingTests(GeneratorModelFixture fixture) : IClassFixture<GeneratorModelFixture>
{
    [Fact]
    public async Task Export_OnnxRuntimeMatchesMlNet_Within2e5_OnUnseenNormalAndFaultWindows()
    {
        var model = fixture.Model;
        Assert.True(model.Manifest.ExportMaxDifference <= 2e-5, $"export check {model.Manifest.ExportMaxDifference}");

        // Windows the model never saw, including far-out fault windows.
        var rows = new List<float[]>();
        foreach (var (fault, seed) in new[] { (FaultType.None, 900), (FaultType.OuterRace, 901), (FaultType.Imbalance, 902) })
        {
            var recording = TestModels.Machine(seed, 29, 1.1, 4, fault);
            var results = await FeatureReplay.RunAsync(recording, FeatureReplay.Describe(recording), 4096, 0.5);
            rows.AddRange(results.Where(r => r.Features[FeatureSchema.IndexOf("env_rms", 6)] > 0).Select(r => r.Features));
        }

        var reference = model.ScoreWithMlNet(rows);
        using var dir = new TempDirectory();
        var path = TestModels.Write(model, dir.Path, "m");
        using var loaded = ModelLoader.Load(path, ModelLoadPolicy.Evaluation);
        var bound = new BoundModel(loaded, model.Manifest.FeatureSchema, 4096);
        var k = model.Manifest.Clusters;
        var max = 0.0;
        var maxScoreDifference = 0.0;
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(bound.Stage(rows[i], 0));
            bound.Run(1);
            for (var c = 0; c < k; c++)
            {
                var ort = loaded.Session.Output[c];
                max = Math.Max(max, Math.Abs(ort - reference[i][c]) / Math.Max(1.0, Math.Abs(reference[i][c])));
            }

            // Score = max(KMeans distance, defect-line score): the line detector is plain C# on both sides.
            var expected = FeatureTransforms.Combine(FeatureTransforms.NearestCentroidDistance(reference[i]), FeatureTransforms.LineScore(model.Manifest.LineDetector, model.Manifest.FeatureSchema, rows[i]));
            maxScoreDifference = Math.Max(maxScoreDifference, Math.Abs(bound.ScoreOf(0) - expected) / Math.Max(1.0, expected));
        }

        Assert.True(rows.Count > 80);
        Assert.True(max <= 2e-5, $"ONNX Runtime vs ML.NET squared distances differ by {max}");
        Assert.True(maxScoreDifference <= 2e-5, $"scores differ by {maxScoreDifference}");
    }

    [Fact]
    public void Manifest_RecordsIdentitySchemaWindowRatesThresholdAndTime()
    {
        var m = fixture.Model.Manifest;
        Assert.Equal("machine", m.ModelId);
        Assert.Equal(1, m.Version);
        Assert.Equal(GeneratorModelFixture.CreatedAt, m.CreatedUtc);
        Assert.Equal(FeatureSchema.Names(FeatureExtractorOptions.DefaultBands), m.FeatureSchema);
        Assert.Equal(4096, m.WindowSize);
        Assert.Equal(2048, m.Hop);
        Assert.Equal(25600, m.SampleRateMinHz);
        Assert.Equal(25600, m.SampleRateMaxHz);
        Assert.Equal(4, m.TrainingData.Count);
        Assert.Contains(m.Inputs, i => i.Name == "env_bpfo");
        Assert.True(m.RequiresBearing);
        Assert.Equal(["env_rms"], m.WarmupFeatures);
        Assert.Equal(ModelFiles.Sha256Hex(fixture.Model.Onnx), m.ModelSha256);
        Assert.NotNull(m.SelfTest);
        Assert.Contains(m.Diagnostics, d => d.Name == "order_1x");
        Assert.Null(m.Validate());

        // Round trip through JSON.
        var parsed = ModelManifest.Parse(m.ToJsonBytes(), "test");
        Assert.Equal(m.Threshold, parsed.Threshold);
        Assert.Equal(m.Inputs.Select(i => i.Name), parsed.Inputs.Select(i => i.Name));
        Assert.Equal(m.FeatureSchema, parsed.FeatureSchema);
    }

    [Fact]
    public void Threshold_IsLargestHeldBackScoreTimesMargin_AndHeldBackWindowsAreNotFitted()
    {
        var m = fixture.Model.Manifest;
        var c = m.Calibration!;
        Assert.Equal(fixture.Model.CalibrationScores.Count, c.Windows);
        Assert.Equal(fixture.Model.CalibrationScores.Max(), c.Max, 5);
        Assert.Equal(c.Max * ModelTrainingOptions.DefaultMargin, m.Threshold, 5);
        Assert.Equal(ModelTrainingOptions.DefaultMargin, c.Margin);
        var usable = m.TrainingData.Sum(s => s.Windows);
        Assert.Equal(usable, m.TrainingWindows + c.Windows);
        Assert.InRange(c.Windows, (int)(0.15 * usable), (int)(0.25 * usable));
        Assert.True(c.P50 <= c.P99 && c.P99 <= c.Max);
    }

    [Fact]
    public async Task Train_RecordingWithTooFewWindows_FailsNamingTheReason()
    {
        var recording = TestModels.Machine(1, 30, 1, 1.0);
        var ex = await Assert.ThrowsAsync<TrainingException>(() => ModelTrainer.TrainAsync([new TrainingInput(recording, "short", "x")], new ModelTrainingOptions(), TimeProvider.System));
        Assert.Contains("usable normal windows", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainCommand_GeneratorWav_WritesModelManifestAndSummary()
    {
        using var dir = new TempDirectory();
        var input = dir.File("normal.wav");
        var recording = TestModels.Machine(7, 30, 1, 8);
        WavWriter.Write(input, 25600, [recording.Channels[0].Samples], WavSampleFormat.Float32);
        var output = dir.File("pump.onnx");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await TrainCommand.RunAsync(
            new TrainSettings { Inputs = [input], Out = output, Bearing = "SKF 6205-2RS JEM", Rpm = 1800, Version = 3 },
            stdout, stderr, new FakeTimeProvider(GeneratorModelFixture.CreatedAt), CancellationToken.None);
        Assert.True(code == 0, stderr.ToString());
        Assert.True(File.Exists(output));
        var manifest = ModelManifest.Parse(File.ReadAllBytes(ModelFiles.ManifestPath(output)), "m");
        Assert.Equal("pump", manifest.ModelId);
        Assert.Equal(3, manifest.Version);
        Assert.Equal("pump.onnx", manifest.ModelFile);
        Assert.Equal(ModelFiles.Sha256HexOfFile(input), manifest.TrainingData[0].Sha256);
        Assert.Equal("normal.wav", manifest.TrainingData[0].File);
        Assert.Contains("model pump@v3 written", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("threshold", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("features", stderr.ToString(), StringComparison.Ordinal); // the progress display

        using var loaded = ModelLoader.Load(output, ModelLoadPolicy.Evaluation);
        Assert.Equal("pump@v3", loaded.DisplayId);
    }

    [Theory]
    [InlineData(new string[0], "m.onnx", 4096, "at least one --input")]
    [InlineData(new[] { "x.csv" }, "m.bin", 4096, "--out must name")]
    [InlineData(new[] { "x.csv" }, "m.onnx", 3000, "--window must be a power of two")]
    public async Task TrainCommand_BadUsage_Returns2NamingTheOption(string[] inputs, string output, int window, string expected)
    {
        var stderr = new StringWriter();
        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = inputs, Out = output, WindowSize = window }, TextWriter.Null, stderr, CancellationToken.None);
        Assert.Equal(TrainCommand.Usage, code);
        Assert.Contains(expected, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainCommand_UnknownFeature_Returns2()
    {
        using var dir = new TempDirectory();
        var input = dir.File("n.wav");
        WavWriter.Write(input, 25600, [TestModels.Machine(7, 30, 1, 4).Channels[0].Samples], WavSampleFormat.Float32);
        var stderr = new StringWriter();
        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [input], Out = dir.File("m.onnx"), Features = ["rms", "no_such_feature"], NoProgress = true }, TextWriter.Null, stderr, CancellationToken.None);
        Assert.Equal(TrainCommand.Usage, code);
        Assert.Contains("no_such_feature", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainCommand_CorruptRecording_Returns3NamingTheFile()
    {
        using var dir = new TempDirectory();
        var input = dir.File("bad.csv");
        await File.WriteAllTextAsync(input, "# sampling_rate_hz=48000\n0.1\nnot-a-number\n");
        var stderr = new StringWriter();
        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [input], Out = dir.File("m.onnx"), NoProgress = true }, TextWriter.Null, stderr, CancellationToken.None);
        Assert.Equal(TrainCommand.BadInput, code);
        Assert.Contains("bad.csv", stderr.ToString(), StringComparison.Ordinal);
    }

    [CwruFact]
    public async Task TrainCommand_CwruNormal_ManifestHashesTheTrainingFile()
    {
        using var dir = new TempDirectory();
        var output = dir.File("cwru.onnx");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var input = TestData.Cwru(TestData.Normal);
        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [input], Out = output, NoProgress = true }, stdout, stderr, CancellationToken.None);
        Assert.True(code == 0, stderr.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ModelFiles.ManifestPath(output)));
        var data = doc.RootElement.GetProperty("training_data")[0];
        Assert.Equal(ModelFiles.Sha256HexOfFile(input), data.GetProperty("sha256").GetString());
        Assert.Equal(48000, data.GetProperty("sample_rate_hz").GetDouble());
        Assert.True(doc.RootElement.GetProperty("requires_bearing").GetBoolean()); // bearing from the CSV header
    }
}
