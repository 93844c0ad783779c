using System.Diagnostics;
using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Tests.Support;

namespace FactoryEdge.Simulator.Tests;

/// <summary>The simulator as a real process: injected faults from the command line and from stdin, and how it exits.</summary>
[Trait("Category", "Integration")]
public sealed class SimulatorFaultProcessTests
{
    [Fact]
    public async Task FaultException_CommandLine_EveryRequestAnswersTheCode()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--fault-exception", "4", "--block", "128");
        await using var client = WaveformReader.Client(sim.Port);

        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2));

        Assert.Equal(ModbusExceptionCode.ServerDeviceFailure, ex.Code);
        Assert.Equal(ModbusFunction.ReadHoldingRegisters, ex.Function);
    }

    [Fact]
    public async Task FaultException_StdinAtAddress_OnlyRequestsCoveringItFailUntilOff()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");
        await using var client = WaveformReader.Client(sim.Port);

        Assert.Equal("ok exception 2@1001", await sim.CommandAsync("exception 2@1001"));
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 1000, 4));
        var beside = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 1002, 2);
        var scalars = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 16);
        Assert.Equal("ok exception off", await sim.CommandAsync("exception off"));
        var count = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 1, 1000, 4);

        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        Assert.Equal(2, beside.Length);
        Assert.Equal(16, scalars.Length);
        Assert.Equal(128, count[1]);
    }

    [Fact]
    public async Task Slow_StdinCommand_DelaysRepliesUntilSetToZero()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");
        await using var client = WaveformReader.Client(sim.Port);
        await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);

        var before = await TimeReadAsync(client);
        Assert.Equal("ok slow 500", await sim.CommandAsync("slow 500"));
        var slow = await TimeReadAsync(client);
        Assert.Equal("ok slow 0", await sim.CommandAsync("slow 0"));
        var after = await TimeReadAsync(client);

        Assert.True(before < TimeSpan.FromMilliseconds(400), $"before: {before}");
        Assert.True(slow >= TimeSpan.FromMilliseconds(480), $"slow: {slow}");
        Assert.True(after < TimeSpan.FromMilliseconds(400), $"after: {after}");
    }

    [Fact]
    public async Task SlowMs_CommandLineLongerThanClientTimeout_ClientTimesOut()
    {
        // The gap between the delay and the timeout leaves room for a late timer on a loaded machine.
        await using var sim = await SimulatorProcess.StartModbusAsync("--slow-ms", "3000", "--block", "128");
        await using var client = WaveformReader.Client(sim.Port, TimeSpan.FromMilliseconds(150));

        await Assert.ThrowsAsync<ModbusTimeoutException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2));

        Assert.Equal(1, client.Statistics.Timeouts);
    }

    [Fact]
    public async Task Drop_StdinCommand_ConnectionClosedThenClientReconnects()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128", "--rpm", "1200");
        await using var client = WaveformReader.Client(sim.Port);
        Assert.Equal(1200f, await WaveformReader.ReadFloatAsync(client, 1, 4));

        Assert.Equal("ok drop next", await sim.CommandAsync("drop"));
        await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 4, 2));
        var afterDrop = await WaveformReader.ReadFloatAsync(client, 1, 4);

        Assert.Equal(1200f, afterDrop);
        Assert.Equal(1, client.Statistics.ConnectionsLost);
        Assert.Equal(1, client.Statistics.Reconnects);
        var status = await sim.SendAsync("status");
        Assert.Contains(status, l => l.Contains("drop=off", StringComparison.Ordinal) && l.Contains("applied-drops=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DropEvery_CommandLine_EveryThirdRequestLosesItsConnection()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--drop-every", "3", "--block", "128");
        await using var client = WaveformReader.Client(sim.Port);

        var outcomes = new List<bool>();
        for (var i = 0; i < 9; i++)
        {
            try
            {
                await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
                outcomes.Add(true);
            }
            catch (ModbusConnectionException)
            {
                outcomes.Add(false);
            }
        }

        Assert.Equal([true, true, false, true, true, false, true, true, false], outcomes);
        Assert.Equal(3, client.Statistics.ConnectionsLost);
    }

    [Fact]
    public async Task Mute_StdinCommand_ReplySwallowedClientTimesOutConnectionStays()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");
        await using var client = WaveformReader.Client(sim.Port, TimeSpan.FromMilliseconds(300));
        await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);

        Assert.Equal("ok mute next", await sim.CommandAsync("mute"));
        await Assert.ThrowsAsync<ModbusTimeoutException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2));
        var after = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);

        Assert.Equal(2, after.Length);
        Assert.Equal(0, client.Statistics.ConnectionsLost);
    }

    [Fact]
    public async Task CloseAll_StdinCommand_ClosesOpenConnectionsAndClientRecovers()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");
        await using var first = WaveformReader.Client(sim.Port);
        await using var second = WaveformReader.Client(sim.Port);
        await first.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
        await second.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);

        Assert.Equal("ok close-all 2", await sim.CommandAsync("close-all"));
        await WaitUntilAsync(() => !first.IsConnected && !second.IsConnected, TimeSpan.FromSeconds(5));
        var read = await first.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);

        Assert.Equal(2, read.Length);
        Assert.True(first.IsConnected);
    }

    [Fact]
    public async Task Clear_StdinCommand_RemovesEveryFault()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--fault-exception", "6", "--slow-ms", "400", "--mute-every", "2", "--block", "128");
        await using var client = WaveformReader.Client(sim.Port);

        Assert.Equal("ok clear", await sim.CommandAsync("clear"));
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 4; i++)
        {
            await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(1200), watch.Elapsed.ToString());
        var status = await sim.SendAsync("status");
        Assert.Contains("status faults exception=off slow=0 drop=off mute=off", status[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Control_UnknownCommandAndBadArgument_AnsweredWithError()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");

        var unknown = await sim.SendAsync("explode now");
        var badCode = await sim.SendAsync("exception 999");
        var help = await sim.SendAsync("help");

        Assert.StartsWith("error unknown command 'explode'", unknown[^1], StringComparison.Ordinal);
        Assert.StartsWith("error exception: '999' is not an exception code", badCode[^1], StringComparison.Ordinal);
        Assert.Equal("ok help", help[^1]);
    }

    [Fact]
    public async Task Sigterm_Running_ExitsCleanly()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");

        await sim.TerminateAsync();

        Assert.True(await sim.WaitForExitAsync(TimeSpan.FromSeconds(15)), "did not exit after SIGTERM");
        Assert.Equal(0, sim.ExitCode);
        Assert.Contains("Stopping", sim.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StdinEof_WithExitOnEof_Exits()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128", "--exit-on-eof");

        sim.CloseInput();

        Assert.True(await sim.WaitForExitAsync(TimeSpan.FromSeconds(15)), "did not exit after stdin closed");
        Assert.Equal(0, sim.ExitCode);
    }

    [Fact]
    public async Task StdinEof_WithoutExitOnEof_KeepsServing()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128", "--rpm", "1000");
        await using var client = WaveformReader.Client(sim.Port);

        sim.CloseInput();
        await Task.Delay(500);

        Assert.False(sim.HasExited);
        Assert.Equal(1000f, await WaveformReader.ReadFloatAsync(client, 1, 4));
    }

    [Fact]
    public async Task Quit_Command_ExitsZero()
    {
        await using var sim = await SimulatorProcess.StartModbusAsync("--block", "128");

        Assert.Equal("ok quit", await sim.CommandAsync("quit"));

        Assert.True(await sim.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(0, sim.ExitCode);
    }

    private static async Task<TimeSpan> TimeReadAsync(ModbusClient client)
    {
        var watch = Stopwatch.StartNew();
        await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
        return watch.Elapsed;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException("Condition not met in time.");
            }

            await Task.Delay(20);
        }
    }
}
