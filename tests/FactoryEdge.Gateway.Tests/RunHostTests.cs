using System.Globalization;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Gateway.Tests;

public sealed class RunHostTests
{
    [Fact]
    public async Task Host_RecordingSourceWithMachineFile_ReplaysThroughPipelineWithBearingFromFile()
    {
        var dir = Directory.CreateTempSubdirectory("fe-run-");
        try
        {
            var csv = Path.Combine(dir.FullName, "pump.csv");
            var lines = new List<string> { "# sampling_rate_hz=12800 units=g" };
            for (var i = 0; i < 12800 * 4; i++)
            {
                lines.Add((0.1 * Math.Sin(2 * Math.PI * 24.7 * i / 12800.0)).ToString("R", CultureInfo.InvariantCulture));
            }

            await File.WriteAllLinesAsync(csv, lines);
            var machine = Path.Combine(dir.FullName, "pump.json");
            await File.WriteAllTextAsync(machine, """{ "Bearing": "SKF 6205-2RS JEM", "NominalRpm": 1480 }""");
            var config = Path.Combine(dir.FullName, "appsettings.json");
            await File.WriteAllTextAsync(config, $$"""
                {
                  "FactoryEdge": {
                    "Gateway": { "Site": "plant-a", "Line": "l2" },
                    "Pipeline": { "RingSeconds": 10 },
                    "Telemetry": { "Spool": { "Path": "{{Path.Combine(dir.FullName, "telemetry.db")}}" } },
                    "Sources": { "Recordings": [ { "Path": "{{csv}}", "Machine": "pump-7", "MachineFile": "{{machine}}", "Speed": 5, "Loop": false } ] }
                  }
                }
                """);
            using var host = GatewayHost.Build(config);
            await host.StartAsync();
            var service = host.Services.GetRequiredService<PipelineHostedService>();
            await service.Ready.WaitAsync(TimeSpan.FromSeconds(10));
            var pipeline = Assert.IsType<Pipeline.SignalPipeline>(service.Pipeline);
            var expected = ((12800 * 4) - 4096) / 2048 + 1;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (pipeline.WindowsProcessed < expected && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(20);
            }

            await host.StopAsync();
            var stats = pipeline.GetStatistics();
            Assert.True(expected == pipeline.WindowsProcessed, $"{pipeline.WindowsProcessed} of {expected} windows; {stats.Channels[0]}");
            var channel = Assert.Single(pipeline.Channels);
            Assert.Equal("plant-a/l2/pump-7", channel.Id.MachineKey);
            Assert.Equal("SKF 6205-2RS JEM", channel.Bearing?.Name);
            Assert.Equal(1480 / 60.0, channel.NominalShaftHz, 6);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
