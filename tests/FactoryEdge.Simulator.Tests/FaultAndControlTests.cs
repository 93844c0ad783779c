using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Control;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Simulator.Tests;

public sealed class FaultAndControlTests
{
    private static readonly ModbusRequestInfo ReadScalars = new(1, ModbusFunction.ReadHoldingRegisters, 0, 16);

    [Theory]
    [InlineData("4", 4, null)]
    [InlineData("0x0B", 11, null)]
    [InlineData("2@1000", 2, 1000)]
    [InlineData("10@0x10", 10, 16)]
    public void ExceptionRule_TryParse_CodeAndAddress(string text, int code, int? address)
    {
        Assert.True(ExceptionRule.TryParse(text, out var rule, out var problem), problem);

        Assert.Equal((ModbusExceptionCode)code, rule.Code);
        Assert.Equal(address, rule.Address);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("256")]
    [InlineData("-1")]
    [InlineData("4@")]
    [InlineData("4@65536")]
    [InlineData("1@2@3")]
    [InlineData("four")]
    public void ExceptionRule_TryParse_BadText_False(string text) =>
        Assert.False(ExceptionRule.TryParse(text, out _, out _));

    [Fact]
    public void ExceptionRule_Matches_OnlyRequestsCoveringAddress()
    {
        var rule = new ExceptionRule(ModbusExceptionCode.IllegalDataAddress, 1001);

        Assert.True(rule.Matches(new ModbusRequestInfo(1, ModbusFunction.ReadInputRegisters, 1000, 4)));
        Assert.False(rule.Matches(new ModbusRequestInfo(1, ModbusFunction.ReadInputRegisters, 1002, 4)));
        Assert.False(rule.Matches(new ModbusRequestInfo(1, ModbusFunction.ReadInputRegisters, 990, 11)));
        Assert.True(rule.Matches(new ModbusRequestInfo(1, ModbusFunction.WriteSingleRegister, 1001, 500)));
        Assert.False(rule.Matches(new ModbusRequestInfo(1, ModbusFunction.WriteSingleRegister, 1000, 500)));
    }

    [Fact]
    public void Decide_DropEveryThird_CountsEveryRequest()
    {
        var faults = new ModbusFaultInjector();
        faults.SetDrop(new FaultSchedule(3, Next: false));

        var kinds = Enumerable.Range(0, 6).Select(_ => faults.Decide(ReadScalars).Kind).ToArray();

        Assert.Equal([ModbusFaultKind.None, ModbusFaultKind.None, ModbusFaultKind.CloseConnection, ModbusFaultKind.None, ModbusFaultKind.None, ModbusFaultKind.CloseConnection], kinds);
        Assert.Equal(2, faults.Counters.Dropped);
    }

    [Fact]
    public void Decide_SeveralFaults_DropThenMuteThenExceptionThenSlow()
    {
        var faults = new ModbusFaultInjector();
        faults.SetSlow(TimeSpan.FromMilliseconds(50));
        faults.AddException(new ExceptionRule(ModbusExceptionCode.ServerDeviceBusy, null));
        faults.SetMute(new FaultSchedule(0, Next: true));
        faults.SetDrop(new FaultSchedule(0, Next: true));

        var first = faults.Decide(ReadScalars);
        var second = faults.Decide(ReadScalars);
        var third = faults.Decide(ReadScalars);
        faults.ClearExceptions();
        var fourth = faults.Decide(ReadScalars);
        faults.Clear();
        var fifth = faults.Decide(ReadScalars);

        Assert.Equal(ModbusFaultKind.CloseConnection, first.Kind);
        Assert.Equal(ModbusFaultKind.DropReply, second.Kind);
        Assert.Equal(ModbusFault.Respond(ModbusExceptionCode.ServerDeviceBusy), third);
        Assert.Equal(ModbusFault.Slow(TimeSpan.FromMilliseconds(50)), fourth);
        Assert.Equal(ModbusFault.None, fifth);
        Assert.Equal(new FaultCounters(5, 1, 1, 1, 1), faults.Counters);
    }

