using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;
using FactoryEdge.Tests.Shared;
using FactoryEdge.Training;

namespace FactoryEdge.Scoring.Tests;

/// <summary>
/// One small generator model (trained once for the assembly, ~1 s) and feature rows of normal and
/// faulty windows to score with it.
/// </summary>
public sealed class ModelFixture : IAsyncLifetime
{
    public TrainedModel Model { get; private set; } = null!;

    public IReadOnlyList<string> FeatureNames { get; } = FeatureSchema.Names(FeatureExtractorOptions.DefaultBands);

    /// <summary>Warmed-up feature vectors of an unseen normal run.</summary>
    public IReadOnlyList<float[]> NormalRows { get; private set; } = [];

    /// <summary>Warmed-up feature vectors of an outer-race fault.</summary>
    public IReadOnlyList<float[]> FaultRows { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Model = await TestModels.TrainGeneratorAsync();
        NormalRows = await RowsAsync(TestModels.Machine(600, 29.5, 1.0, 6));
        FaultRows = await RowsAsync(TestModels.Machine(601, 29.5, 1.0, 6, FaultType.OuterRace, 0.5));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Channel descriptors like the generator recordings' (25.6 kHz, SKF 6205, 30 Hz nominal).</summary>
    public static ChannelDescriptor[] Channels(int count, string machine = "m1", double sampleRateHz = TestModels.SampleRateHz, bool bearing = true) =>
        [.. Enumerable.Range(0, count).Select(i => new ChannelDescriptor
        {
            Id = new ChannelId("plant", "line-1", machine, "accel" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "x"),
            SampleRateHz = sampleRateHz,
            NominalShaftHz = TestModels.NominalShaftHz,
            Bearing = bearing ? BearingCatalog.Get("SKF 6205-2RS JEM") : null,
        })];

    private async Task<IReadOnlyList<float[]>> RowsAsync(Recording recording)
    {
        var results = await FeatureReplay.RunAsync(recording, FeatureReplay.Describe(recording), 4096, 0.5);
        var envRms = FeatureSchema.IndexOf("env_rms", FeatureExtractorOptions.DefaultBands.Count);
        return [.. results.Where(r => r.Features[envRms] > 0).Select(r => r.Features)];
    }
}

[CollectionDefinition("model")]
public sealed class ModelCollection : ICollectionFixture<ModelFixture>
{
}
