using System.Globalization;
using System.Text.RegularExpressions;
using FactoryEdge.Modbus;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>Debian's mbpoll (a libmodbus-based master) against our server: reads, writes, floats, RTU over a pseudo-terminal.</summary>
[Trait("Category", "Integration")]
public sealed partial class MbpollTests : IAsyncLifetime
{
    private readonly ModbusRegisterBank _bank = new();
    private ModbusServer? _server;

    private int Port => _server!.Port;

    public Task InitializeAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            _bank.SetRegister(ModbusTable.HoldingRegisters, (ushort)i, (ushort)(100 + i));
            _bank.SetRegister(ModbusTable.InputRegisters, (ushort)i, (ushort)(200 + i));
        }

        _bank.SetValue(ModbusTable.HoldingRegisters, 50, 3.14159f, new ModbusValueFormat(ModbusDataType.Float32));
        _bank.SetValue(ModbusTable.HoldingRegisters, 52, -1234.5f, new ModbusValueFormat(ModbusDataType.Float32, ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst));
        _bank.SetValue(ModbusTable.HoldingRegisters, 60, -123456789, new ModbusValueFormat(ModbusDataType.Int32));
        _bank.SetBits(ModbusTable.Coils, 0, [true, false, true, true]);
        _server = new ModbusServer(_bank);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_ReadsHoldingRegisters_ZeroBased()
    {
        var values = await PollAsync("-t", "4", "-0", "-r", "0", "-c", "5");
        Assert.Equal(["100", "101", "102", "103", "104"], values.Select(v => v.Value));
        Assert.Equal([0, 1, 2, 3, 4], values.Select(v => v.Reference));
    }

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_ReadsInputRegisters_OneBasedReferences()
    {
        var values = await PollAsync("-t", "3", "-r", "1", "-c", "3");
        Assert.Equal(["200", "201", "202"], values.Select(v => v.Value));
    }

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_ReadsFloats_BigEndianAndWordSwapped()
    {
        Assert.Equal("3.14159", (await PollAsync("-t", "4:float", "-B", "-0", "-r", "50", "-c", "1")).Single().Value);

        // mbpoll's default word order for 32-bit values is low word first (CDAB).
        Assert.Equal("-1234.5", (await PollAsync("-t", "4:float", "-0", "-r", "52", "-c", "1")).Single().Value);
        Assert.Equal("-123456789", (await PollAsync("-t", "4:int", "-B", "-0", "-r", "60", "-c", "1")).Single().Value);
    }

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_ReadsCoils()
    {
        Assert.Equal(["1", "0", "1", "1"], (await PollAsync("-t", "0", "-0", "-r", "0", "-c", "4")).Select(v => v.Value));
    }

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_WritesRegistersFloatsAndCoils_BankUpdated()
    {
        await RunAsync("-t", "4", "-0", "-r", "30", "1111", "2222", "3333");
        await RunAsync("-t", "4:float", "-B", "-0", "-r", "40", "6.5");
        await RunAsync("-t", "0", "-0", "-r", "10", "1");
        var registers = new ushort[3];
        _bank.GetRegisters(ModbusTable.HoldingRegisters, 30, registers);
        var floatRegisters = new ushort[2];
        _bank.GetRegisters(ModbusTable.HoldingRegisters, 40, floatRegisters);
        var coil = new bool[1];
        _bank.GetBits(ModbusTable.Coils, 10, coil);
        Assert.Equal(new ushort[] { 1111, 2222, 3333 }, registers);
        Assert.Equal(6.5, RegisterCodec.Decode(floatRegisters, new ModbusValueFormat(ModbusDataType.Float32)));
        Assert.True(coil[0]);
    }

    [PeerFact(ModbusPeers.Mbpoll)]
    public async Task Mbpoll_IllegalAddress_ReportsException()
    {
        _bank.SetHole(ModbusTable.HoldingRegisters, 1000, 5);
        var (code, output, error) = await ModbusPeers.RunAsync("mbpoll", ["-m", "tcp", "-p", Port.ToString(CultureInfo.InvariantCulture), "-0", "-r", "1000", "-c", "2", "-1", "127.0.0.1"], TimeSpan.FromSeconds(20));
        Assert.Contains("Illegal data address", output + error, StringComparison.Ordinal);
        _ = code;
    }

    [PeerFact(ModbusPeers.Mbpoll, ModbusPeers.Socat)]
    public async Task Rtu_OverPseudoTerminal_MbpollAndOurClientReadOurServer()
    {
        var directory = Directory.CreateTempSubdirectory("fe-modbus-pty");
        var serverEnd = Path.Combine(directory.FullName, "server");
        var clientEnd = Path.Combine(directory.FullName, "client");
        var socat = new System.Diagnostics.Process
        {
            StartInfo = new System.Diagnostics.ProcessStartInfo("socat", $"-d -d pty,raw,echo=0,link={serverEnd} pty,raw,echo=0,link={clientEnd}")
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        socat.Start();
        try
        {
            await PeerMap.WaitUntil(() => File.Exists(serverEnd) && File.Exists(clientEnd), TimeSpan.FromSeconds(10), "socat pty pair");
            using var cts = new CancellationTokenSource();
            await using var stream = new FileStream(serverEnd, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.Asynchronous);
            var serve = _server!.ServeRtuAsync(stream, cts.Token);

            var (code, output, error) = await ModbusPeers.RunAsync("mbpoll", ["-m", "rtu", "-b", "19200", "-P", "none", "-a", "7", "-0", "-r", "0", "-c", "3", "-1", clientEnd], TimeSpan.FromSeconds(20));
            Assert.True(code == 0, output + error);
            Assert.Equal(["100", "101", "102"], ParseValues(output).Select(v => v.Value));

            await using var client = new ModbusClient(new ModbusClientOptions
            {
                Framing = ModbusFraming.RtuSerial,
                SerialPort = clientEnd,
                BaudRate = 19200,
                Parity = ModbusParity.None,
                RequestTimeout = TimeSpan.FromSeconds(2),
            });
            var values = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 7, 0, 4);
            Assert.Equal(new ushort[] { 200, 201, 202, 203 }, values);
            await client.WriteSingleRegisterAsync(7, 70, 7070);
            Assert.Equal(7070, _bank.GetRegister(ModbusTable.HoldingRegisters, 70));
            await cts.CancelAsync();
        }
        finally
        {
            socat.Kill();
            socat.WaitForExit(5000);
            socat.Dispose();
            directory.Delete(recursive: true);
        }
    }

    private async Task<List<(int Reference, string Value)>> PollAsync(params string[] args)
    {
        var output = await RunAsync(args);
        var values = ParseValues(output);
        Assert.NotEmpty(values);
        return values;
    }

    private async Task<string> RunAsync(params string[] args)
    {
        string[] all = ["-m", "tcp", "-p", Port.ToString(CultureInfo.InvariantCulture), "-1", .. args];

        // Write values go after the host.
        var split = Array.FindIndex(all, a => a.Length > 0 && char.IsDigit(a[0]) && !IsOptionValue(all, a));
        string[] arguments = split < 0 ? [.. all, "127.0.0.1"] : [.. all[..split], "127.0.0.1", .. all[split..]];
        var (code, output, error) = await ModbusPeers.RunAsync("mbpoll", arguments, TimeSpan.FromSeconds(20));
        Assert.True(code == 0, $"mbpoll {string.Join(' ', arguments)} exited {code}: {output}{error}");
        return output;
    }

    private static bool IsOptionValue(string[] args, string value)
    {
        var index = Array.IndexOf(args, value);
        return index > 0 && args[index - 1].StartsWith('-') && args[index - 1] is not "-0" and not "-1" and not "-B";
    }

    private static List<(int Reference, string Value)> ParseValues(string output) =>
        ValueLine().Matches(output).Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value)).ToList();

    [GeneratedRegex(@"^\[(\d+)\]:\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex ValueLine();
}
