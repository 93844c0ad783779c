using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Tests;

public sealed class ScalarChannelTests
{
    private const double Rate = 10240;

    private static ChannelDescriptor Speed(string machine, SignalUnit unit = SignalUnit.Rpm) => new()
    {
        Id = new ChannelId("site", "line", machine, "motor", "speed"),
        Kind = ChannelKind.Scalar,
        SampleRateHz = 10,
        Unit = unit,
    };

    [Fact]
    public async Task Run_SpeedChannelOnSameMachine_IsTheTachometerOfItsWaveformChannels()
    {
        var vibration = Channels.Make(0, Rate); // machine m0, nominal 25 Hz
        var other = Channels.Make(1, Rate);     // machine m1, no tachometer
        var sink = new CollectingTelemetry();
        var pipeline = new SignalPipeline(new PipelineOptions { WindowSize = 1024, Overlap = 0, SinkFullMode = SinkFullMode.Wait }, [vibration, Speed("m0"), other], new RuleScorer((_, _) => 0f), telemetry: [sink]);
        pipeline.Start();
        pipeline.Writers[1].Write(new SampleBlock([1860f], 0, 0), CancellationToken.None); // 31 Hz
        await Task.Delay(200); // the scalar's worker publishes the reading
        for (var b = 0; b < 8; b++)
        {
            var data = Channels.Signal(b * 1024L, 1024, Rate);
            pipeline.Writers[0].Write(new SampleBlock(data, b * 1024L, 0), CancellationToken.None);
            pipeline.Writers[2].Write(new SampleBlock(data, b * 1024L, 0), CancellationToken.None);
        }

        await pipeline.StopAsync();
        var shaft = Array.IndexOf([.. pipeline.FeatureNames], "shaft_hz");
        var withTacho = sink.Results.Where(r => r.Channel == vibration.Id).ToList();
        var without = sink.Results.Where(r => r.Channel == other.Id).ToList();
        Assert.Equal(8, withTacho.Count);
        Assert.All(withTacho, r => Assert.Equal(31f, r.Features[shaft], 3));
        Assert.All(without, r => Assert.NotEqual(31f, r.Features[shaft], 1));
        Assert.DoesNotContain(sink.Results, r => r.Channel.Axis == "speed"); // scalars are not windowed
        Assert.True(pipeline.TryGetLatestScalar(1, out var hz, out _));
        Assert.Equal(31.0, hz, 6);
    }

    [Fact]
    public void Create_WaveformChannelInTemperatureUnit_RefusedNamingChannel()
    {
        var bad = Channels.Make(0, Rate) with { Unit = SignalUnit.DegreesCelsius };
        var ex = Assert.Throws<ArgumentException>(() => new SignalPipeline(new PipelineOptions(), [bad], new RuleScorer((_, _) => 0f)));
        Assert.Contains(bad.Id.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("scalar", ex.Message, StringComparison.Ordinal);
    }
}
