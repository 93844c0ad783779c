using FactoryEdge.Modbus;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;

namespace FactoryEdge.Simulator.Tests;

public sealed class ModbusMachineTests
{
    private static readonly ModbusValueFormat Float32 = new(ModbusDataType.Float32);

    [Fact]
    public void GeneratorBlockSource_StrideLongerThanBlock_SkipsSamplesBetweenBlocks()
    {
        var options = new MachineSignalOptions { Seed = 3, Faults = [new MachineFault(FaultType.InnerRace, 2, 0.01, 0.02)] };
        var source = new GeneratorBlockSource(options, 100, 250);
        var expected = new float[850];
        new MachineSignalGenerator(options).Generate(expected);
        var block = new float[100];

        source.TryNext(block, out var first);
        var firstBlock = block.ToArray();
        source.TryNext(block, out _);
        var secondBlock = block.ToArray();
        source.TryNext(block, out var third);

        Assert.Equal(expected[..100], firstBlock);
        Assert.Equal(expected[250..350], secondBlock);
        Assert.Equal(expected[500..600], block);
        Assert.Equal(100 / 25600.0, first.SignalSeconds, 12);
        Assert.Equal(600 / 25600.0, third.SignalSeconds, 12);
        Assert.Equal(2 * Math.Min(1, ((600 / 25600.0) - 0.01) / 0.02), third.Severity, 9);
    }

    [Fact]
    public void RecordingBlockSource_Loop_WholeBlocksThenFromTheStart()
    {
        var samples = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        var source = new RecordingBlockSource(samples, 1000, 300, 300, loop: true);
        var block = new float[300];
        var starts = new List<float>();

        for (var i = 0; i < 7; i++)
        {
            Assert.True(source.TryNext(block, out _));
            starts.Add(block[0]);
        }

        Assert.Equal(3, source.BlocksPerPass);
        Assert.Equal([0f, 300f, 600f, 0f, 300f, 600f, 0f], starts);
    }

    [Fact]
    public void RecordingBlockSource_NoLoopSnapshotStride_EndsAfterLastWholeBlock()
    {
        var samples = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        var source = new RecordingBlockSource(samples, 1000, 100, 400, loop: false);
        var block = new float[100];
        var starts = new List<float>();

        while (source.TryNext(block, out _))
        {
            starts.Add(block[0]);
        }

        Assert.Equal([0f, 400f, 800f], starts);
        Assert.True(source.Ended);
    }

    [Fact]
    public void PublishNext_Generator_BlockAndScalarsInBothTables()
    {
        var machine = Create("name=m,rpm=1500,block=64,fault=imbalance,severity=0.8");

        Assert.True(machine.PublishNext());

        var bank = machine.Bank;
        foreach (var table in new[] { ModbusTable.InputRegisters, ModbusTable.HoldingRegisters })
        {
            var head = bank.GetRegister(table, 1000);
            var tail = bank.GetRegister(table, (ushort)(1000 + 4 + 128));
            Assert.Equal(1, head);
            Assert.Equal(1, tail);
            Assert.Equal(64, bank.GetRegister(table, 1001));
            Assert.Equal(25600f, Read(bank, table, 1002));
            Assert.Equal(1500f, Read(bank, table, SimulatorRegisterMap.Rpm));
            Assert.Equal(0.8f, Read(bank, table, SimulatorRegisterMap.Severity));
            Assert.Equal(1, bank.GetRegister(table, SimulatorRegisterMap.Sequence));
            Assert.Equal(SimulatorRegisterMap.StatusRunning | SimulatorRegisterMap.StatusFaultActive, bank.GetRegister(table, SimulatorRegisterMap.Status));
        }

        var samples = new float[64];
        for (var i = 0; i < 64; i++)
        {
            samples[i] = Read(bank, ModbusTable.InputRegisters, (ushort)(1004 + (2 * i)));
        }

        var rms = Math.Sqrt(samples.Sum(v => (double)v * v) / 64);
        Assert.Equal((float)rms, Read(bank, ModbusTable.InputRegisters, SimulatorRegisterMap.Rms));
        Assert.Equal(machine.Readings.Rms, rms, 9);
    }

