using System.Globalization;

namespace FactoryEdge.Modbus.Tests;

public sealed class ProbeTests
{
    [Fact]
    public async Task Probe_HoldingRegisters_PrintsAddressValueAndHex()
    {
        await using var server = new TestServer();
        server.Bank.SetRegisters(ModbusTable.HoldingRegisters, 10, [7, 0xFFFE, 4660]);
        var (code, output, error) = await Run($"modbus://127.0.0.1:{server.Port}/3", "--holding", "10:3");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal(["10 7 0x0007", "11 65534 0xFFFE", "12 4660 0x1234"], Lines(output));
    }

    [Fact]
    public async Task Probe_Int16WithBase1_SignedAndOneBased()
    {
        await using var server = new TestServer();
        server.Bank.SetRegisters(ModbusTable.InputRegisters, 0, [0xFFFE]);
        var (code, output, _) = await Run($"modbus://127.0.0.1:{server.Port}", "--input", "1:1", "--type", "int16", "--base", "1");
        Assert.Equal(0, code);
        Assert.Equal(["1 -2 0xFFFE"], Lines(output));
    }

    [Theory]
    [InlineData("ABCD")]
    [InlineData("CDAB")]
    [InlineData("BADC")]
    [InlineData("DCBA")]
    public async Task Probe_Float32EachOrder_DecodesValues(string order)
    {
        await using var server = new TestServer();
        Assert.True(ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder));
        var format = new ModbusValueFormat(ModbusDataType.Float32, byteOrder, wordOrder);
        server.Bank.SetValue(ModbusTable.HoldingRegisters, 100, 3.14159f, format);
        server.Bank.SetValue(ModbusTable.HoldingRegisters, 102, -1234.5f, format);
        var (code, output, _) = await Run($"modbus://127.0.0.1:{server.Port}/1", "--holding", "100:2", "--type", "float32", "--order", order);
        Assert.Equal(0, code);
        Assert.Equal(["100 " + 3.14159f.ToString("R", CultureInfo.InvariantCulture), "102 -1234.5"], Lines(output));
    }

    [Fact]
    public async Task Probe_Coils_PrintsBits()
    {
        await using var server = new TestServer();
        server.Bank.SetBits(ModbusTable.Coils, 0, [true, false, true]);
        var (code, output, _) = await Run($"modbus://127.0.0.1:{server.Port}", "--coils", "0:3");
        Assert.Equal(0, code);
        Assert.Equal(["0 1", "1 0", "2 1"], Lines(output));
    }

    [Fact]
    public async Task Probe_MoreThan125Registers_SplitsReads()
    {
        await using var server = new TestServer();
        for (var i = 0; i < 300; i++)
        {
            server.Bank.SetRegister(ModbusTable.HoldingRegisters, (ushort)i, (ushort)i);
        }

        var (code, output, _) = await Run($"modbus://127.0.0.1:{server.Port}", "--holding", "0:300");
        Assert.Equal(0, code);
        Assert.Equal(300, Lines(output).Length);
        Assert.Equal("299 299 0x012B", Lines(output)[^1]);
    }

    [Fact]
    public async Task Probe_IllegalAddress_ErrorAndExitCode3()
    {
        await using var server = new TestServer();
        server.Bank.SetHole(ModbusTable.HoldingRegisters, 0, 10);
        var (code, output, error) = await Run($"modbus://127.0.0.1:{server.Port}", "--holding", "0:1");
        Assert.Equal(ModbusProbe.ExitDeviceException, code);
        Assert.Equal("", output);
        Assert.Contains("exception 02 IllegalDataAddress", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_NoReply_TimeoutExitCode4()
    {
        await using var server = new TestServer();
        server.Server.Faults.DropReplyProbability = 1;
        var (code, _, error) = await Run($"modbus://127.0.0.1:{server.Port}", "--holding", "0:1", "--timeout", "100");
        Assert.Equal(ModbusProbe.ExitTimeout, code);
        Assert.StartsWith("error: timeout:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_NothingListening_ConnectionExitCode5()
    {
        var (code, _, error) = await Run($"modbus://127.0.0.1:{ClientTests.FreePort()}", "--holding", "0:1");
        Assert.Equal(ModbusProbe.ExitConnection, code);
        Assert.Contains("connect failed", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://x", "--holding", "0:1")]
    [InlineData("modbus://x", "--holding", "0")]
    [InlineData("modbus://x", "--holding", "0:1", "--type", "float128")]
    [InlineData("modbus://x", "--coils", "0:1", "--type", "float32")]
    [InlineData("modbus://x/300", "--holding", "0:1")]
    [InlineData("modbus://x")]
    public async Task Probe_BadArguments_UsageExitCode2(params string[] args)
    {
        var (code, _, error) = await Run(args);
        Assert.Equal(ModbusProbe.ExitUsage, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("usage: probe modbus://", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseUri_DefaultsAndRtu()
    {
        Assert.Equal(("plc.local", 502, (byte)1, ModbusFraming.Tcp), ModbusProbeRequest.ParseUri("modbus://plc.local"));
        Assert.Equal(("10.0.0.1", 5020, (byte)7, ModbusFraming.RtuOverTcp), ModbusProbeRequest.ParseUri("modbus+rtu://10.0.0.1:5020/7"));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await new ModbusProbe().RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
