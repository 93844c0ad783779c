using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Scoring.Tests;

/// <summary>The operator verbs (model list/promote/rollback/shadow-report) against a gateway's ModelManager through its models folder.</summary>
[Collection("model")]
public sealed class ModelControlTests(ModelFixture fixture) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ProcessControl_PromoteRequestFile_CandidateBecomesActiveAndAnswerWritten()
    {
        using var gateway = Gateway(shadow: true);
        var request = new ModelControlRequest { Id = "r1", Command = ModelControlCommand.Promote, ModelId = "machine" };
        ModelControl.WriteAtomically(ModelControl.RequestPath(gateway.Folder, request.Id), request);

        gateway.Manager.ProcessControl();
        gateway.ScoreOnce();

        var response = ReadResponse(gateway.Folder, "r1");
        Assert.True(response.Ok, response.Message);
        Assert.Equal("machine@v2", gateway.Scorer.ModelId);
        Assert.False(File.Exists(ModelControl.RequestPath(gateway.Folder, "r1")));
        var status = JsonSerializer.Deserialize<ModelControlStatus>(File.ReadAllBytes(ModelControl.StatusPath(gateway.Folder)), ModelControl.JsonOptions)!;
        Assert.Equal("machine", Assert.Single(status.Lines).ModelId);
    }

    [Fact]
    public async Task RunAsync_ShadowReportThenPromote_AnsweredByTheRunningGateway()
    {
        using var gateway = Gateway(shadow: true);
        using var stop = new CancellationTokenSource();
        var loop = gateway.RunControlLoopAsync(stop.Token);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var report = await ModelOperatorCommand.RunAsync(Settings(gateway, ModelControlCommand.ShadowReport), stdout, stderr, TimeProvider.System, CancellationToken.None);
        var promote = await ModelOperatorCommand.RunAsync(Settings(gateway, ModelControlCommand.Promote), stdout, stderr, TimeProvider.System, CancellationToken.None);
        await stop.CancelAsync();
        await loop;
        gateway.ScoreOnce();

        Assert.Equal(ModelOperatorCommand.Ok, report);
        Assert.Contains("2 windows scored by both", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("candidate machine@v2", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal(ModelOperatorCommand.Ok, promote);
        Assert.Equal("machine@v2", gateway.Scorer.ModelId);
        Assert.Empty(stderr.ToString());
    }

    [Fact]
    public async Task RunAsync_RollbackAndUnknownLine_ExitCodesSayWhatHappened()
    {
        using var gateway = Gateway(shadow: false);
        Assert.Equal("machine@v2", gateway.Scorer.ModelId);
        using var stop = new CancellationTokenSource();
        var loop = gateway.RunControlLoopAsync(stop.Token);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var rollback = await ModelOperatorCommand.RunAsync(Settings(gateway, ModelControlCommand.Rollback) with { Version = 1 }, stdout, stderr, TimeProvider.System, CancellationToken.None);
        var unknown = await ModelOperatorCommand.RunAsync(Settings(gateway, ModelControlCommand.Promote) with { ModelId = "pump9" }, stdout, stderr, TimeProvider.System, CancellationToken.None);
        var noShadow = await ModelOperatorCommand.RunAsync(Settings(gateway, ModelControlCommand.ShadowReport), stdout, stderr, TimeProvider.System, CancellationToken.None);
        await stop.CancelAsync();
        await loop;
        gateway.ScoreOnce();

        Assert.Equal(ModelOperatorCommand.Ok, rollback);
        Assert.Equal("machine@v1", gateway.Scorer.ModelId);
        Assert.Equal(ModelOperatorCommand.Refused, unknown);
        Assert.Contains("unknown model line 'pump9'", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(ModelOperatorCommand.Refused, noShadow);
    }

    [Fact]
    public async Task RunAsync_NoGatewayWatching_Returns4AndWithdrawsTheRequest()
    {
        var folder = Path.Combine(_dir.Path, "idle");
        Directory.CreateDirectory(folder);
        var stderr = new StringWriter();

        var code = await ModelOperatorCommand.RunAsync(
            new ModelOperatorSettings { ModelsDirectory = folder, Command = ModelControlCommand.Promote, ModelId = "machine", TimeoutSeconds = 0.3 },
            new StringWriter(), stderr, TimeProvider.System, CancellationToken.None);

        Assert.Equal(ModelOperatorCommand.NoAnswer, code);
        Assert.Contains("no answer", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(ModelControl.Folder(folder), "*" + ModelControl.RequestSuffix));
    }

    [Fact]
    public async Task RunAsync_MissingModelIdOrFolder_UsageAndBadInput()
    {
        var stderr = new StringWriter();

        Assert.Equal(ModelOperatorCommand.Usage, await ModelOperatorCommand.RunAsync(new ModelOperatorSettings { ModelsDirectory = _dir.Path, Command = ModelControlCommand.Promote }, new StringWriter(), stderr, TimeProvider.System, CancellationToken.None));
        Assert.Equal(ModelOperatorCommand.BadInput, await ModelOperatorCommand.RunAsync(new ModelOperatorSettings { ModelsDirectory = Path.Combine(_dir.Path, "nope"), Command = ModelControlCommand.Status }, new StringWriter(), stderr, TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task ListAsync_FolderOfARunningGateway_ShowsVersionsStateAndSignature()
    {
        using var gateway = Gateway(shadow: true);
        gateway.Manager.ProcessControl(); // writes status.json
        var stdout = new StringWriter();

        var code = await ModelOperatorCommand.ListAsync(new ModelListSettings { ModelsDirectory = gateway.Folder }, stdout, new StringWriter(), CancellationToken.None);

        Assert.Equal(ModelOperatorCommand.Ok, code);
        var lines = stdout.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("machine-v2.onnx", StringComparison.Ordinal) && l.Contains("shadow", StringComparison.Ordinal) && l.Contains(" no ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("active machine@v1, shadow machine@v2", StringComparison.Ordinal));
    }

    private static ModelOperatorSettings Settings(TestGateway gateway, ModelControlCommand command) =>
        new() { ModelsDirectory = gateway.Folder, Command = command, ModelId = "machine", TimeoutSeconds = 20 };

    private static ModelControlResponse ReadResponse(string folder, string id) =>
        JsonSerializer.Deserialize<ModelControlResponse>(File.ReadAllBytes(ModelControl.ResponsePath(folder, id)), ModelControl.JsonOptions)!;

    /// <summary>A scorer and a model manager on a folder with machine v1 active and v2 new (in shadow or active).</summary>
    private TestGateway Gateway(bool shadow)
    {
        var folder = Path.Combine(_dir.Path, "models-" + Guid.NewGuid().ToString("N")[..6]);
        var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", "machine")], 4096);
        scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames);
        var options = Options.Create(new ScoringOptions { ModelsDirectory = folder, AllowUnsignedModels = true, Assignments = [new() { Channels = "*", Model = "machine" }] });
        var manager = new ModelManager(scorer, options);
        var gateway = new TestGateway(folder, scorer, manager, fixture);
        TestModels.Write(fixture.Model, folder, "machine-v1", 1);
        manager.Scan();
        gateway.ScoreOnce();
        options.Value.ShadowNewModels = shadow;
        TestModels.Write(fixture.Model, folder, "machine-v2", 2);
        manager.Scan();
        gateway.ScoreOnce();
        return gateway;
    }

    private sealed class TestGateway(string folder, OnnxAnomalyScorer scorer, ModelManager manager, ModelFixture fixture) : IDisposable
    {
        public string Folder { get; } = folder;

        public OnnxAnomalyScorer Scorer { get; } = scorer;

        public ModelManager Manager { get; } = manager;

        /// <summary>One pipeline tick of two normal windows (applies pending swaps, feeds the shadow report).</summary>
        public void ScoreOnce()
        {
            var batch = new ScoringBatch(2, fixture.FeatureNames.Count);
            batch.Add(0, fixture.NormalRows[0]);
            batch.Add(1, fixture.NormalRows[1]);
            Scorer.Score(batch);
        }

        /// <summary>What the manager's background loop does, every 50 ms.</summary>
        public async Task RunControlLoopAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Manager.ProcessControl();
                try
                {
                    await Task.Delay(50, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public void Dispose()
        {
            Manager.Dispose();
            Scorer.Dispose();
        }
    }
}
