using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>
/// Writes the OPC UA binary encoding (OPC 10000-6 §5.2) into a growable buffer that is reused across
/// messages (<see cref="Reset"/>). Little-endian, as the wire is.
/// </summary>
public sealed class BinaryEncoder
{
    private byte[] _buffer;
    private int _position;

    public BinaryEncoder(int initialCapacity = 1024)
    {
        _buffer = new byte[Math.Max(16, initialCapacity)];
    }

    public int Position => _position;

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _position);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _position);

    public void Reset() => _position = 0;

    public byte[] ToArray() => Written.ToArray();

    /// <summary>Reserves <paramref name="count"/> bytes to be filled later (e.g. a length); returns their offset.</summary>
    public int Skip(int count)
    {
        Ensure(count);
        var at = _position;
        _buffer.AsSpan(at, count).Clear();
        _position += count;
        return at;
    }

    /// <summary>Overwrites an Int32 at an offset written earlier.</summary>
    public void PatchInt32(int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(offset, 4), value);

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteInt16(short value)
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16LittleEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteUInt64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteFloat(float value)
    {
        Ensure(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteDouble(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_position));
        _position += bytes.Length;
    }

    /// <summary>A String: Int32 length in bytes (-1 for null), then UTF-8.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var length = System.Text.Encoding.UTF8.GetByteCount(value);
        WriteInt32(length);
        Ensure(length);
        System.Text.Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position));
        _position += length;
    }

    /// <summary>A DateTime: 100 ns ticks since 1601-01-01 UTC; MinValue (and earlier) as 0, MaxValue as Int64.MaxValue.</summary>
    public void WriteDateTime(DateTime value) => WriteInt64(DateTimeToWire(value));

    internal static long DateTimeToWire(DateTime value)
    {
        if (value == DateTime.MinValue)
        {
            return 0;
        }

        if (value == DateTime.MaxValue)
        {
            return long.MaxValue;
        }

        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        var ticks = utc.Ticks - Epoch1601Ticks;
        return ticks < 0 ? 0 : ticks;
    }

    internal const long Epoch1601Ticks = 504911232000000000;

    public void WriteGuid(Guid value)
    {
        Ensure(16);
        value.TryWriteBytes(_buffer.AsSpan(_position, 16));
        _position += 16;
    }

    public void WriteByteString(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        WriteRaw(value);
    }

    public void WriteByteString(byte[]? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteByteString(value.AsSpan());
    }

    public void WriteNodeId(NodeId? value)
    {
        value ??= NodeId.Null;
        WriteNodeIdCore(value, 0);
    }

    private void WriteNodeIdCore(NodeId value, byte flags)
    {
        switch (value.IdType)
        {
            case IdType.Numeric when value.NamespaceIndex == 0 && value.Numeric <= byte.MaxValue:
                WriteByte((byte)(0x00 | flags));
                WriteByte((byte)value.Numeric);
                break;
            case IdType.Numeric when value.NamespaceIndex <= byte.MaxValue && value.Numeric <= ushort.MaxValue:
                WriteByte((byte)(0x01 | flags));
                WriteByte((byte)value.NamespaceIndex);
                WriteUInt16((ushort)value.Numeric);
                break;
            case IdType.Numeric:
                WriteByte((byte)(0x02 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteUInt32(value.Numeric);
                break;
            case IdType.String:
                WriteByte((byte)(0x03 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteString(value.Text);
                break;
            case IdType.Guid:
                WriteByte((byte)(0x04 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteGuid(value.GuidValue);
                break;
            default:
                WriteByte((byte)(0x05 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteByteString(value.Opaque);
                break;
        }
    }

    public void WriteExpandedNodeId(ExpandedNodeId? value)
    {
        value ??= ExpandedNodeId.Null;
        byte flags = 0;
        if (value.NamespaceUri is not null)
        {
            flags |= 0x80;
        }

        if (value.ServerIndex != 0)
        {
            flags |= 0x40;
        }

        WriteNodeIdCore(value.NamespaceUri is null ? value.NodeId : value.NodeId.WithNamespace(0), flags);
        if (value.NamespaceUri is not null)
        {
            WriteString(value.NamespaceUri);
        }

        if (value.ServerIndex != 0)
        {
            WriteUInt32(value.ServerIndex);
        }
    }

    public void WriteStatusCode(StatusCode value) => WriteUInt32(value.Code);

    public void WriteQualifiedName(QualifiedName value)
    {
        WriteUInt16(value.NamespaceIndex);
        WriteString(value.Name);
    }

    public void WriteLocalizedText(LocalizedText value)
    {
        byte mask = 0;
        if (value.Locale is not null)
        {
            mask |= 0x01;
        }

        if (value.Text is not null)
        {
            mask |= 0x02;
        }

        WriteByte(mask);
        if (value.Locale is not null)
        {
            WriteString(value.Locale);
        }

        if (value.Text is not null)
        {
            WriteString(value.Text);
        }
    }

    public void WriteExtensionObject(ExtensionObject? value)
    {
        if (value is null || value.IsNull)
        {
            WriteNodeId(value?.TypeId ?? NodeId.Null);
            WriteByte(0);
            return;
        }

        WriteNodeId(value.TypeId);
        if (value.Body is not null)
        {
            WriteByte(1);
            var lengthAt = Skip(4);
            var start = _position;
            value.Body.Encode(this);
            PatchInt32(lengthAt, _position - start);
            return;
        }

        WriteByte(value.IsXml ? (byte)2 : (byte)1);
        WriteByteString(value.Raw);
    }

    public void WriteDataValue(DataValue? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        if (!value.Value.IsNull)
        {
            mask |= 0x01;
        }

        if (value.StatusCode.Code != 0)
        {
            mask |= 0x02;
        }

        if (value.SourceTimestamp != DateTime.MinValue)
        {
            mask |= 0x04;
        }

        if (value.ServerTimestamp != DateTime.MinValue)
        {
            mask |= 0x08;
        }

        if (value.SourcePicoseconds != 0)
        {
            mask |= 0x10;
        }

        if (value.ServerPicoseconds != 0)
        {
            mask |= 0x20;
        }

        WriteByte(mask);
        if ((mask & 0x01) != 0)
        {
            WriteVariant(value.Value);
        }

        if ((mask & 0x02) != 0)
        {
            WriteStatusCode(value.StatusCode);
        }

        if ((mask & 0x04) != 0)
        {
            WriteDateTime(value.SourceTimestamp);
        }

        if ((mask & 0x10) != 0)
        {
            WriteUInt16(value.SourcePicoseconds);
        }

        if ((mask & 0x08) != 0)
        {
            WriteDateTime(value.ServerTimestamp);
        }

        if ((mask & 0x20) != 0)
        {
            WriteUInt16(value.ServerPicoseconds);
        }
    }

    public void WriteDiagnosticInfo(DiagnosticInfo? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        if (value.SymbolicId >= 0)
        {
            mask |= 0x01;
        }

        if (value.NamespaceUri >= 0)
        {
            mask |= 0x02;
        }

        if (value.LocalizedText >= 0)
        {
            mask |= 0x04;
        }

        if (value.Locale >= 0)
        {
            mask |= 0x08;
        }

        if (value.AdditionalInfo is not null)
        {
            mask |= 0x10;
        }

        if (value.InnerStatusCode is not null)
        {
            mask |= 0x20;
        }

        if (value.InnerDiagnosticInfo is not null)
        {
            mask |= 0x40;
        }

        WriteByte(mask);
        if ((mask & 0x01) != 0)
        {
            WriteInt32(value.SymbolicId);
        }

        if ((mask & 0x02) != 0)
        {
            WriteInt32(value.NamespaceUri);
        }

        if ((mask & 0x08) != 0)
        {
            WriteInt32(value.Locale);
        }

        if ((mask & 0x04) != 0)
        {
            WriteInt32(value.LocalizedText);
        }

        if ((mask & 0x10) != 0)
        {
            WriteString(value.AdditionalInfo);
        }

        if ((mask & 0x20) != 0)
        {
            WriteStatusCode(value.InnerStatusCode!.Value);
        }

        if ((mask & 0x40) != 0)
        {
            WriteDiagnosticInfo(value.InnerDiagnosticInfo);
        }
    }

    public void WriteVariant(Variant value)
    {
        if (value.IsNull)
        {
            WriteByte(0);
            return;
        }

        var mask = (byte)value.Type;
        if (!value.IsArray)
        {
            WriteByte(mask);
            WriteScalar(value.Type, value.Value!);
            return;
        }

        mask |= 0x80;
        if (value.Dimensions is not null)
        {
            mask |= 0x40;
        }

        WriteByte(mask);
        var array = value.Value as Array;
        if (array is null)
        {
            WriteInt32(-1);
        }
        else
        {
            WriteInt32(array.Length);
            WriteArrayElements(value.Type, array);
        }

        if (value.Dimensions is not null)
        {
            WriteInt32(value.Dimensions.Length);
            foreach (var d in value.Dimensions)
            {
                WriteInt32(d);
            }
        }
    }

    private void WriteArrayElements(BuiltInType type, Array array)
    {
        switch (array)
        {
            case float[] floats when BitConverter.IsLittleEndian:
                WriteRaw(MemoryMarshal.AsBytes(floats.AsSpan()));
                return;
            case double[] doubles when BitConverter.IsLittleEndian:
                WriteRaw(MemoryMarshal.AsBytes(doubles.AsSpan()));
                return;
            case byte[] bytes when type == BuiltInType.Byte:
                WriteRaw(bytes);
                return;
        }

        foreach (var element in array)
        {
            WriteScalar(type, element);
        }
    }

    private void WriteScalar(BuiltInType type, object? value)
    {
        switch (type)
        {
            case BuiltInType.Boolean: WriteBoolean((bool)value!); break;
            case BuiltInType.SByte: WriteSByte((sbyte)value!); break;
            case BuiltInType.Byte: WriteByte((byte)value!); break;
            case BuiltInType.Int16: WriteInt16((short)value!); break;
            case BuiltInType.UInt16: WriteUInt16((ushort)value!); break;
            case BuiltInType.Int32: WriteInt32((int)value!); break;
            case BuiltInType.UInt32: WriteUInt32((uint)value!); break;
            case BuiltInType.Int64: WriteInt64((long)value!); break;
            case BuiltInType.UInt64: WriteUInt64((ulong)value!); break;
            case BuiltInType.Float: WriteFloat((float)value!); break;
            case BuiltInType.Double: WriteDouble((double)value!); break;
            case BuiltInType.String: WriteString((string?)value); break;
            case BuiltInType.DateTime: WriteDateTime((DateTime)value!); break;
            case BuiltInType.Guid: WriteGuid((Guid)value!); break;
            case BuiltInType.ByteString: WriteByteString((byte[]?)value); break;
            case BuiltInType.XmlElement: WriteString((string?)value); break;
            case BuiltInType.NodeId: WriteNodeId((NodeId?)value); break;
            case BuiltInType.ExpandedNodeId: WriteExpandedNodeId((ExpandedNodeId?)value); break;
            case BuiltInType.StatusCode: WriteStatusCode((StatusCode)value!); break;
            case BuiltInType.QualifiedName: WriteQualifiedName((QualifiedName)value!); break;
            case BuiltInType.LocalizedText: WriteLocalizedText((LocalizedText)value!); break;
            case BuiltInType.ExtensionObject: WriteExtensionObject((ExtensionObject?)value); break;
            case BuiltInType.DataValue: WriteDataValue((DataValue?)value); break;
            case BuiltInType.Variant: WriteVariant((Variant)value!); break;
            case BuiltInType.DiagnosticInfo: WriteDiagnosticInfo((DiagnosticInfo?)value); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "Not a built-in type.");
        }
    }

    /// <summary>Writes an array of structures or values: Int32 length (-1 for null), then each element.</summary>
    public void WriteArray<T>(IReadOnlyList<T>? items, Action<BinaryEncoder, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (items is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            write(this, items[i]);
        }
    }

    public void WriteEncodeableArray<T>(IReadOnlyList<T>? items)
        where T : IEncodeable => WriteArray(items, static (e, x) => x.Encode(e));

    public void WriteStringArray(IReadOnlyList<string?>? items) => WriteArray(items, static (e, x) => e.WriteString(x));

    public void WriteUInt32Array(IReadOnlyList<uint>? items) => WriteArray(items, static (e, x) => e.WriteUInt32(x));

    public void WriteStatusCodeArray(IReadOnlyList<StatusCode>? items) => WriteArray(items, static (e, x) => e.WriteStatusCode(x));

    public void WriteDiagnosticInfoArray(IReadOnlyList<DiagnosticInfo?>? items) => WriteArray(items, static (e, x) => e.WriteDiagnosticInfo(x));

    /// <summary>Writes the encoding id and then the structure (the body of a service message).</summary>
    public void WriteMessage(IEncodeable message)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteNodeId(message.BinaryEncodingId);
        message.Encode(this);
    }

    private void Ensure(int count)
    {
        if (_position + count <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2, _position + count);
        var next = new byte[size];
        _buffer.AsSpan(0, _position).CopyTo(next);
        _buffer = next;
    }

    internal static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    internal static int Utf8Length(string text) => System.Text.Encoding.UTF8.GetByteCount(text);
}
