using System.Buffers.Binary;
using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>Value types a register map can declare.</summary>
public enum ModbusDataType
{
    Bool,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
}

/// <summary>Order of the two bytes inside each 16-bit register.</summary>
public enum ModbusByteOrder
{
    /// <summary>High byte first, as the Modbus spec sends registers (AB).</summary>
    BigEndian,
    /// <summary>Low byte first (BA): some devices swap bytes inside each register.</summary>
    LittleEndian,
}

/// <summary>Order of the registers of a 32- or 64-bit value.</summary>
public enum ModbusWordOrder
{
    /// <summary>Most significant register at the lowest address.</summary>
    HighWordFirst,
    /// <summary>Least significant register at the lowest address ("word swap").</summary>
    LowWordFirst,
}

/// <summary>
/// How a value sits in registers: its type, and byte and word order as two independent settings
/// (so 64-bit values are defined too). ABCD/CDAB/BADC/DCBA are shorthands for the four combinations.
/// </summary>
public readonly record struct ModbusValueFormat(ModbusDataType Type, ModbusByteOrder ByteOrder = ModbusByteOrder.BigEndian, ModbusWordOrder WordOrder = ModbusWordOrder.HighWordFirst)
{
    /// <summary>Type names accepted by <see cref="TryParseType"/>.</summary>
    public const string AllowedTypes = "bool, int16, uint16, int32, uint32, int64, uint64, float32 (float), float64 (double)";

    /// <summary>Order names accepted by <see cref="TryParseOrder"/>.</summary>
    public const string AllowedOrders = "ABCD (big endian), CDAB (word swap), BADC (byte swap), DCBA (little endian)";

    /// <summary>Registers one value occupies (a bool in a bit table takes one bit, counted as 1).</summary>
    public int RegisterCount => RegisterCodec.RegisterCount(Type);

    /// <summary>The ABCD-style shorthand of the byte and word order.</summary>
    public string OrderName => (ByteOrder, WordOrder) switch
    {
        (ModbusByteOrder.BigEndian, ModbusWordOrder.HighWordFirst) => "ABCD",
        (ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst) => "CDAB",
        (ModbusByteOrder.LittleEndian, ModbusWordOrder.HighWordFirst) => "BADC",
        _ => "DCBA",
    };

    public static bool TryParseType(string? text, out ModbusDataType type)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "bool" or "boolean" or "bit":
                type = ModbusDataType.Bool;
                return true;
            case "int16" or "short" or "i16":
                type = ModbusDataType.Int16;
                return true;
            case "uint16" or "ushort" or "u16" or "word":
                type = ModbusDataType.UInt16;
                return true;
            case "int32" or "int" or "i32":
                type = ModbusDataType.Int32;
                return true;
            case "uint32" or "uint" or "u32" or "dword":
                type = ModbusDataType.UInt32;
                return true;
            case "int64" or "long" or "i64":
                type = ModbusDataType.Int64;
                return true;
            case "uint64" or "ulong" or "u64":
                type = ModbusDataType.UInt64;
                return true;
            case "float32" or "float" or "real" or "f32":
                type = ModbusDataType.Float32;
                return true;
            case "float64" or "double" or "lreal" or "f64":
                type = ModbusDataType.Float64;
                return true;
            default:
                type = default;
                return false;
        }
    }

    /// <summary>Parses ABCD, CDAB, BADC or DCBA into byte and word order.</summary>
    public static bool TryParseOrder(string? text, out ModbusByteOrder byteOrder, out ModbusWordOrder wordOrder)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "ABCD" or "AB" or "BIG" or "BIGENDIAN" or "" or null:
                (byteOrder, wordOrder) = (ModbusByteOrder.BigEndian, ModbusWordOrder.HighWordFirst);
                return true;
            case "CDAB" or "WORDSWAP":
                (byteOrder, wordOrder) = (ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst);
                return true;
            case "BADC" or "BA" or "BYTESWAP":
                (byteOrder, wordOrder) = (ModbusByteOrder.LittleEndian, ModbusWordOrder.HighWordFirst);
                return true;
            case "DCBA" or "LITTLE" or "LITTLEENDIAN":
                (byteOrder, wordOrder) = (ModbusByteOrder.LittleEndian, ModbusWordOrder.LowWordFirst);
                return true;
            default:
                byteOrder = default;
                wordOrder = default;
                return false;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Type} {OrderName}");
}

