using System.Collections.Concurrent;
using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Recordings;
using FactoryEdge.Simulation;
using FactoryEdge.Tests.Shared;
using FactoryEdge.Training;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace FactoryEdge.Scoring.Tests;

[Collection("model")]
public sealed class HotSwapTests(ModelFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Eight channels stream through the real pipeline while another thread swaps model versions in
    /// (and offers a tampered and a mismatched one, which are refused): every window comes out, each
    /// one scored (or warming up), none lost, none failed, and the last accepted version is active.
    /// </summary>
    [Fact]
    public async Task HotSwap_UnderLoad_LosesNoWindow_RefusedModelsLeaveTheRunningOne()
    {
        const int channelCount = 8;
        const double seconds = 12;
        var samples = (int)(seconds * TestModels.SampleRateHz);
        var channels = new List<RecordingChannel>();
        for (var c = 0; c < channelCount; c++)
        {
            var machine = TestModels.Machine(700 + c, 28 + (0.5 * c), 1, seconds, c == 3 ? FaultType.InnerRace : FaultType.None);
            channels.Add(new RecordingChannel("accel" + c.ToString(System.Globalization.CultureInfo.InvariantCulture), "x", SignalUnit.G, machine.Channels[0].Samples));
        }

        var recording = new Recording("fleet.csv", TestModels.SampleRateHz, channels) { Bearing = Signal.BearingCatalog.Get("SKF 6205-2RS JEM"), NominalShaftHz = 30 };
        var descriptors = FeatureReplay.Describe(recording);
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Stage(Load(1));
        var sink = new CountingSink();
        var options = new PipelineOptions { WindowSize = 4096, Overlap = 0.5, Workers = 2, SinkFullMode = SinkFullMode.Wait };
        var pipeline = new SignalPipeline(options, descriptors, scorer, telemetry: [sink]);
        var tampered = TestModels.Write(fixture.Model, _dir.Path, "tampered", 1000);
        File.AppendAllText(tampered, "!");
        var renamed = fixture.FeatureNames.ToArray();
        renamed[2] = "peak_to_peak_v2";
        var mismatched = TestModels.Write(fixture.Model, _dir.Path, "mismatched", 1001, m => m with { FeatureSchema = renamed });

        // Loaded beforehand (an ONNX Runtime session takes tens of ms to create): the swaps themselves are what is under test.
        var versions = new Queue<LoadedModel>(Enumerable.Range(2, 60).Select(v => Load(v)));
        var mismatchedModels = new Queue<LoadedModel>(Enumerable.Range(0, 20).Select(_ => ModelLoader.Load(mismatched, ModelLoadPolicy.Evaluation)));
        pipeline.Start();
        var accepted = new List<long> { 1 };
        var refusals = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var swapper = Task.Run(async () =>
        {
            for (var version = 2; !stop.IsCancellationRequested && versions.Count > 0; version++)
            {
                var result = scorer.Activate(versions.Dequeue());
                Assert.True(result.Accepted, result.Message);
                accepted.Add(version);
                if (version % 3 == 0)
                {
                    try
                    {
                        ModelLoader.Load(tampered, ModelLoadPolicy.Evaluation);
                    }
                    catch (ModelLoadException ex)
                    {
                        refusals.Add(ex.Message);
                    }

                    var bad = scorer.Activate(mismatchedModels.Dequeue());
                    Assert.False(bad.Accepted);
                    refusals.Add(bad.Message);
                }

                await Task.Delay(2).ConfigureAwait(false);
            }
        });

        var source = new RecordingSource(recording, descriptors, new RecordingSourceOptions { Pacing = ReplayPacing.AsFastAsPossible });
        await source.RunAsync(pipeline.Writers, CancellationToken.None);
        await pipeline.StopAsync();
        await stop.CancelAsync();
        await swapper;
        foreach (var unused in versions.Concat(mismatchedModels))
        {
            unused.Dispose();
        }

        var stats = pipeline.GetStatistics();
        var expectedPerChannel = FeatureReplay.WindowCount(samples, 4096, 0.5);
        Assert.Equal(channelCount * expectedPerChannel, sink.Windows);
        Assert.Equal(channelCount * expectedPerChannel, stats.Windows);
        Assert.Equal(0, stats.DroppedWindows);
        Assert.Equal(0, stats.FailedWindows);
        Assert.Equal(0, sink.Unscored); // every window scored or warming up
        Assert.True(sink.Scored > channelCount * (expectedPerChannel - 25));
        Assert.True(sink.Anomalous > 0); // the inner-race channel
        var status = Assert.Single(scorer.GetStatus());
        output.WriteLine($"{sink.Windows} windows, {sink.Scored} scored, {status.Swaps} swaps during the run, {accepted.Count} versions accepted, {refusals.Count} refusals");
        Assert.True(status.Swaps >= 3, $"only {status.Swaps} swaps happened during the run");
        Assert.NotEmpty(refusals);

        // The last accepted version takes over at the next batch.
        var batch = new ScoringBatch(1, fixture.FeatureNames.Count);
        batch.Add(0, fixture.NormalRows[0]);
        scorer.Score(batch);
        Assert.Equal($"machine@v{accepted[^1]}", scorer.ModelId);
    }

    [Fact]
    public void ModelManager_FolderDrops_NewerSwapsIn_TamperedAndOlderIgnored_RollbackExplicit()
    {
        var (privatePem, publicPem, _) = ModelSigner.GenerateKeyPair();
        using var key = ModelSigner.LoadPrivateKey(privatePem, "k");
        var folder = Path.Combine(_dir.Path, "models");
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
        var options = Options.Create(new ScoringOptions { ModelsDirectory = folder, TrustedKeys = [publicPem], Assignments = [new() { Channels = "*", Model = "machine" }] });
        using var manager = new ModelManager(scorer, options);
        var batch = new ScoringBatch(2, fixture.FeatureNames.Count);
        batch.Add(0, fixture.NormalRows[0]);

        Sign(TestModels.Write(fixture.Model, folder, "machine-v1", 1), key);
        Sign(TestModels.Write(fixture.Model, folder, "machine-v2", 2), key);
        manager.Scan();
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId); // the newest of the two

        // A tampered v3 is refused; v2 keeps running.
        var v3 = TestModels.Write(fixture.Model, folder, "machine-v3", 3);
        Sign(v3, key);
        var manifest = ModelManifest.Parse(File.ReadAllBytes(ModelFiles.ManifestPath(v3)), "m");
        File.WriteAllBytes(ModelFiles.ManifestPath(v3), (manifest with { Threshold = 1e6 }).ToJsonBytes());
        manager.Scan();
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);

        // An unsigned v4 is refused too.
        TestModels.Write(fixture.Model, folder, "machine-v4", 4);
        manager.Scan();
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);

        // A signed v5 swaps in.
        Sign(TestModels.Write(fixture.Model, folder, "machine-v5", 5), key);
        manager.Scan();
        scorer.Score(batch);
        Assert.Equal("machine@v5", scorer.ModelId);

        // Rollback only on request: to the newest older version that verifies (v2).
        var rollback = manager.Rollback("machine");
        Assert.True(rollback.Accepted, rollback.Message);
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);
        manager.Scan(); // v5 is not taken back by the scan
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);
        Assert.True(manager.Rollback("machine", 5).Accepted);
        scorer.Score(batch);
        Assert.Equal("machine@v5", scorer.ModelId);
    }

    [Fact]
    public void ModelManager_ShadowNewModels_CandidateRunsBesideActive_PromoteSwaps()
    {
        var folder = Path.Combine(_dir.Path, "shadow-models");
        using var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
        var options = Options.Create(new ScoringOptions { ModelsDirectory = folder, AllowUnsignedModels = true, Assignments = [new() { Channels = "*", Model = "machine" }] });
        using var manager = new ModelManager(scorer, options);
        Assert.True(manager.LoadFile(TestModels.Write(fixture.Model, _dir.Path, "first", 1)).Accepted);
        var batch = new ScoringBatch(2, fixture.FeatureNames.Count);
        batch.Add(0, fixture.NormalRows[0]);
        batch.Add(1, fixture.NormalRows[1]);
        scorer.Score(batch);

        options.Value.ShadowNewModels = true;
        TestModels.Write(fixture.Model, folder, "machine-v2", 2);
        manager.Scan();
        scorer.Score(batch);
        Assert.Equal("machine@v1", scorer.ModelId);
        var report = manager.GetShadowReport("machine");
        Assert.NotNull(report);
        Assert.Equal("machine@v2", report.ShadowModel);
        Assert.Equal(2, report.Windows);

        Assert.True(manager.Promote("machine"));
        scorer.Score(batch);
        Assert.Equal("machine@v2", scorer.ModelId);
    }

    private static void Sign(string path, System.Security.Cryptography.ECDsa key) => ModelSigner.Sign(path, key);

    private LoadedModel Load(long version) =>
        ModelLoader.Load(TestModels.Write(fixture.Model, _dir.Path, "v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture), version), ModelLoadPolicy.Evaluation);

    private sealed class CountingSink : ITelemetrySink
    {
        private long _windows;
        private long _scored;
        private long _unscored;
        private long _anomalous;

        public string Name => "count";

        public long Windows => Interlocked.Read(ref _windows);

        public long Scored => Interlocked.Read(ref _scored);

        public long Unscored => Interlocked.Read(ref _unscored);

        public long Anomalous => Interlocked.Read(ref _anomalous);

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _windows);
            if (result.WarmingUp)
            {
                return ValueTask.CompletedTask;
            }

            Interlocked.Increment(ref float.IsFinite(result.Score) ? ref _scored : ref _unscored);
            if (result.Anomalous)
            {
                Interlocked.Increment(ref _anomalous);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
