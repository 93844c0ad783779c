namespace FactoryEdge.Modbus;

/// <summary>Where one value lives: table, protocol (0-based) address, format, and the bit for a bool in a register.</summary>
public readonly record struct ModbusPointAddress(ModbusTable Table, ushort Address, ModbusValueFormat Format, int Bit = -1)
{
    /// <summary>Registers (or bits, for bit tables) the value occupies.</summary>
    public int Length => Table.IsBitTable() ? 1 : Format.RegisterCount;

    public int End => Address + Length;
}

/// <summary>One read request of a plan and the points it serves.</summary>
public sealed class ModbusReadBlock
{
    public ModbusReadBlock(ModbusTable table, ushort address, int count, int[] pointIndices)
    {
        Table = table;
        Address = address;
        Count = count;
        PointIndices = pointIndices;
    }

    public ModbusTable Table { get; }

    public ushort Address { get; }

    public int Count { get; }

    /// <summary>Indices (into the planned point list) of the points inside this block.</summary>
    public int[] PointIndices { get; }

    /// <summary>
    /// Set once a coalesced read of this block met exception 02 (a hole inside the span): from then
    /// on its points are read one by one. Remembered for the life of the plan.
    /// </summary>
    public bool Split { get; set; }
}

/// <summary>Coalesces adjacent points into as few reads as the device allows.</summary>
public static class ModbusReadPlanner
{
    /// <summary>
    /// Groups points by table, sorts them by address, and merges a point into the current block when
    /// the hole before it is at most <paramref name="maxGap"/> registers (bits) and the merged block
    /// stays within the device's maximum per read.
    /// </summary>
    public static IReadOnlyList<ModbusReadBlock> Plan(IReadOnlyList<ModbusPointAddress> points, int maxRegistersPerRead = ModbusLimits.MaxReadRegisters, int maxBitsPerRead = ModbusLimits.MaxReadBits, int maxGap = 0)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRegistersPerRead, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRegistersPerRead, ModbusLimits.MaxReadRegisters);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBitsPerRead, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBitsPerRead, ModbusLimits.MaxReadBits);
        ArgumentOutOfRangeException.ThrowIfNegative(maxGap);

        var order = new int[points.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            var byTable = points[a].Table.CompareTo(points[b].Table);
            return byTable != 0 ? byTable : points[a].Address.CompareTo(points[b].Address);
        });

        var blocks = new List<ModbusReadBlock>();
        var members = new List<int>();
        var i0 = 0;
        while (i0 < order.Length)
        {
            var first = points[order[i0]];
            var max = first.Table.IsBitTable() ? maxBitsPerRead : maxRegistersPerRead;
            var start = (int)first.Address;
            var end = first.End;
            members.Clear();
            members.Add(order[i0]);
            var j = i0 + 1;
            while (j < order.Length)
            {
                var next = points[order[j]];
                if (next.Table != first.Table)
                {
                    break;
                }

                var mergedEnd = Math.Max(end, next.End);
                if (next.Address - end > maxGap || mergedEnd - start > max)
                {
                    break;
                }

                end = mergedEnd;
                members.Add(order[j]);
                j++;
            }

            blocks.Add(new ModbusReadBlock(first.Table, (ushort)start, end - start, [.. members]));
            i0 = j;
        }

        return blocks;
    }
}
