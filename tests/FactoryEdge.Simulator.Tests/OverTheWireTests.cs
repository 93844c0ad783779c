using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Simulator.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Simulator.Tests;

/// <summary>
/// The whole path over real sockets: the simulator process serves a machine with an outer-race
/// fault over Modbus TCP; the real gateway host polls it with its Modbus adapter (waveform blocks
/// plus an rpm register as tachometer) and runs the pipeline. The BPFO line must show up in the
/// envelope features, at the speed the tachometer reports.
/// </summary>
[Trait("Category", "Integration")]
public sealed class OverTheWireTests
{
    [Fact]
    public async Task Gateway_PollsSimulatorOverModbus_FindsOuterRaceLineAtTachometerSpeed()
    {
        const double Rpm = 1780;
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--block", "2048", "--rpm", Rpm.ToString(CultureInfo.InvariantCulture), "--fault", "outer-race", "--severity", "1", "--seed", "5");
        var sink = new Collecting();
        var device = "FactoryEdge:Modbus:Devices:0:";
        var overrides = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["FactoryEdge:Telemetry:Spool:Path"] = Path.Combine(Path.GetTempPath(), $"fe-otw-{Guid.NewGuid():N}.db"),
            [device + "Name"] = "sim",
            [device + "Host"] = "127.0.0.1",
            [device + "Port"] = sim.Port.ToString(CultureInfo.InvariantCulture),
            [device + "AddressBase"] = "0",
            [device + "PollIntervalMs"] = "100",
            [device + "MaxInFlight"] = "4",
            [device + "Points:0:Channel"] = "plant/line-1/motor/shaft/speed",
            [device + "Points:0:Table"] = "Holding",
            [device + "Points:0:Address"] = "12",
            [device + "Points:0:Type"] = "uint16",
            [device + "Points:0:Unit"] = "rpm",
            [device + "Waveforms:0:Channel"] = "plant/line-1/motor/de/x",
            [device + "Waveforms:0:Table"] = "Input",
            [device + "Waveforms:0:Address"] = "1000",
            [device + "Waveforms:0:SampleCount"] = "2048",
            [device + "Waveforms:0:SampleRateHz"] = "25600",
            [device + "Waveforms:0:PollIntervalMs"] = "10",
            [device + "Waveforms:0:Contiguous"] = "true",
            [device + "Waveforms:0:Unit"] = "g",
            // The site's knowledge of the machine: its bearing (a register carries samples, not geometry).
            ["FactoryEdge:Machines:0:Machine"] = "plant/line-1/motor",
            ["FactoryEdge:Machines:0:Bearing"] = "SKF 6205-2RS JEM",
            ["FactoryEdge:Machines:0:NominalRpm"] = "1800",
        };
        var config = Path.Combine(FactoryEdge.Tests.Shared.TestData.RepoRoot, "config", "appsettings.json");
        using var host = GatewayHost.Build(config, services => services.AddSingleton<ITelemetrySink>(sink), overrides);
        await host.StartAsync();
        var service = host.Services.GetRequiredService<PipelineHostedService>();
        var watch = Stopwatch.StartNew();
        while (sink.Results.Count(r => r.Features[EnvBpfoHz(service)] > 0) < 20 && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        await host.StopAsync();
        var pipeline = service.Pipeline!;
        var names = pipeline.FeatureNames.ToList();
        var withLines = sink.Results.Where(r => r.Features[names.IndexOf("env_bpfo_hz")] > 0).ToList();
        var stats0 = pipeline.GetStatistics();
        Assert.True(withLines.Count >= 20, $"{withLines.Count} windows with envelope lines in 60 s ({sink.Results.Count} windows in all); channel stats {string.Join("; ", stats0.Channels)}; health {string.Join(",", sink.Results.Take(50).Select(r => r.Health))}");

        // The tachometer (rpm register) drives the features' speed; BPFO = 3.5848 × shaft speed (SKF 6205).
        var shaftHz = Rpm / 60.0;
        Assert.All(withLines, r => Assert.Equal(shaftHz, r.Features[names.IndexOf("shaft_hz")], 3));
        var bpfo = 3.5848 * shaftHz;
        var lines = withLines.Select(r => (double)r.Features[names.IndexOf("env_bpfo_hz")]).OrderBy(v => v).ToList();
        Assert.InRange(lines[lines.Count / 2], bpfo * 0.98, bpfo * 1.02);
        Assert.InRange(withLines.Select(r => (double)r.Features[names.IndexOf("env_peak_hz")]).OrderBy(v => v).ElementAt(withLines.Count / 2), bpfo * 0.98, bpfo * 1.02);

        // Contiguous blocks read in order: no window was cut by a gap after the first.
        var stats = pipeline.GetStatistics();
        var channel = stats.Channels.Single(c => c.Channel.Sensor == "de");
        Assert.Equal(0, channel.DroppedBlocks);
        Assert.True(channel.Gaps <= 1, $"{channel.Gaps} gaps");
        Assert.True(pipeline.TryGetLatestScalar(stats.Channels.ToList().FindIndex(c => c.Channel.Axis == "speed"), out var hz, out _));
        Assert.Equal(shaftHz, hz, 3);
    }

    private static int EnvBpfoHz(PipelineHostedService service) =>
        service.Pipeline is { } p ? p.FeatureNames.ToList().IndexOf("env_bpfo_hz") : 0;

    private sealed class Collecting : ITelemetrySink
    {
        public ConcurrentQueue<WindowResult> Results { get; } = new();

        public string Name => "collect";

        public ValueTask WriteAsync(WindowResult result, CancellationToken cancellationToken)
        {
            var copy = new WindowResult(result.Features.Length);
            result.CopyTo(copy);
            Results.Enqueue(copy);
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
