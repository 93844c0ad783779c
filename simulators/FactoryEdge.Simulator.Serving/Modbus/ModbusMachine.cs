using FactoryEdge.Modbus;
using FactoryEdge.Simulator.Machines;

namespace FactoryEdge.Simulator.Modbus;

/// <summary>
/// The register map every simulated machine exposes on its own unit id (docs/simulators.md). The
/// holding and input tables hold the same values, so a reader may use function 03 or 04.
/// </summary>
internal static class SimulatorRegisterMap
{
    /// <summary>float32: RMS of the last block (g for generated machines; the recording's unit otherwise).</summary>
    public const ushort Rms = 0;

    /// <summary>float32: simulated bearing-housing temperature, °C.</summary>
    public const ushort Temperature = 2;

    /// <summary>float32: shaft speed, rpm (0 = unknown).</summary>
    public const ushort Rpm = 4;

    /// <summary>float32: peak |x| of the last block.</summary>
    public const ushort Peak = 6;

    /// <summary>float32: fault severity (sum over the machine's faults; 0 for recordings).</summary>
    public const ushort Severity = 8;

    /// <summary>uint16: RMS × 1000 (mg), 65535 when out of range or not finite.</summary>
    public const ushort RmsMilli = 10;

    /// <summary>int16: temperature × 10 (0.1 °C).</summary>
    public const ushort TemperatureTenths = 11;

    /// <summary>uint16: shaft speed, rpm rounded.</summary>
    public const ushort RpmInteger = 12;

    /// <summary>uint16: sequence number of the last completed block (equals the block's tail).</summary>
    public const ushort Sequence = 13;

    /// <summary>uint16: status bits (<see cref="StatusRunning"/>, …).</summary>
    public const ushort Status = 14;

    /// <summary>uint16: address of the waveform block's head register.</summary>
    public const ushort WaveformPointer = 15;

    /// <summary>Head register of the waveform block (layout in docs/modbus.md).</summary>
    public const ushort WaveformBase = 1000;

    public const ushort StatusRunning = 1 << 0;
    public const ushort StatusFaultActive = 1 << 1;
    public const ushort StatusEnded = 1 << 2;
    public const ushort StatusRecording = 1 << 3;

    /// <summary>Discrete inputs: 0 running, 1 fault active, 2 replay ended, 3 source is a recording.</summary>
    public const ushort DiscreteRunning = 0;
}

/// <summary>
/// One simulated machine on one unit id: its register bank, waveform publishers (input and holding
/// tables) and scalar registers. <see cref="SimulatedMachine.PublishNext"/> writes the next block and the scalars
/// atomically with respect to requests. For on-read pacing, <see cref="OnRequest"/> tracks which
/// read last covered each register of the current block and publishes the next block when the
/// reader starts its next round after the whole block (head to tail) was read.
/// </summary>
internal sealed class ModbusMachine : SimulatedMachine
{
    private readonly ModbusWaveformPublisher _input;
    private readonly ModbusWaveformPublisher _holding;
    private readonly ModbusValueFormat _float;
    // On-read pacing, per register of the block since it was published: the ordinal of the read that
    // covered it last (-1: not read yet) and that read's range [start, end).
    private readonly int[] _lastRead;
    private readonly int[] _lastReadStart;
    private readonly int[] _lastReadEnd;
    private int _coveredCount;
    private int _readOrdinal;

    public ModbusMachine(MachineDefinition definition, byte unit, ModbusByteOrder byteOrder, ModbusWordOrder wordOrder)
        : base(definition)
    {
        Unit = unit;
        _float = new ModbusValueFormat(ModbusDataType.Float32, byteOrder, wordOrder);
        Layout = new ModbusWaveformLayout(SimulatorRegisterMap.WaveformBase, definition.BlockSize);
        _input = new ModbusWaveformPublisher(Bank, ModbusTable.InputRegisters, Layout, byteOrder, wordOrder);
        _holding = new ModbusWaveformPublisher(Bank, ModbusTable.HoldingRegisters, Layout, byteOrder, wordOrder);
        _lastRead = new int[Layout.TotalRegisters];
        _lastReadStart = new int[Layout.TotalRegisters];
        _lastReadEnd = new int[Layout.TotalRegisters];
        Array.Fill(_lastRead, -1);
        WriteScalars(CurrentReadings);
    }

    public byte Unit { get; }

    public ModbusRegisterBank Bank { get; } = new();

    public ModbusWaveformLayout Layout { get; }

