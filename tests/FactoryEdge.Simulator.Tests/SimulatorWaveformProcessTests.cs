using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Modbus;
using FactoryEdge.Recordings;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Tests.Support;

namespace FactoryEdge.Simulator.Tests;

/// <summary>The simulator as a real process, read with our ModbusClient: blocks, pacing, sources, scalars.</summary>
[Trait("Category", "Integration")]
public sealed class SimulatorWaveformProcessTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fe-sim-tests");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Start_NoMachineOptions_ServesDefaultSetOnUnitsOneToThree()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read");
        await using var client = WaveformReader.Client(sim.Port);

        for (byte unit = 1; unit <= 3; unit++)
        {
            Assert.Equal(1796f, await WaveformReader.ReadFloatAsync(client, unit, 4));
            Assert.Equal(2048, (await client.ReadRegistersAsync(ModbusTable.InputRegisters, unit, 1001, 1))[0]);
        }

        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 4, 0, 2));
        Assert.Equal(ModbusExceptionCode.GatewayTargetDeviceFailedToRespond, ex.Code);

        var status = await sim.SendAsync("status");
        Assert.Contains(status, l => l.StartsWith("status machine name=healthy unit=1 ", StringComparison.Ordinal));
        Assert.Contains(status, l => l.StartsWith("status machine name=outer-race unit=2 ", StringComparison.Ordinal));
        Assert.Contains(status, l => l.StartsWith("status machine name=imbalance unit=3 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pacing_RealTime_SequenceAdvancesAtBlockRate()
    {
        // 1024 samples at 25.6 kHz: a block every 40 ms, 25 per second.
        await using var sim = await SimulatorProcess.StartModbusAsync("--rate", "25600", "--block", "1024");
        await using var client = WaveformReader.Client(sim.Port);

        var rate = await MeasureBlockRateAsync(client, TimeSpan.FromSeconds(2.5));

        Assert.InRange(rate, 25 * 0.85, 25 * 1.15);
    }

    [Fact]
    public async Task Pacing_SpeedAndPeriod_SequenceAdvancesAtPeriodOverSpeed()
    {
        // A snapshot every 0.5 s of signal time, at 5 × real time: 10 blocks per second.
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "1024", "--period", "0.5", "--speed", "5");
        await using var client = WaveformReader.Client(sim.Port);

        var rate = await MeasureBlockRateAsync(client, TimeSpan.FromSeconds(2.5));

        Assert.InRange(rate, 10 * 0.85, 10 * 1.15);
    }

    [Fact]
    public async Task Pacing_OnRead_NextBlockOnlyAfterWholeBlockWasRead()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--block", "256");
        await using var client = WaveformReader.Client(sim.Port);

        var first = await WaveformReader.ReadAsync(client, 1, 256);
        await Task.Delay(300);
        var second = await WaveformReader.ReadAsync(client, 1, 256);

        // Reads that do not start a new round (here: samples only, then the sequence register) leave the block alone.
        await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 1004, 100);
        await Task.Delay(300);
        var sequenceAfterPartialRead = (await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 13, 1))[0];
        var third = await WaveformReader.ReadAsync(client, 1, 256);

        Assert.Equal(1, first.Sequence);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(2, sequenceAfterPartialRead);
        Assert.Equal(3, third.Sequence);
        Assert.NotEqual(first.Samples, second.Samples);
    }

    [Fact]
    public async Task Generator_SameSeedAndPeriod_SamplesMatchPhysicsGenerator()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync(
            "--pace", "on-read", "--rpm", "1780", "--fault", "outer-race", "--severity", "0.5", "--seed", "7", "--block", "512", "--period", "0.1");
        await using var client = WaveformReader.Client(sim.Port);

        var block1 = await WaveformReader.ReadAsync(client, 1, 512);
        var block2 = await WaveformReader.ReadAsync(client, 1, 512);

        var generator = new MachineSignalGenerator(new MachineSignalOptions
        {
            SampleRateHz = 25600,
            ShaftHz = 1780 / 60.0,
            Seed = 7,
            Faults = [new MachineFault(FaultType.OuterRace, 0.5)],
        });
        var expected = new float[2560 + 512];
        generator.Generate(expected);
        Assert.Equal(1, block1.Sequence);
        Assert.Equal(2, block2.Sequence);
        Assert.Equal(512, block1.Count);
        Assert.Equal(25600f, block1.SampleRateHz);
        Assert.Equal(expected[..512], block1.Samples);
        Assert.Equal(expected[2560..], block2.Samples);
    }

    [Fact]
    public async Task Recording_Looping_BlocksFollowFileAndStartAgain()
    {
        var path = WriteCsv("ramp.csv", 1000, 5000, i => i * 0.001);
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--recording", path, "--block", "300", "--loop");
        await using var client = WaveformReader.Client(sim.Port);

        var blocks = new List<WaveformBlock>();
        for (var i = 0; i < 4; i++)
        {
            blocks.Add(await WaveformReader.ReadAsync(client, 1, 300));
        }

        // 1000 samples hold three whole blocks of 300 (the last 100 are skipped), then the replay starts again.
        Assert.Equal([1, 2, 3, 4], blocks.Select(b => (int)b.Sequence));
        Assert.All(blocks, b => Assert.Equal(5000f, b.SampleRateHz));
        Assert.Equal(0.300f, blocks[1].Samples[0]);
        Assert.Equal(0.600f, blocks[2].Samples[0]);
        Assert.Equal(0.899f, blocks[2].Samples[^1]);
        Assert.Equal(blocks[0].Samples, blocks[3].Samples);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (float)(i * 0.001)), blocks[0].Samples);
    }

    [Fact]
    public async Task Recording_NoLoop_EndsAndKeepsLastBlockWithEndedStatus()
    {
        var path = WriteCsv("short.csv", 600, 1000, i => Math.Sin(i * 0.1));
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--recording", path, "--block", "300");
        await using var client = WaveformReader.Client(sim.Port);

        var first = await WaveformReader.ReadAsync(client, 1, 300);
        var second = await WaveformReader.ReadAsync(client, 1, 300);
        var again = await WaveformReader.ReadAsync(client, 1, 300);
        var status = (await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 14, 1))[0];
        var bits = new bool[4];
        await client.ReadDiscreteInputsAsync(1, 0, bits);

        Assert.Equal(1, first.Sequence);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(2, again.Sequence);
        Assert.Equal(second.Samples, again.Samples);
        Assert.Equal(0b1100, status);
        Assert.Equal([false, false, true, true], bits);
    }

    [CwruFact]
    public async Task Recording_CwruNormal_SamplesAndRpmMatchRecordingReader()
    {
        var path = TestData.Cwru(TestData.Normal);
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--recording", path, "--block", "2048");
        await using var client = WaveformReader.Client(sim.Port);

        var block1 = await WaveformReader.ReadAsync(client, 1, 2048);
        var block2 = await WaveformReader.ReadAsync(client, 1, 2048);

        var recording = RecordingReader.Load(path);
        var samples = recording.Channels[0].Samples.ToArray();
        Assert.Equal(48000f, block1.SampleRateHz);
        Assert.Equal(samples[..2048], block1.Samples);
        Assert.Equal(samples[2048..4096], block2.Samples);
        Assert.Equal(1796f, await WaveformReader.ReadFloatAsync(client, 1, 4));
    }

    [Fact]
    public async Task Scalars_GeneratedFaultyMachine_ConsistentWithBlockAndOptions()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--rpm", "1780", "--fault", "outer-race", "--severity", "1", "--block", "1024");
        await using var client = WaveformReader.Client(sim.Port);

        // On-read pacing: the second block stays until its next round starts, so the scalars read after it belong to it.
        await WaveformReader.ReadAsync(client, 1, 1024);
        var block = await WaveformReader.ReadAsync(client, 1, 1024);
        var holding = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 16);
        var input = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 0, 16);

        var f32 = new ModbusValueFormat(ModbusDataType.Float32);
        double F(int address) => RegisterCodec.Decode(holding.AsSpan(address, 2), f32);
        var rms = Math.Sqrt(block.Samples.Sum(v => (double)v * v) / block.Samples.Length);
        var peak = block.Samples.Max(v => Math.Abs(v));
        Assert.Equal(holding, input);
        Assert.Equal(rms, F(0), 1e-6 * rms);
        Assert.InRange(rms, 0.5, 3.0);
        Assert.InRange(F(2), 35, 60);
        Assert.Equal(1780, F(4));
        Assert.Equal(peak, F(6), 1e-6);
        Assert.Equal(1.0, F(8), 1e-9);
        Assert.Equal((ushort)Math.Round(rms * 1000), holding[10]);
        Assert.Equal(Math.Round(F(2) * 10), (short)holding[11]);
        Assert.Equal(1780, holding[12]);
        Assert.Equal(block.Sequence, holding[13]);
        Assert.Equal(0b0011, holding[14]);
        Assert.Equal(1000, holding[15]);
    }

    [Fact]
    public async Task Scalars_OrderCdab_FloatsWordSwapped()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--pace", "on-read", "--rpm", "1500", "--order", "CDAB", "--block", "128");
        await using var client = WaveformReader.Client(sim.Port);
        var cdab = new ModbusValueFormat(ModbusDataType.Float32, ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst);

        var rpm = await WaveformReader.ReadFloatAsync(client, 1, 4, format: cdab);
        var block = await WaveformReader.ReadAsync(client, 1, 128, format: cdab);

        Assert.Equal(1500f, rpm);
        Assert.Equal(25600f, block.SampleRateHz);
        Assert.All(block.Samples, v => Assert.InRange(v, -2f, 2f));
    }

    [Fact]
    public async Task Temperature_FaultyMachineAtHighSpeed_RisesAboveHealthyOne()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync(
            "--speed", "40", "--rate", "10240", "--block", "1024", "--period", "1",
            "--machine", "name=healthy",
            "--machine", "name=worn,fault=outer-race,severity=2,unit=7");
        await using var client = WaveformReader.Client(sim.Port);
        var healthyStart = await WaveformReader.ReadFloatAsync(client, 1, 2);
        var wornStart = await WaveformReader.ReadFloatAsync(client, 7, 2);

        await Task.Delay(TimeSpan.FromSeconds(3));
        var healthy = await WaveformReader.ReadFloatAsync(client, 1, 2);
        var worn = await WaveformReader.ReadFloatAsync(client, 7, 2);

        Assert.InRange(healthyStart, 39, 42);
        Assert.InRange(wornStart, 39, 50);
        Assert.InRange(healthy, 39, 41);
        Assert.True(worn > healthy + 10, $"worn {worn} °C vs healthy {healthy} °C");
        Assert.True(worn < 72, $"worn {worn} °C must stay below its target of 70 °C (+ wander)");
    }

    [Fact]
    public async Task Config_JsonFile_EachMachineOnItsUnit()
    {
        var config = Path.Combine(_temp.FullName, "machines.json");
        var csv = WriteCsv("replay.csv", 4096, 25600, i => 0.01 * (i % 10));
        await File.WriteAllTextAsync(config, $$"""
            {
              "machines": [
                { "name": "pump1", "unit": 5, "rpm": 1480, "fault": "imbalance", "severity": 0.5 },
                { "name": "fan2", "unit": 9, "recording": "{{csv.Replace("\\", "\\\\", StringComparison.Ordinal)}}", "rpm": 900, "loop": true }
              ]
            }
            """);
        await using var sim = await SimulatorProcess.StartModbusAsync("--config", config, "--pace", "on-read", "--block", "1024");
        await using var client = WaveformReader.Client(sim.Port);

        Assert.Equal(1480f, await WaveformReader.ReadFloatAsync(client, 5, 4));
        Assert.Equal(900f, await WaveformReader.ReadFloatAsync(client, 9, 4));
        Assert.Equal(0.5f, await WaveformReader.ReadFloatAsync(client, 5, 8));
        Assert.Equal(0b1001, (await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 9, 14, 1))[0]);
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Equal(ModbusExceptionCode.GatewayTargetDeviceFailedToRespond, ex.Code);
    }

    [Fact]
    public async Task Probe_DocumentedCommand_PrintsScalarFloats()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--rpm", "1780", "--block", "256");
        using var loggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = await new ModbusProbe(loggerFactory).RunAsync(
            [$"modbus://127.0.0.1:{sim.Port}/1", "--holding", "0:3", "--type", "float32", "--order", "ABCD"], output, error, CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("0 ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("2 ", lines[1], StringComparison.Ordinal);
        Assert.Equal("4 1780", lines[2].Trim());
    }

    private static async Task<double> MeasureBlockRateAsync(ModbusClient client, TimeSpan duration)
    {
        var start = (await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 13, 1))[0];
        var watch = Stopwatch.StartNew();
        await Task.Delay(duration);
        var end = (await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 13, 1))[0];
        var elapsed = watch.Elapsed.TotalSeconds;
        return unchecked((ushort)(end - start)) / elapsed;
    }

    private string WriteCsv(string name, int count, double rate, Func<int, double> value)
    {
        var path = Path.Combine(_temp.FullName, name);
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# sampling_rate_hz={rate} units=g samples={count}"));
        for (var i = 0; i < count; i++)
        {
            writer.WriteLine(((float)value(i)).ToString("R", CultureInfo.InvariantCulture));
        }

        return path;
    }
}
