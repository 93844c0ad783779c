using System.Diagnostics;
using FactoryEdge.Modbus;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Tests.Support;

namespace FactoryEdge.Simulator.Tests;

/// <summary>The gateway's own Modbus source (ModbusSensorSource) polling the simulator process, as the demo will.</summary>
[Trait("Category", "Integration")]
public sealed class GatewaySourceProcessTests
{
    [Fact]
    public async Task SensorSource_OnReadPacing_ConsecutiveBlocksMatchGeneratorNoTornNoMissed()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--block", "256", "--rpm", "1500", "--seed", "11", "--fault", "ball");
        var options = new ModbusOptions
        {
            Devices =
            [
                new ModbusDeviceOptions
                {
                    Name = "sim",
                    Host = "127.0.0.1",
                    Port = sim.Port,
                    PollIntervalMs = 50,
                    MaxInFlight = 4,
                    Points =
                    [
                        new ModbusPointOptions { Channel = "p/l/m/de/rms", Table = "Input", Address = 0, Type = "float32", Unit = "g" },
                        new ModbusPointOptions { Channel = "p/l/m/de/temperature", Table = "Holding", Address = 11, Type = "int16", Scale = 0.1, Unit = "degC" },
                        new ModbusPointOptions { Channel = "p/l/m/shaft/speed", Table = "Holding", Address = 12, Type = "uint16", Unit = "rpm" },
                    ],
                    Waveforms =
                    [
                        new ModbusWaveformOptions { Channel = "p/l/m/de/accel", Table = "Input", Address = 1000, SampleCount = 256, SampleRateHz = 25600, PollIntervalMs = 20, Contiguous = true },
                    ],
                },
            ],
        };
        var source = new ModbusSensorSource(options);
        var writers = source.Channels.Select(c => new RecordingWriter(c)).ToArray();
        var waveform = writers.Single(w => w.Descriptor.Id.ToString().EndsWith("accel", StringComparison.Ordinal));
        var speed = writers.Single(w => w.Descriptor.Id.ToString().EndsWith("speed", StringComparison.Ordinal));
        var temperature = writers.Single(w => w.Descriptor.Id.ToString().Contains("temperature", StringComparison.Ordinal));
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        var watch = Stopwatch.StartNew();
        while ((waveform.Count < 10 || speed.Count < 2) && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        var blocks = waveform.Blocks;
        Assert.True(blocks.Count >= 10, $"{blocks.Count} blocks in 30 s");
        Assert.Equal(0, source.Statistics.TornRejected);
        Assert.Equal(0, source.Statistics.MissedBlocks);
        Assert.Equal(0, source.Statistics.RepeatedBlocks);
        var generator = new MachineSignalGenerator(new MachineSignalOptions { ShaftHz = 1500 / 60.0, Seed = 11, Faults = [new MachineFault(FaultType.Ball)] });
        var signal = new float[(blocks.Count + 1) * 256];
        generator.Generate(signal);
        for (var i = 0; i < blocks.Count; i++)
        {
            // The source numbers a block by its sequence × N; the simulator's block k holds samples (k − 1)·N … k·N − 1.
            var (samples, index) = blocks[i];
            Assert.Equal(blocks[0].Index + (i * 256), index);
            var start = (int)index - 256;
            Assert.Equal(signal[start..(start + 256)], samples);
        }

        Assert.All(speed.Blocks, b => Assert.Equal(1500f, b.Samples.Single()));
        Assert.All(temperature.Blocks, b => Assert.InRange(b.Samples.Single(), 35f, 60f));
    }
}
