using FactoryEdge.Modbus;

namespace FactoryEdge.Simulator.Tests.Support;

/// <summary>One waveform block as read from the simulator.</summary>
internal sealed record WaveformBlock(ushort Sequence, int Count, float SampleRateHz, float[] Samples);

/// <summary>
/// Reads a waveform block the documented way (docs/modbus.md): tail first, then count, rate and
/// samples, then head; equal head and tail mean a consistent block, otherwise read again.
/// </summary>
internal static class WaveformReader
{
    public const ushort Base = 1000;

    public static async Task<WaveformBlock> ReadAsync(ModbusClient client, byte unit, int sampleCount, ModbusTable table = ModbusTable.InputRegisters, ModbusValueFormat? format = null, int attempts = 10)
    {
        var layout = new ModbusWaveformLayout(Base, sampleCount);
        var floatFormat = format ?? new ModbusValueFormat(ModbusDataType.Float32);
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var tail = (await client.ReadRegistersAsync(table, unit, layout.TailAddress, 1))[0];
            var registers = new ushort[layout.TotalRegisters - 1];
            for (var offset = 0; offset < registers.Length; offset += 125)
            {
                var n = Math.Min(125, registers.Length - offset);
                await client.ReadRegistersAsync(table, unit, (ushort)(Base + offset), registers.AsMemory(offset, n));
            }

            var head = (await client.ReadRegistersAsync(table, unit, layout.HeadAddress, 1))[0];
            if (head != tail)
            {
                continue;
            }

            var samples = new float[sampleCount];
            for (var i = 0; i < sampleCount; i++)
            {
                samples[i] = (float)RegisterCodec.Decode(registers.AsSpan(ModbusWaveformLayout.SamplesOffset + (2 * i), 2), floatFormat);
            }

            var rate = (float)RegisterCodec.Decode(registers.AsSpan(ModbusWaveformLayout.RateOffset, 2), floatFormat);
            return new WaveformBlock(tail, registers[ModbusWaveformLayout.CountOffset], rate, samples);
        }

        throw new InvalidOperationException($"No consistent block after {attempts} attempts (torn reads).");
    }

    public static async Task<float> ReadFloatAsync(ModbusClient client, byte unit, ushort address, ModbusTable table = ModbusTable.HoldingRegisters, ModbusValueFormat? format = null)
    {
        var registers = await client.ReadRegistersAsync(table, unit, address, 2);
        return (float)RegisterCodec.Decode(registers, format ?? new ModbusValueFormat(ModbusDataType.Float32));
    }

    public static ModbusClient Client(int port, TimeSpan? timeout = null) => new(new ModbusClientOptions
    {
        Host = "127.0.0.1",
        Port = port,
        RequestTimeout = timeout ?? TimeSpan.FromSeconds(5),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    });
}
