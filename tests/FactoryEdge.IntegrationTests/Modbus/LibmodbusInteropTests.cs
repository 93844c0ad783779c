using System.Globalization;
using FactoryEdge.Modbus;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>Our client, source and probe against a libmodbus server (tests/peers/modbus/modbus_server.c).</summary>
[Trait("Category", "Integration")]
public sealed class LibmodbusInteropTests : IClassFixture<LibmodbusServerFixture>
{
    private readonly LibmodbusServerFixture _server;

    public LibmodbusInteropTests(LibmodbusServerFixture server)
    {
        _server = server;
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Read_KnownPatterns_AllFourTables()
    {
        await using var client = new ModbusClient(await OptionsAsync());
        var holding = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 100);
        var input = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 0, 100);
        var coils = new bool[64];
        await client.ReadCoilsAsync(1, 0, coils);
        var discrete = new bool[64];
        await client.ReadDiscreteInputsAsync(1, 0, discrete);
        Assert.Equal(Enumerable.Range(0, 100).Select(PeerMap.Holding), holding);
        Assert.Equal(Enumerable.Range(0, 100).Select(PeerMap.Input), input);
        Assert.Equal(Enumerable.Range(0, 64).Select(PeerMap.Coil), coils);
        Assert.Equal(Enumerable.Range(0, 64).Select(PeerMap.Discrete), discrete);
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Read_FloatsInEveryWordOrder_Decoded()
    {
        await using var client = new ModbusClient(await OptionsAsync());
        var registers = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 200, 24);
        foreach (var order in PeerMap.Orders)
        {
            var format = PeerMap.Float32(order);
            Assert.Equal(3.14159f, (float)RegisterCodec.Decode(registers.AsSpan(PeerMap.PiAddress(order) - 200, 2), format));
            Assert.Equal(-1234.5f, (float)RegisterCodec.Decode(registers.AsSpan(PeerMap.NegativeAddress(order) - 200, 2), format));
        }