/// <summary>
/// Decodes and encodes values in registers. The registers of a value are first put in
/// most-significant-first order (by <see cref="ModbusWordOrder"/>), each register contributes its
/// two bytes (by <see cref="ModbusByteOrder"/>), and the resulting bytes are read big-endian.
/// </summary>
public static class RegisterCodec
{
    public static int RegisterCount(ModbusDataType type) => type switch
    {
        ModbusDataType.Bool or ModbusDataType.Int16 or ModbusDataType.UInt16 => 1,
        ModbusDataType.Int32 or ModbusDataType.UInt32 or ModbusDataType.Float32 => 2,
        ModbusDataType.Int64 or ModbusDataType.UInt64 or ModbusDataType.Float64 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Puts the value's bytes in big-endian order into <paramref name="bytes"/> (2 × register count).</summary>
    public static void ToBigEndianBytes(ReadOnlySpan<ushort> registers, ModbusByteOrder byteOrder, ModbusWordOrder wordOrder, Span<byte> bytes)
    {
        var n = registers.Length;
        for (var i = 0; i < n; i++)
        {
            var register = wordOrder == ModbusWordOrder.HighWordFirst ? registers[i] : registers[n - 1 - i];
            if (byteOrder == ModbusByteOrder.BigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes[(2 * i)..], register);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], register);
            }
        }
    }

    /// <summary>The inverse of <see cref="ToBigEndianBytes"/>.</summary>
    public static void FromBigEndianBytes(ReadOnlySpan<byte> bytes, ModbusByteOrder byteOrder, ModbusWordOrder wordOrder, Span<ushort> registers)
    {
        var n = registers.Length;
        for (var i = 0; i < n; i++)
        {
            var register = byteOrder == ModbusByteOrder.BigEndian
                ? BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * i)..])
                : BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
            registers[wordOrder == ModbusWordOrder.HighWordFirst ? i : n - 1 - i] = register;
        }
    }

    /// <summary>Decodes a value as a double (64-bit integers above 2^53 lose precision; use <see cref="Format"/> for exact text).</summary>
    public static double Decode(ReadOnlySpan<ushort> registers, in ModbusValueFormat format, int bit = -1)
    {
        Span<byte> bytes = stackalloc byte[8];
        var count = format.RegisterCount;
        if (registers.Length < count)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{format.Type} needs {count} registers, got {registers.Length}."), nameof(registers));
        }

        ToBigEndianBytes(registers[..count], format.ByteOrder, format.WordOrder, bytes);
        return format.Type switch
        {
            ModbusDataType.Bool => bit >= 0 ? (BinaryPrimitives.ReadUInt16BigEndian(bytes) >> bit) & 1 : (BinaryPrimitives.ReadUInt16BigEndian(bytes) != 0 ? 1 : 0),
            ModbusDataType.Int16 => BinaryPrimitives.ReadInt16BigEndian(bytes),
            ModbusDataType.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            ModbusDataType.Int32 => BinaryPrimitives.ReadInt32BigEndian(bytes),
            ModbusDataType.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            ModbusDataType.Int64 => BinaryPrimitives.ReadInt64BigEndian(bytes),
            ModbusDataType.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(bytes),
            ModbusDataType.Float32 => BinaryPrimitives.ReadSingleBigEndian(bytes),
            ModbusDataType.Float64 => BinaryPrimitives.ReadDoubleBigEndian(bytes),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format.Type, null),
        };
    }

    /// <summary>Decodes a float32 (fast path for waveform arrays).</summary>
    public static float DecodeSingle(ReadOnlySpan<ushort> registers, ModbusByteOrder byteOrder, ModbusWordOrder wordOrder)
    {
        Span<byte> bytes = stackalloc byte[4];
        ToBigEndianBytes(registers[..2], byteOrder, wordOrder, bytes);
        return BinaryPrimitives.ReadSingleBigEndian(bytes);
    }

    /// <summary>Encodes a value into registers. Integers are rounded and saturated to the type's range.</summary>
    public static void Encode(double value, in ModbusValueFormat format, Span<ushort> registers)
    {
        Span<byte> bytes = stackalloc byte[8];
        switch (format.Type)
        {
            case ModbusDataType.Bool:
                BinaryPrimitives.WriteUInt16BigEndian(bytes, value != 0 ? (ushort)1 : (ushort)0);
                break;
            case ModbusDataType.Int16:
                BinaryPrimitives.WriteInt16BigEndian(bytes, (short)Math.Clamp(Math.Round(value), short.MinValue, short.MaxValue));
                break;
            case ModbusDataType.UInt16:
                BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)Math.Clamp(Math.Round(value), ushort.MinValue, ushort.MaxValue));
                break;
            case ModbusDataType.Int32:
                BinaryPrimitives.WriteInt32BigEndian(bytes, (int)Math.Clamp(Math.Round(value), int.MinValue, int.MaxValue));
                break;
            case ModbusDataType.UInt32:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Math.Clamp(Math.Round(value), uint.MinValue, uint.MaxValue));
                break;
            case ModbusDataType.Int64:
                BinaryPrimitives.WriteInt64BigEndian(bytes, (long)Math.Clamp(Math.Round(value), long.MinValue, long.MaxValue));
                break;
            case ModbusDataType.UInt64:
                BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)Math.Clamp(Math.Round(value), ulong.MinValue, ulong.MaxValue));
                break;
            case ModbusDataType.Float32:
                BinaryPrimitives.WriteSingleBigEndian(bytes, (float)value);
                break;
            case ModbusDataType.Float64:
                BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format.Type, null);
        }

        FromBigEndianBytes(bytes, format.ByteOrder, format.WordOrder, registers[..format.RegisterCount]);
    }

    /// <summary>Encodes a 64-bit integer exactly.</summary>
    public static void EncodeInt64(long value, ModbusByteOrder byteOrder, ModbusWordOrder wordOrder, Span<ushort> registers)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        FromBigEndianBytes(bytes, byteOrder, wordOrder, registers[..4]);
    }

    /// <summary>Formats a value exactly, invariant culture (integers in full, floats round-trip).</summary>
    public static string Format(ReadOnlySpan<ushort> registers, in ModbusValueFormat format)
    {
        Span<byte> bytes = stackalloc byte[8];
        ToBigEndianBytes(registers[..format.RegisterCount], format.ByteOrder, format.WordOrder, bytes);
        return format.Type switch
        {
            ModbusDataType.Bool => BinaryPrimitives.ReadUInt16BigEndian(bytes) != 0 ? "1" : "0",
            ModbusDataType.Int16 => BinaryPrimitives.ReadInt16BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.Int32 => BinaryPrimitives.ReadInt32BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.Int64 => BinaryPrimitives.ReadInt64BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(bytes).ToString(CultureInfo.InvariantCulture),
            ModbusDataType.Float32 => BinaryPrimitives.ReadSingleBigEndian(bytes).ToString("R", CultureInfo.InvariantCulture),
            ModbusDataType.Float64 => BinaryPrimitives.ReadDoubleBigEndian(bytes).ToString("R", CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format.Type, null),
        };
    }
}
