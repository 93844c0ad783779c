using FsCheck.Xunit;

namespace FactoryEdge.Modbus.Tests;

public sealed class CodecTests
{
    [Theory]
    [InlineData("ABCD", 0x42F6, 0xE979)]
    [InlineData("CDAB", 0xE979, 0x42F6)]
    [InlineData("BADC", 0xF642, 0x79E9)]
    [InlineData("DCBA", 0x79E9, 0xF642)]
    public void DecodeFloat32_EachOrder_Gives123Point456(string order, int r0, int r1)
    {
        Assert.True(ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder));
        var format = new ModbusValueFormat(ModbusDataType.Float32, byteOrder, wordOrder);
        Assert.Equal(123.456f, (float)RegisterCodec.Decode([(ushort)r0, (ushort)r1], format));
    }

    [Theory]
    [InlineData("ABCD", 0x0102, 0x0304, 0x0506, 0x0708)]
    [InlineData("CDAB", 0x0708, 0x0506, 0x0304, 0x0102)]
    [InlineData("BADC", 0x0201, 0x0403, 0x0605, 0x0807)]
    [InlineData("DCBA", 0x0807, 0x0605, 0x0403, 0x0201)]
    public void FormatInt64_EachOrder_IsExact(string order, int r0, int r1, int r2, int r3)
    {
        Assert.True(ModbusValueFormat.TryParseOrder(order, out var byteOrder, out var wordOrder));
        var format = new ModbusValueFormat(ModbusDataType.Int64, byteOrder, wordOrder);
        Assert.Equal("72623859790382856", RegisterCodec.Format([(ushort)r0, (ushort)r1, (ushort)r2, (ushort)r3], format));
    }

    [Fact]
    public void DecodeInt16_NegativeRegister_IsSigned()
    {
        Assert.Equal(-2, RegisterCodec.Decode([0xFFFE], new ModbusValueFormat(ModbusDataType.Int16)));
        Assert.Equal(65534, RegisterCodec.Decode([0xFFFE], new ModbusValueFormat(ModbusDataType.UInt16)));
    }

    [Fact]
    public void DecodeUInt32_HighWordFirst_Combines()
    {
        Assert.Equal(0x00010002u, (uint)RegisterCodec.Decode([0x0001, 0x0002], new ModbusValueFormat(ModbusDataType.UInt32)));
        Assert.Equal(-1, RegisterCodec.Decode([0xFFFF, 0xFFFF], new ModbusValueFormat(ModbusDataType.Int32)));
    }

    [Fact]
    public void DecodeBool_BitOfRegister_ReadsThatBit()
    {
        var format = new ModbusValueFormat(ModbusDataType.Bool);
        Assert.Equal(1, RegisterCodec.Decode([0x0010], format, bit: 4));
        Assert.Equal(0, RegisterCodec.Decode([0x0010], format, bit: 3));
        Assert.Equal(1, RegisterCodec.Decode([0x0010], format));
    }

    [Fact]
    public void DecodeFloat64_DcbaOrder_RoundTripsPi()
    {
        var format = new ModbusValueFormat(ModbusDataType.Float64, ModbusByteOrder.LittleEndian, ModbusWordOrder.LowWordFirst);
        var registers = new ushort[4];
        RegisterCodec.Encode(Math.PI, format, registers);
        Assert.Equal(Math.PI, RegisterCodec.Decode(registers, format));
    }

    [Fact]
    public void Encode_IntegerOutOfRange_Saturates()
    {
        var registers = new ushort[1];
        RegisterCodec.Encode(70000, new ModbusValueFormat(ModbusDataType.Int16), registers);
        Assert.Equal(0x7FFF, registers[0]);
    }

    [Fact]
    public void TryParseOrder_Unknown_False()
    {
        Assert.False(ModbusValueFormat.TryParseOrder("ACBD", out _, out _));
    }

    [Theory]
    [InlineData("float", ModbusDataType.Float32)]
    [InlineData("DOUBLE", ModbusDataType.Float64)]
    [InlineData("uint64", ModbusDataType.UInt64)]
    public void TryParseType_Aliases_Parse(string text, ModbusDataType expected)
    {
        Assert.True(ModbusValueFormat.TryParseType(text, out var type));
        Assert.Equal(expected, type);
    }

    [Property(MaxTest = 300)]
    public bool Float32_EncodeDecode_RoundTripsInEveryOrder(float value, bool byteSwap, bool wordSwap)
    {
        var format = new ModbusValueFormat(ModbusDataType.Float32, byteSwap ? ModbusByteOrder.LittleEndian : ModbusByteOrder.BigEndian, wordSwap ? ModbusWordOrder.LowWordFirst : ModbusWordOrder.HighWordFirst);
        var registers = new ushort[2];
        RegisterCodec.Encode(value, format, registers);
        var decoded = (float)RegisterCodec.Decode(registers, format);
        return float.IsNaN(value) ? float.IsNaN(decoded) : decoded.Equals(value);
    }

    [Property(MaxTest = 300)]
    public bool Int64_EncodeFormat_RoundTripsExactly(long value, bool byteSwap, bool wordSwap)
    {
        var byteOrder = byteSwap ? ModbusByteOrder.LittleEndian : ModbusByteOrder.BigEndian;
        var wordOrder = wordSwap ? ModbusWordOrder.LowWordFirst : ModbusWordOrder.HighWordFirst;
        var registers = new ushort[4];
        RegisterCodec.EncodeInt64(value, byteOrder, wordOrder, registers);
        return RegisterCodec.Format(registers, new ModbusValueFormat(ModbusDataType.Int64, byteOrder, wordOrder)) == value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Property(MaxTest = 300)]
    public bool Int32_EncodeDecode_RoundTrips(int value, bool byteSwap, bool wordSwap)
    {
        var format = new ModbusValueFormat(ModbusDataType.Int32, byteSwap ? ModbusByteOrder.LittleEndian : ModbusByteOrder.BigEndian, wordSwap ? ModbusWordOrder.LowWordFirst : ModbusWordOrder.HighWordFirst);
        var registers = new ushort[2];
        RegisterCodec.Encode(value, format, registers);
        return RegisterCodec.Decode(registers, format) == value;
    }

    [Property(MaxTest = 200)]
    public bool ByteAndWordOrder_AreIndependent(ushort a, ushort b)
    {
        // CDAB is ABCD with the words swapped; BADC is ABCD with the bytes of each word swapped.
        var abcd = RegisterCodec.Decode([a, b], new ModbusValueFormat(ModbusDataType.UInt32));
        var cdab = RegisterCodec.Decode([b, a], new ModbusValueFormat(ModbusDataType.UInt32, ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst));
        var badc = RegisterCodec.Decode([Swap(a), Swap(b)], new ModbusValueFormat(ModbusDataType.UInt32, ModbusByteOrder.LittleEndian, ModbusWordOrder.HighWordFirst));
        var dcba = RegisterCodec.Decode([Swap(b), Swap(a)], new ModbusValueFormat(ModbusDataType.UInt32, ModbusByteOrder.LittleEndian, ModbusWordOrder.LowWordFirst));
        return abcd == cdab && abcd == badc && abcd == dcba;
    }

    private static ushort Swap(ushort value) => (ushort)((value >> 8) | (value << 8));
}