        Assert.Equal(Math.PI, RegisterCodec.Decode(registers.AsSpan(20, 4), new ModbusValueFormat(ModbusDataType.Float64)));
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Writes_ThenReadBack()
    {
        await using var client = new ModbusClient(await OptionsAsync());
        await client.WriteMultipleRegistersAsync(1, 500, new ushort[] { 11, 22, 33 });
        await client.WriteSingleRegisterAsync(1, 503, 44);
        await client.WriteSingleCoilAsync(1, 40, true);
        await client.WriteMultipleCoilsAsync(1, 41, new[] { false, true });
        var registers = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 500, 4);
        var coils = new bool[3];
        await client.ReadCoilsAsync(1, 40, coils);
        Assert.Equal(new ushort[] { 11, 22, 33, 44 }, registers);
        Assert.Equal([true, false, true], coils);
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Read_IllegalAddress_Exception02()
    {
        await using var client = new ModbusClient(await OptionsAsync());
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 305, 10));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        var beyond = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 9990, 20));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, beyond.Code);
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Source_CoalescedReadOverHole_FallsBackToSplitReads()
    {
        var port = await _server.EnsureStartedAsync();
        var options = new ModbusOptions
        {
            Devices =
            [
                new ModbusDeviceOptions
                {
                    Name = "libmodbus",
                    Host = "127.0.0.1",
                    Port = port,
                    PollIntervalMs = 20,
                    MaxGap = 20,
                    Points =
                    [
                        new ModbusPointOptions { Channel = "p/l/m/a/x", Address = 305, Type = "uint16" },
                        new ModbusPointOptions { Channel = "p/l/m/b/x", Address = 325, Type = "uint16" },
                        new ModbusPointOptions { Channel = "p/l/m/c/x", Address = 202, Type = "float32", Order = "CDAB" },
                    ],
                },
            ],
        };
        var source = new ModbusSensorSource(options);
        var writers = source.Channels.Select(c => new RecordingWriter(c)).ToArray();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await PeerMap.WaitUntil(() => writers.All(w => w.Count >= 3), TimeSpan.FromSeconds(20), "three polls");
        await cts.CancelAsync();
        await run;

        Assert.Equal(1, source.Statistics.SplitFallbacks);
        Assert.All(writers[0].Blocks, b => Assert.Equal(3305f, b.Samples[0]));
        Assert.All(writers[1].Blocks, b => Assert.Equal(3325f, b.Samples[0]));
        Assert.All(writers[2].Blocks, b => Assert.Equal(3.14159f, b.Samples[0]));
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Pipelining_ManyRequestsInFlight_AllMatched()
    {
        await using var client = new ModbusClient(await OptionsAsync(maxInFlight: 16));
        var reads = Enumerable.Range(0, 400).Select(async i =>
        {
            var address = i % 90;
            var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, (ushort)address, 10);
            return (address, values);
        });
        foreach (var (address, values) in await Task.WhenAll(reads))
        {
            Assert.Equal(Enumerable.Range(address, 10).Select(PeerMap.Holding), values);
        }
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task SlowRegister_TimeoutThenLateReplyDiscarded_ConnectionKept()
    {
        await using var client = new ModbusClient(await OptionsAsync(timeoutMs: 100));
        var ex = await Assert.ThrowsAsync<ModbusTimeoutException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 9000, 1));
        Assert.Contains("no reply within 100 ms", ex.Message, StringComparison.Ordinal);

        // The server answers 300 ms later; the reply is discarded and counted, not a protocol error.
        await PeerMap.WaitUntil(() => client.Statistics.LateReplies == 1, TimeSpan.FromSeconds(5), "late reply");
        var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
        Assert.Equal(new[] { PeerMap.Holding(0), PeerMap.Holding(1) }, values);
        Assert.Equal(0, client.Statistics.MalformedFrames);
        Assert.Equal(0, client.Statistics.ConnectionsLost);
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Waveform_BlocksWrittenByLibmodbus_TornReadsRejectedAcceptedBlocksConsistent()
    {
        var port = await _server.EnsureStartedAsync();
        var options = new ModbusOptions
        {
            Devices =
            [
                new ModbusDeviceOptions
                {
                    Name = "libmodbus-wave",
                    Host = "127.0.0.1",
                    Port = port,
                    MaxInFlight = 8,
                    Waveforms =
                    [
                        // The server starts a block every 40 ms and spends about 16 ms writing it; polling every
                        // 33 ms meets it at every phase, so some reads find an update in progress.
                        new ModbusWaveformOptions { Channel = "p/l/m/w/x", Table = "Input", Address = 5000, SampleCount = 256, SampleRateHz = 25600, PollIntervalMs = 33, Contiguous = true, TornRetries = 1 },
                    ],
                },
            ],
        };
        var source = new ModbusSensorSource(options);
        var writer = new RecordingWriter(source.Channels[0]);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync([writer], cts.Token);
        await PeerMap.WaitUntil(() => writer.Count >= 5 && source.Statistics.TornReads > 0, TimeSpan.FromSeconds(60), "five blocks and a torn read");
        await cts.CancelAsync();
        await run;

        foreach (var (samples, index, _, clock) in writer.Blocks)
        {
            var sequence = index / 256;
            for (var k = 0; k < samples.Length; k++)
            {
                Assert.Equal(PeerMap.WaveSample(sequence, k), samples[k]);
            }

            Assert.Equal(FactoryEdge.Core.HostClock.ReceiptClockQuality(TimeProvider.System), clock);
        }

        var indices = writer.Blocks.Select(b => b.Index).ToArray();
        Assert.True(indices.Zip(indices.Skip(1)).All(p => p.Second > p.First));
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task ServerRestart_MidPolling_ClientResumesByItselfAndGapFlagged()
    {
        var (process, port) = await LibmodbusServerFixture.StartAsync();
        using var peer = process;
        var options = new ModbusOptions
        {
            Devices =
            [
                new ModbusDeviceOptions
                {
                    Name = "restarting",
                    Host = "127.0.0.1",
                    Port = port,
                    PollIntervalMs = 20,
                    TimeoutMs = 200,
                    ReconnectInitialDelayMs = 50,
                    ReconnectMaxDelayMs = 400,
                    Points = [new ModbusPointOptions { Channel = "p/l/m/a/x", Address = 1, Type = "uint16" }],
                    Waveforms = [new ModbusWaveformOptions { Channel = "p/l/m/w/x", Address = 5000, SampleCount = 256, SampleRateHz = 25600, PollIntervalMs = 20, Contiguous = true }],
                },
            ],
        };
        var source = new ModbusSensorSource(options);
        var writers = source.Channels.Select(c => new RecordingWriter(c)).ToArray();
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await PeerMap.WaitUntil(() => writers[0].Count >= 3 && writers[1].Count >= 2, TimeSpan.FromSeconds(20), "polling before the restart");

        peer.Stop();
        await PeerMap.WaitUntil(() => source.Statistics.FailedPolls >= 3, TimeSpan.FromSeconds(20), "failed polls while the server is down");
        var before = writers[0].Count;
        var wavesBefore = writers[1].Count;
        var restarted = new PeerProcess(ModbusPeers.LibmodbusServerPath, "--port", port.ToString(CultureInfo.InvariantCulture), "--wave-base", "5000", "--wave-count", "256", "--wave-period-ms", "40");
        using var restartedScope = restarted;
        await restarted.StartAsync(TimeSpan.FromSeconds(10));
        await PeerMap.WaitUntil(() => writers[0].Count >= before + 3 && writers[1].Count >= wavesBefore + 1, TimeSpan.FromSeconds(20), "polling after the restart");
        await cts.CancelAsync();
        await run;

        Assert.Contains(before, writers[0].GapsBefore);
        Assert.Contains(wavesBefore, writers[1].GapsBefore);
        var scalar = writers[0].Blocks;
        Assert.True(scalar[before].Index - scalar[before - 1].Index > 1, "the outage leaves a hole in the sample indices");
        Assert.Equal(PeerMap.Holding(1), scalar[^1].Samples[0]);
        Assert.True(source.ClientStatistics.Count == 0, "clients are disposed when the source stops");
    }

    [PeerFact(ModbusPeers.Libmodbus)]
    public async Task Probe_Float32EachOrder_MatchesLibmodbus()
    {
        var port = await _server.EnsureStartedAsync();
        foreach (var order in PeerMap.Orders)
        {
            var address = PeerMap.PiAddress(order).ToString(CultureInfo.InvariantCulture);
            var (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}/1", "--holding", address + ":1", "--type", "float32", "--order", order);
            Assert.True(code == 0, error);
            Assert.Equal([$"{address} {3.14159f.ToString("R", CultureInfo.InvariantCulture)}"], PeerMap.Lines(output));
        }
    }

    private async Task<ModbusClientOptions> OptionsAsync(int maxInFlight = 4, int timeoutMs = 2000) => new()
    {
        Host = "127.0.0.1",
        Port = await _server.EnsureStartedAsync(),
        MaxInFlight = maxInFlight,
        RequestTimeout = TimeSpan.FromMilliseconds(timeoutMs),
    };
}
