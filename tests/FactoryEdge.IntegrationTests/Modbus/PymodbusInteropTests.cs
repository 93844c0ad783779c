using System.Globalization;
using FactoryEdge.Modbus;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>Our client, source and probe against Debian's python3-pymodbus server.</summary>
[Trait("Category", "Integration")]
public sealed class PymodbusInteropTests : IClassFixture<PymodbusServerFixture>
{
    private readonly PymodbusServerFixture _server;

    public PymodbusInteropTests(PymodbusServerFixture server)
    {
        _server = server;
    }

    [PeerFact(ModbusPeers.Pymodbus)]
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

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Probe_HoldingRegisters_PrintsPattern()
    {
        var port = await _server.EnsureStartedAsync();
        var (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}/1", "--holding", "0:5");
        Assert.True(code == 0, error);
        Assert.Equal(["0 3 0x0003", "1 10 0x000A", "2 17 0x0011", "3 24 0x0018", "4 31 0x001F"], PeerMap.Lines(output));
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Probe_Float32EachOrder_DecodesPymodbusValues()
    {
        var port = await _server.EnsureStartedAsync();
        foreach (var order in PeerMap.Orders)
        {
            var pi = PeerMap.PiAddress(order);
            var negative = PeerMap.NegativeAddress(order);
            var (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}", "--holding", $"{pi}:1", "--type", "float32", "--order", order);
            Assert.True(code == 0, error);
            Assert.Equal([$"{pi} {3.14159f.ToString("R", CultureInfo.InvariantCulture)}"], PeerMap.Lines(output));
            (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}", "--holding", $"{negative}:1", "--type", "float32", "--order", order);
            Assert.True(code == 0, error);
            Assert.Equal([$"{negative} -1234.5"], PeerMap.Lines(output));
        }
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Probe_Float64_DecodesPi()
    {
        var port = await _server.EnsureStartedAsync();
        var (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}", "--holding", "220:1", "--type", "float64");
        Assert.True(code == 0, error);
        Assert.Equal(["220 3.141592653589793"], PeerMap.Lines(output));
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Probe_IllegalAddress_ClearErrorNonZeroExit()
    {
        var port = await _server.EnsureStartedAsync();
        var (code, output, error) = await PeerMap.Probe($"modbus://127.0.0.1:{port}", "--holding", "305:10");
        Assert.Equal(ModbusProbe.ExitDeviceException, code);
        Assert.Equal("", output);
        Assert.Contains("Modbus exception 02 IllegalDataAddress from unit 1 for ReadHoldingRegisters (function 03) at address 305, count 10", error, StringComparison.Ordinal);
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Source_CoalescedReadOverHole_FallsBackToSplitReads()
    {
        var port = await _server.EnsureStartedAsync();
        var options = new ModbusOptions
        {
            Devices =
            [
                new ModbusDeviceOptions
                {
                    Name = "pymodbus",
                    Host = "127.0.0.1",
                    Port = port,
                    PollIntervalMs = 50,
                    MaxGap = 20,
                    MaxInFlight = 1,
                    Points =
                    [
                        new ModbusPointOptions { Channel = "p/l/m/a/x", Address = 305, Type = "uint16" },
                        new ModbusPointOptions { Channel = "p/l/m/b/x", Address = 325, Type = "uint16" },
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
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Pipelining_SeveralInFlight_AllMatched()
    {
        await using var client = new ModbusClient(await OptionsAsync(maxInFlight: 4));
        var reads = Enumerable.Range(0, 40).Select(async i =>
        {
            var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, (ushort)i, 5);
            return (i, values);
        });
        foreach (var (i, values) in await Task.WhenAll(reads))
        {
            Assert.Equal(Enumerable.Range(i, 5).Select(PeerMap.Holding), values);
        }
    }

    [PeerFact(ModbusPeers.Pymodbus)]
    public async Task Writes_ThenReadBack()
    {
        await using var client = new ModbusClient(await OptionsAsync());
        try
        {
            await client.WriteMultipleRegistersAsync(1, 90, new ushort[] { 901, 902 });
            await client.WriteSingleRegisterAsync(1, 92, 903);
            var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 90, 3);
            Assert.Equal(new ushort[] { 901, 902, 903 }, values);
        }
        finally
        {
            // The fixture's server is shared by the class: put the pattern back.
            await client.WriteMultipleRegistersAsync(1, 90, Enumerable.Range(90, 3).Select(PeerMap.Holding).ToArray());
        }
    }

    private async Task<ModbusClientOptions> OptionsAsync(int maxInFlight = 1) => new()
    {
        Host = "127.0.0.1",
        Port = await _server.EnsureStartedAsync(),
        MaxInFlight = maxInFlight,
        RequestTimeout = TimeSpan.FromSeconds(3),
    };
}
