namespace FactoryEdge.Modbus.Tests;

public sealed class ReadPlannerTests
{
    private static readonly ModbusValueFormat U16 = new(ModbusDataType.UInt16);
    private static readonly ModbusValueFormat F32 = new(ModbusDataType.Float32);

    [Fact]
    public void Plan_AdjacentRegisters_OneRead()
    {
        var blocks = ModbusReadPlanner.Plan([P(0, F32), P(2, F32), P(4, U16)]);
        var block = Assert.Single(blocks);
        Assert.Equal(0, block.Address);
        Assert.Equal(5, block.Count);
        Assert.Equal(3, block.PointIndices.Length);
    }

    [Fact]
    public void Plan_HoleWithinGap_Coalesced()
    {
        var blocks = ModbusReadPlanner.Plan([P(0, U16), P(5, U16)], maxGap: 4);
        var block = Assert.Single(blocks);
        Assert.Equal(6, block.Count);
    }

    [Fact]
    public void Plan_HoleLargerThanGap_TwoReads()
    {
        var blocks = ModbusReadPlanner.Plan([P(0, U16), P(6, U16)], maxGap: 4);
        Assert.Equal(2, blocks.Count);
    }

    [Fact]
    public void Plan_DeviceMaximum_SplitsAtLimit()
    {
        var points = Enumerable.Range(0, 100).Select(i => P((ushort)(i * 2), F32)).ToArray();
        var blocks = ModbusReadPlanner.Plan(points, maxRegistersPerRead: 60);
        Assert.All(blocks, b => Assert.True(b.Count <= 60));
        Assert.Equal(100, blocks.Sum(b => b.PointIndices.Length));
        Assert.Equal(4, blocks.Count);
    }

    [Fact]
    public void Plan_DifferentTables_NeverMerged()
    {
        var blocks = ModbusReadPlanner.Plan([P(0, U16), P(1, U16, ModbusTable.InputRegisters)]);
        Assert.Equal(2, blocks.Count);
    }

    [Fact]
    public void Plan_UnsortedInput_IndicesReferToInput()
    {
        var blocks = ModbusReadPlanner.Plan([P(10, U16), P(0, U16)], maxGap: 20);
        var block = Assert.Single(blocks);
        Assert.Equal(0, block.Address);
        Assert.Equal([1, 0], block.PointIndices);
    }

    [Fact]
    public void Plan_Bits_UseBitMaximum()
    {
        var points = Enumerable.Range(0, 300).Select(i => new ModbusPointAddress(ModbusTable.Coils, (ushort)i, new ModbusValueFormat(ModbusDataType.Bool))).ToArray();
        var blocks = ModbusReadPlanner.Plan(points);
        var block = Assert.Single(blocks);
        Assert.Equal(300, block.Count);
    }

    [Fact]
    public void Plan_OverlappingPoints_ShareBlock()
    {
        var bit0 = new ModbusPointAddress(ModbusTable.HoldingRegisters, 7, new ModbusValueFormat(ModbusDataType.Bool), 0);
        var bit1 = bit0 with { Bit = 1 };
        var block = Assert.Single(ModbusReadPlanner.Plan([bit0, bit1]));
        Assert.Equal(1, block.Count);
    }

    private static ModbusPointAddress P(ushort address, ModbusValueFormat format, ModbusTable table = ModbusTable.HoldingRegisters) => new(table, address, format);
}