    [Fact]
    public void OnRequest_DocumentedOrderTailFirst_NextBlockWhenTheNextRoundStarts()
    {
        var machine = Create("name=m,block=100");
        machine.PublishNext();

        // Registers 1000..1204 (head, count, rate, 200 sample registers, tail): tail, then from the head up, then head again.
        machine.OnRequest(Read(1204, 1), answered: true);
        machine.OnRequest(Read(1000, 125), answered: true);
        machine.OnRequest(Read(1125, 79), answered: true);
        machine.OnRequest(Read(1000, 1), answered: true);
        machine.OnRequest(Read(0, 16), answered: true);
        var afterRound = machine.Readings.Sequence;

        machine.OnRequest(Read(1204, 1), answered: true);

        Assert.Equal(1, afterRound);
        Assert.Equal(2, machine.Readings.Sequence);
    }

    [Fact]
    public void OnRequest_AscendingReader_NextBlockAtItsNextFirstChunk()
    {
        var machine = Create("name=m,block=100");
        machine.PublishNext();

        machine.OnRequest(Read(0, 16), answered: true);
        machine.OnRequest(Read(1000, 125), answered: true);
        machine.OnRequest(Read(1125, 80), answered: true);
        machine.OnRequest(Read(0, 16), answered: true);
        var afterRoundAndScalars = machine.Readings.Sequence;

        machine.OnRequest(Read(1000, 125), answered: true);

        Assert.Equal(1, afterRoundAndScalars);
        Assert.Equal(2, machine.Readings.Sequence);
    }

    [Fact]
    public void OnRequest_HeaderProbeThenGatewayRounds_EveryRoundGetsOneWholeBlock()
    {
        var machine = Create("name=m,block=100");
        machine.PublishNext();

        // A header probe (head, count, rate: what `record` reads to learn N and the rate), then the
        // gateway's rounds: tail, count..samples in chunks from 1001, head. Each round must see one
        // block (head == tail when read), and the next round the next block.
        machine.OnRequest(Read(1000, 4), answered: true);
        var heads = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            machine.OnRequest(Read(1204, 1), answered: true);
            var tail = machine.Readings.Sequence;
            machine.OnRequest(Read(1001, 125), answered: true);
            machine.OnRequest(Read(1126, 78), answered: true);
            machine.OnRequest(Read(1000, 1), answered: true);
            Assert.Equal(tail, machine.Readings.Sequence);
            heads.Add(tail);
        }

        int[] expected = [1, 2, 3];
        Assert.Equal(expected, heads);
    }

    [Fact]
    public void OnRequest_PartOfBlockRead_NoNextBlock()
    {
        var machine = Create("name=m,block=100");
        machine.PublishNext();

        machine.OnRequest(Read(1204, 1), answered: true);
        machine.OnRequest(Read(1004, 100), answered: true);
        machine.OnRequest(Read(1204, 1), answered: true);

        Assert.Equal(1, machine.Readings.Sequence);
    }

    [Fact]
    public void OnRequest_UnansweredOrWriteRequests_DoNotCount()
    {
        var machine = Create("name=m,block=10");
        machine.PublishNext();

        machine.OnRequest(Read(1000, 25), answered: false);
        machine.OnRequest(new ModbusRequestInfo(1, ModbusFunction.WriteMultipleRegisters, 1000, 25), answered: true);
        machine.OnRequest(Read(1000, 1), answered: true);
        machine.OnRequest(Read(1000, 1), answered: true);

        Assert.Equal(1, machine.Readings.Sequence);
    }

    [Fact]
    public void TemperatureModel_StepInSeverity_ApproachesTargetWithTimeConstant()
    {
        var model = new TemperatureModel(seed: 0);

        var atStart = model.Update(0, 2, 0, isRecording: false);
        var afterTau = model.Update(60, 2, 0, isRecording: false);
        var late = model.Update(1200, 2, 0, isRecording: false);

        Assert.Equal(40, atStart, 0.5);
        Assert.Equal(40 + (30 * (1 - Math.Exp(-1))), afterTau, 0.5);
        Assert.Equal(70, late, 0.5);
    }

    private static ModbusRequestInfo Read(ushort address, ushort count) => new(1, ModbusFunction.ReadInputRegisters, address, count);

    private static float Read(ModbusRegisterBank bank, ModbusTable table, ushort address)
    {
        var registers = new ushort[2];
        bank.GetRegisters(table, address, registers);
        return (float)RegisterCodec.Decode(registers, Float32);
    }

    private static ModbusMachine Create(string spec)
    {
        var definition = Assert.Single(MachineCatalog.Resolve(new MachineSpec(), [MachineSpecParser.Parse(spec)]));
        return new ModbusMachine(definition, 1, ModbusByteOrder.BigEndian, ModbusWordOrder.HighWordFirst);
    }
}
