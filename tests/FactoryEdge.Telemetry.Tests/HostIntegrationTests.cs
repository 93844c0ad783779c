using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Telemetry.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FactoryEdge.Telemetry.Tests;

public sealed class HostIntegrationTests
{
    /// <summary>A source writing a noisy sine on one channel as fast as the pipeline takes it.</summary>
    private sealed class SineSource : ISensorSource
    {
        public string Name => "sine";

        public IReadOnlyList<ChannelDescriptor> Channels { get; } =
            [new ChannelDescriptor { Id = new ChannelId("plant", "line-1", "pump-9", "de", "x"), SampleRateHz = 25600 }];

        public async Task RunAsync(IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
        {
            var block = new float[1024];
            var random = new Random(1);
            var start = new DateTime(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
            for (long index = 0; index < 25600 * 2 && !cancellationToken.IsCancellationRequested; index += block.Length)
            {
                for (var i = 0; i < block.Length; i++)
                {
                    block[i] = (float)(Math.Sin(2 * Math.PI * 50 * (index + i) / 25600.0) + (0.1 * random.NextDouble()));
                }

                writers[0].Write(new SampleBlock(block, index, start + SampleClock.TicksAt(index, 25600)), cancellationToken);
                await Task.Yield();
            }
        }
    }

    [Fact]
    public async Task PipelineAndTelemetry_InOneHost_StartWithoutCycleAndWindowsReachTheStore()
    {
        using var dir = TestData.Temp();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([
            new("FactoryEdge:Pipeline:WindowSize", "1024"),
            // The source dumps 2 s of signal at once (no pacing): lossless hand-over, as analyze uses.
            new("FactoryEdge:Pipeline:SinkFullMode", "Wait"),
            new("FactoryEdge:Telemetry:FlushIntervalMs", "50"),
            new("FactoryEdge:Telemetry:Spool:Path", dir.File("t.db")),
        ]).Build();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<ISensorSource, SineSource>();
        builder.Services.AddFactoryEdgePipeline(configuration);
        builder.Services.AddFactoryEdgeTelemetry(configuration);
        using var host = builder.Build();
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(guard.Token); // hangs if the sink and the pipeline's hosted service resolve each other
        var service = host.Services.GetRequiredService<TelemetryService>();
        while (service.GetStatistics().WindowsWritten < 99 && !guard.IsCancellationRequested)
        {
            await Task.Delay(20, guard.Token);
        }

        await host.StopAsync(guard.Token);
        using var output = new StringWriter();
        await TelemetryCommands.QueryAsync(new TelemetryQuerySettings { SpoolPath = dir.File("t.db"), Machine = "pump-9", Fields = ["rms", "window"], Format = "csv", Limit = 100_000 }, output, TextWriter.Null, null, CancellationToken.None);
        var rows = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(99, rows.Count); // 2 s at 25.6 kHz, window 1024, hop 512: 99 windows, all stored
        Assert.Equal(Enumerable.Range(0, 99).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => r.Split(',')[^1].Trim()));
    }
}
