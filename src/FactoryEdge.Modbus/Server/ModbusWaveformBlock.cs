using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>
/// The register layout of a waveform block (documented in docs/modbus.md), relative to
/// <see cref="BaseAddress"/>:
/// <list type="table">
/// <item><term>+0</term><description>head sequence (uint16): the device sets it to the new block's number before it changes any sample</description></item>
/// <item><term>+1</term><description>sample count N (uint16)</description></item>
/// <item><term>+2, +3</term><description>sample rate in Hz (float32)</description></item>
/// <item><term>+4 … +4+2N−1</term><description>samples (float32, two registers each)</description></item>
/// <item><term>+4+2N</term><description>tail sequence (uint16): set equal to the head after the last sample is written</description></item>
/// </list>
/// A reader reads the tail first, then the samples, then the head: equal numbers mean no update
/// started after the block it read was completed, so the samples belong to that block (a torn read
/// shows as head ≠ tail). Floats use the block's order (ABCD unless configured otherwise).
/// </summary>
public sealed record ModbusWaveformLayout(ushort BaseAddress, int SampleCount)
{
    public const int HeadOffset = 0;
    public const int CountOffset = 1;
    public const int RateOffset = 2;
    public const int SamplesOffset = 4;

    /// <summary>Largest block: the whole layout must fit below address 65536.</summary>
    public const int MaxSampleCount = 32000;

    public ushort HeadAddress => BaseAddress;

    public ushort CountAddress => (ushort)(BaseAddress + CountOffset);

    public ushort RateAddress => (ushort)(BaseAddress + RateOffset);

    public ushort SamplesAddress => (ushort)(BaseAddress + SamplesOffset);

    public ushort TailAddress => (ushort)(BaseAddress + SamplesOffset + (2 * SampleCount));

    /// <summary>Registers the layout occupies.</summary>
    public int TotalRegisters => SamplesOffset + (2 * SampleCount) + 1;

    public string? Validate()
    {
        if (SampleCount is < 1 or > MaxSampleCount)
        {
            return string.Create(CultureInfo.InvariantCulture, $"SampleCount must be 1..{MaxSampleCount} (was {SampleCount})");
        }

        if (BaseAddress + TotalRegisters > 65536)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the block ({TotalRegisters} registers from {BaseAddress}) runs past address 65535");
        }

        return null;
    }
}

/// <summary>
/// Writes waveform blocks into a register bank in the <see cref="ModbusWaveformLayout"/>, as a
/// device would. <see cref="Publish"/> is atomic; <see cref="BeginUpdate"/>, <see cref="WriteSamples"/>
/// and <see cref="EndUpdate"/> let a simulator (or a test) spread an update over time so that
/// readers can meet a half-written block.
/// </summary>
public sealed class ModbusWaveformPublisher
{
    private readonly ModbusRegisterBank _bank;
    private readonly ModbusTable _table;
    private readonly ModbusValueFormat _format;
    private ushort _sequence;

    public ModbusWaveformPublisher(ModbusRegisterBank bank, ModbusTable table, ModbusWaveformLayout layout, ModbusByteOrder byteOrder = ModbusByteOrder.BigEndian, ModbusWordOrder wordOrder = ModbusWordOrder.HighWordFirst, ushort initialSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(bank);
        ArgumentNullException.ThrowIfNull(layout);
        if (table.IsBitTable())
        {
            throw new ArgumentException("A waveform block lives in a register table.", nameof(table));
        }

        var problem = layout.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(layout));
        }

        _bank = bank;
        _table = table;
        Layout = layout;
        _format = new ModbusValueFormat(ModbusDataType.Float32, byteOrder, wordOrder);
        _sequence = initialSequence;
        lock (bank.SyncRoot)
        {
            bank.SetRegister(table, layout.HeadAddress, initialSequence);
            bank.SetRegister(table, layout.TailAddress, initialSequence);
            bank.SetRegister(table, layout.CountAddress, (ushort)layout.SampleCount);
        }
    }

    public ModbusWaveformLayout Layout { get; }

    /// <summary>Number of the last completed block.</summary>
    public ushort Sequence => _sequence;

    /// <summary>Writes a whole block atomically and returns its sequence number.</summary>
    public ushort Publish(ReadOnlySpan<float> samples, float sampleRateHz)
    {
        lock (_bank.SyncRoot)
        {
            BeginUpdate(sampleRateHz);
            WriteSamples(0, samples);
            return EndUpdate();
        }
    }

    /// <summary>Starts a block: bumps the head sequence (readers now see head ≠ tail) and writes count and rate.</summary>
    public void BeginUpdate(float sampleRateHz)
    {
        lock (_bank.SyncRoot)
        {
            _bank.SetRegister(_table, Layout.HeadAddress, unchecked((ushort)(_sequence + 1)));
            _bank.SetRegister(_table, Layout.CountAddress, (ushort)Layout.SampleCount);
            _bank.SetValue(_table, Layout.RateAddress, sampleRateHz, _format);
        }
    }

    /// <summary>Writes samples starting at sample <paramref name="offset"/>.</summary>
    public void WriteSamples(int offset, ReadOnlySpan<float> samples)
    {
        if (offset < 0 || offset + samples.Length > Layout.SampleCount)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "Samples run past the block.");
        }

        Span<ushort> registers = stackalloc ushort[2];
        lock (_bank.SyncRoot)
        {
            for (var i = 0; i < samples.Length; i++)
            {
                RegisterCodec.Encode(samples[i], _format, registers);
                _bank.SetRegisters(_table, (ushort)(Layout.SamplesAddress + (2 * (offset + i))), registers);
            }
        }
    }

    /// <summary>Completes the block: the tail takes the head's number. Returns it.</summary>
    public ushort EndUpdate()
    {
        lock (_bank.SyncRoot)
        {
            _sequence = unchecked((ushort)(_sequence + 1));
            _bank.SetRegister(_table, Layout.TailAddress, _sequence);
            return _sequence;
        }
    }
}