    [Theory]
    [InlineData("slow 250", "ok slow 250", "slow=250")]
    [InlineData("exception 0x0A@5", "ok exception 10@5", "exception=4,10@5")]
    [InlineData("drop", "ok drop next", "drop=next")]
    [InlineData("drop 4", "ok drop every 4", "drop=every-4")]
    [InlineData("MUTE 2", "ok mute every 2", "mute=every-2")]
    [InlineData("clear", "ok clear", "exception=off slow=0 drop=off mute=off")]
    [InlineData("ok", "ok clear", "exception=off slow=0 drop=off mute=off")]
    public async Task Execute_FaultCommand_AcknowledgedAndApplied(string command, string reply, string state)
    {
        await using var simulator = CreateSimulator();
        var control = new ModbusControlChannel(simulator, NullLogger.Instance);

        var result = control.Execute(command);

        Assert.NotNull(result);
        Assert.Equal(reply, Assert.Single(result.Lines));
        Assert.False(result.Quit);
        Assert.Contains(state, simulator.Faults.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("slow", "error slow: expected a delay in milliseconds")]
    [InlineData("slow -3", "error slow: expected a delay in milliseconds")]
    [InlineData("slow 700000", "error slow: expected a delay in milliseconds")]
    [InlineData("exception", "error exception: expected CODE[@ADDRESS]")]
    [InlineData("exception 4 5", "error exception: expected CODE[@ADDRESS]")]
    [InlineData("drop 0", "error drop: expected nothing")]
    [InlineData("mute x", "error mute: expected nothing")]
    [InlineData("status now", "error status takes no argument")]
    [InlineData("reboot", "error unknown command 'reboot'")]
    public async Task Execute_BadCommand_ErrorLineStateUnchanged(string command, string expected)
    {
        await using var simulator = CreateSimulator();
        var control = new ModbusControlChannel(simulator, NullLogger.Instance);
        var before = simulator.Faults.Describe();

        var result = control.Execute(command);

        Assert.StartsWith(expected, Assert.Single(result!.Lines), StringComparison.Ordinal);
        Assert.Equal(before, simulator.Faults.Describe());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("# a comment")]
    public async Task Execute_BlankOrComment_NoReply(string line)
    {
        await using var simulator = CreateSimulator();

        Assert.Null(new ModbusControlChannel(simulator, NullLogger.Instance).Execute(line));
    }

    [Fact]
    public async Task Execute_Status_OneLinePerMachineThenOk()
    {
        await using var simulator = CreateSimulator();
        var control = new ModbusControlChannel(simulator, NullLogger.Instance);

        var lines = control.Execute("status")!.Lines;

        Assert.Equal(6, lines.Count);
        Assert.StartsWith("status server endpoint=", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("status faults exception=4 slow=0", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("status machine name=healthy unit=1 ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("status machine name=imbalance unit=3 ", lines[4], StringComparison.Ordinal);
        Assert.Equal("ok status", lines[^1]);
    }

    [Fact]
    public async Task Execute_Quit_AcknowledgedAndAsksToStop()
    {
        await using var simulator = CreateSimulator();

        var result = new ModbusControlChannel(simulator, NullLogger.Instance).Execute("quit")!;

        Assert.True(result.Quit);
        Assert.Equal("ok quit", Assert.Single(result.Lines));
    }

    [Fact]
    public void Simulator_UnitBeyond255_ThrowsNamingMachine()
    {
        var machines = MachineCatalog.Resolve(new MachineSpec { BlockSize = 16 }, [MachineSpecParser.Parse("a"), MachineSpecParser.Parse("b")]);

        var ex = Assert.Throws<SimulatorUsageException>(() => new ModbusSimulator(new ModbusSimulatorSettings { FirstUnit = 255 }, machines, NullLoggerFactory.Instance, TimeProvider.System));

        Assert.Contains("machine 'b': unit 256 (--unit 255 + 1) is out of range 0–255", ex.Message, StringComparison.Ordinal);
    }

    private static ModbusSimulator CreateSimulator()
    {
        var machines = MachineCatalog.Resolve(new MachineSpec { BlockSize = 64 }, []);
        return new ModbusSimulator(
            new ModbusSimulatorSettings { Port = 0, Exceptions = [new ExceptionRule(ModbusExceptionCode.ServerDeviceFailure, null)] },
            machines,
            NullLoggerFactory.Instance,
            TimeProvider.System);
    }
}
