using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Tests.Support;

namespace FactoryEdge.Simulator.Tests;

/// <summary>Debian's mbpoll (a libmodbus master) reads and writes the simulator process.</summary>
[Trait("Category", "Integration")]
public sealed partial class MbpollSimulatorTests : IAsyncLifetime
{
    private SimulatorProcess? _sim;

    private int Port => _sim!.Port;

    public async Task InitializeAsync() =>
        _sim = await SimulatorProcess.StartModbusAsync(
            "--pace", "on-read", "--block", "256",
            "--machine", "name=press,rpm=1780,fault=inner-race,severity=0.5",
            "--machine", "name=fan,rpm=900,unit=7");

    public async Task DisposeAsync() => await _sim!.DisposeAsync();

    [MbpollFact]
    public async Task Mbpoll_HoldingFloatsBigEndian_ScalarsPlausible()
    {
        var values = await PollAsync("-a", "1", "-t", "4:float", "-B", "-r", "0", "-c", "5");

        Assert.Equal([0, 2, 4, 6, 8], values.Select(v => v.Reference));
        Assert.InRange(Float(values[0].Value), 0.05, 5);
        Assert.InRange(Float(values[1].Value), 35, 60);
        Assert.Equal("1780", values[2].Value);
        Assert.True(Float(values[3].Value) >= Float(values[0].Value));
        Assert.Equal("0.5", values[4].Value);
    }

    [MbpollFact]
    public async Task Mbpoll_InputRegistersInt_ScaledIntegersAndBlockPointer()
    {
        var values = await PollAsync("-a", "7", "-t", "3", "-r", "10", "-c", "6");

        Assert.Equal([10, 11, 12, 13, 14, 15], values.Select(v => v.Reference));
        Assert.InRange(int.Parse(values[0].Value, CultureInfo.InvariantCulture), 10, 5000);
        Assert.InRange(int.Parse(values[1].Value, CultureInfo.InvariantCulture), 350, 600);
        Assert.Equal("900", values[2].Value);
        Assert.Equal("1", values[3].Value);
        Assert.Equal("1", values[4].Value);
        Assert.Equal("1000", values[5].Value);
    }

    [MbpollFact]
    public async Task Mbpoll_WaveformHeader_CountAndRateFloat()
    {
        var header = await PollAsync("-a", "1", "-t", "3", "-r", "1000", "-c", "2");
        var rate = await PollAsync("-a", "1", "-t", "3:float", "-B", "-r", "1002", "-c", "1");
        var firstSamples = await PollAsync("-a", "1", "-t", "3:float", "-B", "-r", "1004", "-c", "4");

        Assert.Equal("1", header[0].Value);
        Assert.Equal("256", header[1].Value);
        Assert.Equal("25600", rate.Single().Value);
        Assert.All(firstSamples, v => Assert.InRange(Float(v.Value), -20, 20));
    }

    [MbpollFact]
    public async Task Mbpoll_FloatsWordSwappedDefault_DifferFromBigEndian()
    {
        // mbpoll's default 32-bit order is CDAB; our registers are ABCD, so only -B decodes the rpm.
        var swapped = await PollAsync("-a", "7", "-t", "4:float", "-r", "4", "-c", "1");
        var bigEndian = await PollAsync("-a", "7", "-t", "4:float", "-B", "-r", "4", "-c", "1");

        Assert.Equal("900", bigEndian.Single().Value);
        Assert.NotEqual("900", swapped.Single().Value);
    }

    [MbpollFact]
    public async Task Mbpoll_WritesScratchRegisters_OurClientReadsThem()
    {
        await RunAsync(["-a", "1", "-t", "4", "-r", "2000"], ["1111", "2222", "3333"]);
        await RunAsync(["-a", "1", "-t", "4:float", "-B", "-r", "2010"], ["6.5"]);
        await using var client = WaveformReader.Client(Port);

        var registers = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 2000, 3);
        var value = await WaveformReader.ReadFloatAsync(client, 1, 2010);

        Assert.Equal(new ushort[] { 1111, 2222, 3333 }, registers);
        Assert.Equal(6.5f, value);
    }

    [MbpollFact]
    public async Task Mbpoll_DiscreteInputs_RunningAndFaultActive()
    {
        var bits = await PollAsync("-a", "1", "-t", "1", "-r", "0", "-c", "4");

        Assert.Equal(["1", "1", "0", "0"], bits.Select(b => b.Value));
    }

    [MbpollFact]
    public async Task Mbpoll_InjectedException_ReportsIt()
    {
        Assert.Equal("ok exception 2@1000", await _sim!.CommandAsync("exception 2@1000"));

        var (_, output, error) = await RunRawAsync(["-m", "tcp", "-p", Port.ToString(CultureInfo.InvariantCulture), "-a", "1", "-0", "-t", "3", "-r", "1000", "-c", "2", "-1", "127.0.0.1"]);
        await _sim.CommandAsync("exception off");

        Assert.Contains("Illegal data address", output + error, StringComparison.Ordinal);
    }

    [MbpollFact]
    public async Task Mbpoll_UnitWithoutMachine_GatewayTargetFailed()
    {
        var (_, output, error) = await RunRawAsync(["-m", "tcp", "-p", Port.ToString(CultureInfo.InvariantCulture), "-a", "9", "-0", "-t", "4", "-r", "0", "-c", "1", "-1", "127.0.0.1"]);

        Assert.Contains("Target device failed to respond", output + error, StringComparison.Ordinal);
    }

    private static double Float(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private async Task<List<(int Reference, string Value)>> PollAsync(params string[] args)
    {
        var output = await RunAsync(args, []);
        var values = ValueLine().Matches(output).Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value)).ToList();
        Assert.NotEmpty(values);
        return values;
    }

    /// <summary>mbpoll with 0-based references, one poll; values to write go after the host.</summary>
    private async Task<string> RunAsync(string[] args, string[] writeValues)
    {
        string[] arguments = ["-m", "tcp", "-p", Port.ToString(CultureInfo.InvariantCulture), "-0", "-1", .. args, "127.0.0.1", .. writeValues];
        var (code, output, error) = await RunRawAsync(arguments);
        Assert.True(code == 0, $"mbpoll {string.Join(' ', arguments)} exited {code}: {output}{error}");
        return output;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunRawAsync(string[] arguments)
    {
        var info = new ProcessStartInfo(Mbpoll.Require())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"mbpoll {string.Join(' ', arguments)} did not finish within 20 s.");
        }

        return (process.ExitCode, await output, await error);
    }

    [GeneratedRegex(@"^\[(\d+)\]:\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex ValueLine();
}
