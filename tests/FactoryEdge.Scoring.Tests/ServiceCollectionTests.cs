using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Scoring.Tests;

[Collection("model")]
public sealed class ServiceCollectionTests(ModelFixture fixture) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AddFactoryEdgeScoring_NoAssignments_BaselineStays()
    {
        using var provider = Build([], scoringFirst: false);
        Assert.IsType<StatisticalBaselineScorer>(provider.GetRequiredService<IAnomalyScorer>());
        Assert.Empty(provider.GetServices<IHostedService>().OfType<ModelManager>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddFactoryEdgeScoring_WithAssignments_OnnxScorerReplacesBaseline_WhicheverOrder(bool scoringFirst)
    {
        using var provider = Build(Valid(), scoringFirst);
        var scorer = Assert.IsType<OnnxAnomalyScorer>(provider.GetRequiredService<IAnomalyScorer>());
        Assert.Same(scorer, provider.GetRequiredService<OnnxAnomalyScorer>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<ModelManager>());
        _ = provider.GetRequiredService<IOptions<ScoringOptions>>().Value;
    }

    [Fact]
    public async Task Host_ModelInFolder_ActivatedOnceThePipelineInitialisesTheScorer()
    {
        var folder = Path.Combine(_dir.Path, "models");
        var (privatePem, publicPem, _) = ModelSigner.GenerateKeyPair();
        var keyFile = Path.Combine(_dir.Path, "plant.pub.pem");
        await File.WriteAllTextAsync(keyFile, publicPem);
        var path = TestModels.Write(fixture.Model, folder, "machine", 7);
        using (var key = ModelSigner.LoadPrivateKey(privatePem, "k"))
        {
            ModelSigner.Sign(path, key);
        }

        var settings = new Dictionary<string, string?>
        {
            ["FactoryEdge:Scoring:ModelsDirectory"] = folder,
            ["FactoryEdge:Scoring:TrustedKeys:0"] = keyFile,
            ["FactoryEdge:Scoring:PollSeconds"] = "0.2",
            ["FactoryEdge:Scoring:Assignments:0:Channels"] = "plant/line-1",
            ["FactoryEdge:Scoring:Assignments:0:Model"] = "machine",
        };
        using var provider = Build(settings, scoringFirst: true);
        var scorer = provider.GetRequiredService<OnnxAnomalyScorer>();
        var manager = provider.GetServices<IHostedService>().OfType<ModelManager>().Single();
        await manager.StartAsync(CancellationToken.None);
        try
        {
            scorer.Initialize(ModelFixture.Channels(2), fixture.FeatureNames); // what SignalPipeline does
            var batch = new ScoringBatch(2, fixture.FeatureNames.Count);
            batch.Add(0, fixture.NormalRows[0]);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (scorer.ModelId != "machine@v7" && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
                scorer.Score(batch);
            }

            Assert.Equal("machine@v7", scorer.ModelId);
            Assert.True(float.IsFinite(batch.Scores[0]));
        }
        finally
        {
            await manager.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void Validation_NamesBadKeys()
    {
        var settings = new Dictionary<string, string?>
        {
            ["FactoryEdge:Scoring:Assignments:0:Channels"] = "",
            ["FactoryEdge:Scoring:Assignments:0:Model"] = "bad/name",
            ["FactoryEdge:Scoring:PollSeconds"] = "0",
            ["FactoryEdge:Scoring:MaxBatch"] = "0",
            ["FactoryEdge:Scoring:TrustedKeys:0"] = "/no/such/key.pem",
        };
        using var provider = Build(settings, scoringFirst: true);
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ScoringOptions>>().Value);
        var message = string.Join("\n", ex.Failures);
        Assert.Contains("FactoryEdge:Scoring:Assignments:0:Channels", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Scoring:Assignments:0:Model", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Scoring:ModelsDirectory is required", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Scoring:PollSeconds", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Scoring:MaxBatch", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Scoring:TrustedKeys:0", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_NoTrustedKeyWithoutDevelopmentSwitch_Refused_UnknownKeyRefused()
    {
        var settings = Valid();
        settings.Remove("FactoryEdge:Scoring:AllowUnsignedModels");
        using (var provider = Build(settings, scoringFirst: true))
        {
            var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ScoringOptions>>().Value);
            Assert.Contains("FactoryEdge:Scoring:TrustedKeys must list at least one", ex.Message, StringComparison.Ordinal);
        }

        settings = Valid();
        settings["FactoryEdge:Scoring:ModelDirectory"] = "typo";
        using (var provider = Build(settings, scoringFirst: true))
        {
            var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<ScoringOptions>>().Value);
            Assert.Contains("ModelDirectory", ex.Message, StringComparison.Ordinal);
        }
    }

    private Dictionary<string, string?> Valid() => new()
    {
        ["FactoryEdge:Scoring:ModelsDirectory"] = _dir.Path,
        ["FactoryEdge:Scoring:AllowUnsignedModels"] = "true",
        ["FactoryEdge:Scoring:Assignments:0:Channels"] = "*",
        ["FactoryEdge:Scoring:Assignments:0:Model"] = "machine",
    };

    private static ServiceProvider Build(Dictionary<string, string?> settings, bool scoringFirst)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        if (scoringFirst)
        {
            services.AddFactoryEdgeScoring(configuration);
            services.AddFactoryEdgePipeline(configuration);
        }
        else
        {
            services.AddFactoryEdgePipeline(configuration);
            services.AddFactoryEdgeScoring(configuration);
        }

        return services.BuildServiceProvider();
    }
}
