using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Modbus;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>The register map both interop peers serve (see tests/peers/modbus and docs/modbus.md).</summary>
internal static class PeerMap
{
    public static ushort Holding(int i) => (ushort)((i * 7) + 3);

    public static ushort Input(int i) => (ushort)(1000 + i);

    public static bool Coil(int i) => i % 3 == 0;

    public static bool Discrete(int i) => i % 2 == 1;

    public static readonly string[] Orders = ["ABCD", "CDAB", "BADC", "DCBA"];

    public static ushort PiAddress(string order) => (ushort)(200 + (2 * Array.IndexOf(Orders, order)));

    public static ushort NegativeAddress(string order) => (ushort)(210 + (2 * Array.IndexOf(Orders, order)));

    public static ModbusValueFormat Float32(string order)
    {
        ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder);
        return new ModbusValueFormat(ModbusDataType.Float32, byteOrder, wordOrder);
    }

    /// <summary>Sample k of waveform block s in the libmodbus server.</summary>
    public static float WaveSample(long sequence, int k) => ((sequence % 1000) * 10000) + k;

    public static async Task WaitUntil(Func<bool> condition, TimeSpan guard, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > guard)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Waited {guard.TotalSeconds} s for: {what}"));
            }

            await Task.Delay(10);
        }
    }

    public static async Task<(int Code, string Output, string Error)> Probe(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await new ModbusProbe().RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