    /// <summary>
    /// On-read pacing: called for every request to this unit before it is served. A block counts as
    /// read once every register from head to tail has been read (by answered reads, in any order and
    /// any number of requests). The reader's round start is the first read of its latest complete
    /// pass: of the reads that last covered each register, the earliest (so a stray partial read
    /// before the reader's first round, such as a header probe of head, count and rate, is superseded
    /// once the reader reads those registers again). The next block is published just before the
    /// next read that covers that whole read's range: that is where the reader starts its next round,
    /// whatever order it reads in (tail first as documented, or ascending), so a single reader never
    /// meets a torn block. Reads of the scalar registers do not pace: they always show the current
    /// block's values.
    /// </summary>
    public void OnRequest(in ModbusRequestInfo request, bool answered)
    {
        if (!answered || request.Function is not (ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters))
        {
            return;
        }

        int start = request.Address;
        var end = start + request.Count;
        var blockStart = (int)Layout.BaseAddress;
        var blockEnd = blockStart + Layout.TotalRegisters;
        if (start >= blockEnd || end <= blockStart)
        {
            return;
        }

        lock (Gate)
        {
            if (_coveredCount == _lastRead.Length && !CurrentReadings.Ended)
            {
                var first = 0;
                for (var i = 1; i < _lastRead.Length; i++)
                {
                    if (_lastRead[i] < _lastRead[first])
                    {
                        first = i;
                    }
                }

                if (start <= _lastReadStart[first] && end >= _lastReadEnd[first])
                {
                    PublishNext();
                }
            }

            var ordinal = _readOrdinal++;
            for (var address = Math.Max(start, blockStart); address < Math.Min(end, blockEnd); address++)
            {
                var i = address - blockStart;
                if (_lastRead[i] < 0)
                {
                    _coveredCount++;
                }

                _lastRead[i] = ordinal;
                _lastReadStart[i] = start;
                _lastReadEnd[i] = end;
            }
        }
    }

    protected override void OnEnded() => WriteScalars(CurrentReadings);

    protected override void Publish(float[] block, BlockInfo info, double rms, double peak, double temperature)
    {
        var rate = (float)Source.SampleRateHz;
        lock (Bank.SyncRoot)
        {
            _input.Publish(block, rate);
            var sequence = _holding.Publish(block, rate);
            CurrentReadings = new MachineReadings(CurrentReadings.Blocks + 1, sequence, rms, peak, temperature, Definition.Rpm, info.Severity, Running: true, Ended: false);
            WriteScalars(CurrentReadings);
        }

        Array.Fill(_lastRead, -1);
        _coveredCount = 0;
        _readOrdinal = 0;
    }

    private void WriteScalars(in MachineReadings r)
    {
        var status = (ushort)((r.Running ? SimulatorRegisterMap.StatusRunning : 0)
            | (r.Severity > 0 ? SimulatorRegisterMap.StatusFaultActive : 0)
            | (r.Ended ? SimulatorRegisterMap.StatusEnded : 0)
            | (Source.IsRecording ? SimulatorRegisterMap.StatusRecording : 0));
        Span<ushort> integers =
        [
            ToUInt16(r.Rms * 1000),
            ToInt16(r.TemperatureC * 10),
            ToUInt16(r.Rpm),
            r.Sequence,
            status,
            SimulatorRegisterMap.WaveformBase,
        ];
        Span<bool> bits = [r.Running, r.Severity > 0, r.Ended, Source.IsRecording];
        lock (Bank.SyncRoot)
        {
            foreach (var table in (ReadOnlySpan<ModbusTable>)[ModbusTable.InputRegisters, ModbusTable.HoldingRegisters])
            {
                Bank.SetValue(table, SimulatorRegisterMap.Rms, r.Rms, _float);
                Bank.SetValue(table, SimulatorRegisterMap.Temperature, r.TemperatureC, _float);
                Bank.SetValue(table, SimulatorRegisterMap.Rpm, r.Rpm, _float);
                Bank.SetValue(table, SimulatorRegisterMap.Peak, r.Peak, _float);
                Bank.SetValue(table, SimulatorRegisterMap.Severity, r.Severity, _float);
                Bank.SetRegisters(table, SimulatorRegisterMap.RmsMilli, integers);
            }

            Bank.SetBits(ModbusTable.DiscreteInputs, SimulatorRegisterMap.DiscreteRunning, bits);
        }
    }

    /// <summary>Rounded and saturated; not finite → 65535.</summary>
    private static ushort ToUInt16(double value) =>
        double.IsFinite(value) ? (ushort)Math.Round(Math.Clamp(value, 0, ushort.MaxValue)) : ushort.MaxValue;

    /// <summary>Rounded and saturated, as the register of an int16; not finite → −32768.</summary>
    private static ushort ToInt16(double value) =>
        unchecked((ushort)(double.IsFinite(value) ? (short)Math.Round(Math.Clamp(value, short.MinValue, short.MaxValue)) : short.MinValue));
}
