using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>
/// Reads the OPC UA binary encoding (OPC 10000-6 §5.2) from a buffer, enforcing
/// <see cref="EncodingLimits"/>: string and array lengths, nesting depth, and never reading past the
/// end. Every malformed input ends in a <see cref="UaDecodingException"/> (never an index or cast
/// exception), so that a hostile peer cannot crash the reader.
/// </summary>
public sealed class BinaryDecoder
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;
    private int _depth;

    public BinaryDecoder(ReadOnlyMemory<byte> buffer, EncodingLimits? limits = null)
    {
        _buffer = buffer;
        Limits = limits ?? EncodingLimits.Default;
    }

    public EncodingLimits Limits { get; }

    public int Position => _position;

    public int Remaining => _buffer.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _buffer.Length - _position)
        {
            throw new UaDecodingException(StatusCodes.BadDecodingError, $"Message ends early: {count} more byte(s) needed at offset {_position}, {Remaining} left.");
        }

        var span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    public bool ReadBoolean() => ReadByte() != 0;

    public sbyte ReadSByte() => unchecked((sbyte)ReadByte());

    public byte ReadByte() => Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    public string? ReadString()
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return null;
        }

        CheckStringLength(length);
        var bytes = Take(length);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (ArgumentException ex)
        {
            throw new UaDecodingException("String is not valid UTF-8.", ex);
        }
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    public DateTime ReadDateTime()
    {
        var ticks = ReadInt64();
        if (ticks <= 0)
        {
            return DateTime.MinValue;
        }

        if (ticks >= DateTime.MaxValue.Ticks - BinaryEncoder.Epoch1601Ticks)
        {
            return DateTime.MaxValue;
        }

        return new DateTime(ticks + BinaryEncoder.Epoch1601Ticks, DateTimeKind.Utc);
    }

    public Guid ReadGuid() => new(Take(16));

    public byte[]? ReadByteString()
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return null;
        }

        CheckStringLength(length);
        return Take(length).ToArray();
    }

    /// <summary>A ByteString without copying (valid while the message buffer is); default for null.</summary>
    public ReadOnlyMemory<byte> ReadByteStringMemory()
    {
        var length = ReadInt32();
        if (length < 0)
        {
            return default;
        }

        CheckStringLength(length);
        Take(length);
        return _buffer.Slice(_position - length, length);
    }

    public NodeId ReadNodeId()
    {
        var id = ReadNodeIdCore(out var flags);
        if ((flags & 0xC0) != 0)
        {
            throw new UaDecodingException($"NodeId encoding byte 0x{flags:X2} has ExpandedNodeId flags.");
        }

        return id;
    }

    private NodeId ReadNodeIdCore(out byte encoding)
    {
        encoding = ReadByte();
        switch (encoding & 0x3F)
        {
            case 0x00:
                return new NodeId(ReadByte());
            case 0x01:
                {
                    var ns = ReadByte();
                    return new NodeId(ReadUInt16(), ns);
                }

            case 0x02:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadUInt32(), ns);
                }

            case 0x03:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadString() ?? "", ns);
                }

            case 0x04:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadGuid(), ns);
                }

            case 0x05:
                {
                    var ns = ReadUInt16();
                    return new NodeId(ReadByteString() ?? [], ns);
                }

            default:
                throw new UaDecodingException($"Unknown NodeId encoding 0x{encoding:X2}.");
        }
    }

    public ExpandedNodeId ReadExpandedNodeId()
    {
        var id = ReadNodeIdCore(out var flags);
        string? uri = null;
        uint server = 0;
        if ((flags & 0x80) != 0)
        {
            uri = ReadString();
        }

        if ((flags & 0x40) != 0)
        {
            server = ReadUInt32();
        }

        return new ExpandedNodeId(id, uri, server);
    }

    public StatusCode ReadStatusCode() => new(ReadUInt32());

    public QualifiedName ReadQualifiedName()
    {
        var ns = ReadUInt16();
        return new QualifiedName(ns, ReadString());
    }

    public LocalizedText ReadLocalizedText()
    {
        var mask = ReadByte();
        if ((mask & ~0x03) != 0)
        {
            throw new UaDecodingException($"LocalizedText mask 0x{mask:X2} has unknown bits.");
        }

        var locale = (mask & 0x01) != 0 ? ReadString() : null;
        var text = (mask & 0x02) != 0 ? ReadString() : null;
        return new LocalizedText(locale, text);
    }

    public ExtensionObject ReadExtensionObject()
    {
        var typeId = ReadNodeId();
        var encoding = ReadByte();
        switch (encoding)
        {
            case 0:
                return typeId.IsNull ? ExtensionObject.Null : new ExtensionObject(typeId, null);
            case 1:
            case 2:
                break;
            default:
                throw new UaDecodingException($"ExtensionObject encoding {encoding} is unknown.");
        }

        var length = ReadInt32();
        if (length < 0)
        {
            return new ExtensionObject(typeId, null, encoding == 2);
        }

        CheckStringLength(length);
        Take(length);
        var body = _buffer.Slice(_position - length, length);
        if (encoding == 1 && EncodeableFactory.Create(typeId) is { } structure)
        {
            Enter();
            try
            {
                var inner = new BinaryDecoder(body, Limits) { _depth = _depth };
                structure.Decode(inner);
                return new ExtensionObject(structure);
            }
            finally
            {
                _depth--;
            }
        }

        return new ExtensionObject(typeId, body.ToArray(), encoding == 2);
    }

    public DataValue ReadDataValue()
    {
        var mask = ReadByte();
        if ((mask & 0xC0) != 0)
        {
            throw new UaDecodingException($"DataValue mask 0x{mask:X2} has unknown bits.");
        }

        var value = new DataValue();
        if ((mask & 0x01) != 0)
        {
            value.Value = ReadVariant();
        }

        if ((mask & 0x02) != 0)
        {
            value.StatusCode = ReadStatusCode();
        }

        if ((mask & 0x04) != 0)
        {
            value.SourceTimestamp = ReadDateTime();
        }

        if ((mask & 0x10) != 0)
        {
            value.SourcePicoseconds = ReadUInt16();
        }

        if ((mask & 0x08) != 0)
        {
            value.ServerTimestamp = ReadDateTime();
        }

        if ((mask & 0x20) != 0)
        {
            value.ServerPicoseconds = ReadUInt16();
        }

        return value;
    }

    public DiagnosticInfo ReadDiagnosticInfo()
    {
        Enter();
        try
        {
            var mask = ReadByte();
            if ((mask & 0x80) != 0)
            {
                throw new UaDecodingException($"DiagnosticInfo mask 0x{mask:X2} has unknown bits.");
            }

            var info = new DiagnosticInfo();
            if ((mask & 0x01) != 0)
            {
                info.SymbolicId = ReadInt32();
            }

            if ((mask & 0x02) != 0)
            {
                info.NamespaceUri = ReadInt32();
            }

            if ((mask & 0x08) != 0)
            {
                info.Locale = ReadInt32();
            }

            if ((mask & 0x04) != 0)
            {
                info.LocalizedText = ReadInt32();
            }

            if ((mask & 0x10) != 0)
            {
                info.AdditionalInfo = ReadString();
            }

            if ((mask & 0x20) != 0)
            {
                info.InnerStatusCode = ReadStatusCode();
            }

            if ((mask & 0x40) != 0)
            {
                info.InnerDiagnosticInfo = ReadDiagnosticInfo();
            }

            return info;
        }
        finally
        {
            _depth--;
        }
    }

    public Variant ReadVariant()
    {
        Enter();
        try
        {
            var mask = ReadByte();
            var typeId = mask & 0x3F;
            if (typeId > (int)BuiltInType.DiagnosticInfo)
            {
                throw new UaDecodingException($"Variant type id {typeId} is not a built-in type.");
            }

            var type = (BuiltInType)typeId;
            if ((mask & 0x80) == 0)
            {
                if ((mask & 0x40) != 0)
                {
                    throw new UaDecodingException("Variant has array dimensions but is not an array.");
                }

                if (type == BuiltInType.Null)
                {
                    return Variant.Null;
                }

                if (type == BuiltInType.Variant)
                {
                    throw new UaDecodingException("A Variant cannot contain a scalar Variant.");
                }

                return new Variant(type, ReadScalar(type));
            }

            var length = ReadInt32();
            Array? array = length < 0 ? null : ReadArrayElements(type, length);
            int[]? dimensions = null;
            if ((mask & 0x40) != 0)
            {
                var count = ReadInt32();
                if (count < 1 || count > 32)
                {
                    throw new UaDecodingException($"Variant has {count} array dimensions (allowed 1..32).");
                }

                dimensions = new int[count];
                long product = 1;
                for (var i = 0; i < count; i++)
                {
                    dimensions[i] = ReadInt32();
                    if (dimensions[i] < 0)
                    {
                        throw new UaDecodingException($"Variant array dimension {i} is negative.");
                    }

                    product *= dimensions[i];
                    if (product > int.MaxValue)
                    {
                        throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, "Variant matrix is too large.");
                    }
                }

                if (product != Math.Max(0, length))
                {
                    throw new UaDecodingException($"Variant matrix dimensions give {product} elements but {length} are encoded.");
                }
            }

            return new Variant(type, array, true, dimensions);
        }
        finally
        {
            _depth--;
        }
    }

    private Array ReadArrayElements(BuiltInType type, int length)
    {
        CheckArrayLength(length, type switch
        {
            BuiltInType.Boolean or BuiltInType.SByte or BuiltInType.Byte or BuiltInType.Null => 1,
            BuiltInType.Int16 or BuiltInType.UInt16 => 2,
            BuiltInType.Int32 or BuiltInType.UInt32 or BuiltInType.Float or BuiltInType.StatusCode or BuiltInType.String or BuiltInType.ByteString or BuiltInType.XmlElement => 4,
            BuiltInType.Int64 or BuiltInType.UInt64 or BuiltInType.Double or BuiltInType.DateTime => 8,
            BuiltInType.Guid => 16,
            _ => 1,
        });
        switch (type)
        {
            case BuiltInType.Float:
                {
                    var result = new float[length];
                    var bytes = Take(length * 4);
                    if (BitConverter.IsLittleEndian)
                    {
                        MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                    }
                    else
                    {
                        for (var i = 0; i < length; i++)
                        {
                            result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                        }
                    }

                    return result;
                }

            case BuiltInType.Double:
                {
                    var result = new double[length];
                    var bytes = Take(length * 8);
                    if (BitConverter.IsLittleEndian)
                    {
                        MemoryMarshal.Cast<byte, double>(bytes).CopyTo(result);
                    }
                    else
                    {
                        for (var i = 0; i < length; i++)
                        {
                            result[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]);
                        }
                    }

                    return result;
                }

            case BuiltInType.Byte:
                return Take(length).ToArray();
            case BuiltInType.Boolean: return Fill(new bool[length], static d => d.ReadBoolean());
            case BuiltInType.SByte: return Fill(new sbyte[length], static d => d.ReadSByte());
            case BuiltInType.Int16: return Fill(new short[length], static d => d.ReadInt16());
            case BuiltInType.UInt16: return Fill(new ushort[length], static d => d.ReadUInt16());
            case BuiltInType.Int32: return Fill(new int[length], static d => d.ReadInt32());
            case BuiltInType.UInt32: return Fill(new uint[length], static d => d.ReadUInt32());
            case BuiltInType.Int64: return Fill(new long[length], static d => d.ReadInt64());
            case BuiltInType.UInt64: return Fill(new ulong[length], static d => d.ReadUInt64());
            case BuiltInType.String: return Fill(new string?[length], static d => d.ReadString());
            case BuiltInType.XmlElement: return Fill(new string?[length], static d => d.ReadString());
            case BuiltInType.DateTime: return Fill(new DateTime[length], static d => d.ReadDateTime());
            case BuiltInType.Guid: return Fill(new Guid[length], static d => d.ReadGuid());
            case BuiltInType.ByteString: return Fill(new byte[]?[length], static d => d.ReadByteString());
            case BuiltInType.NodeId: return Fill(new NodeId[length], static d => d.ReadNodeId());
            case BuiltInType.ExpandedNodeId: return Fill(new ExpandedNodeId[length], static d => d.ReadExpandedNodeId());
            case BuiltInType.StatusCode: return Fill(new StatusCode[length], static d => d.ReadStatusCode());
            case BuiltInType.QualifiedName: return Fill(new QualifiedName[length], static d => d.ReadQualifiedName());
            case BuiltInType.LocalizedText: return Fill(new LocalizedText[length], static d => d.ReadLocalizedText());
            case BuiltInType.ExtensionObject: return Fill(new ExtensionObject[length], static d => d.ReadExtensionObject());
            case BuiltInType.DataValue: return Fill(new DataValue[length], static d => d.ReadDataValue());
            case BuiltInType.Variant: return Fill(new Variant[length], static d => d.ReadVariant());
            case BuiltInType.DiagnosticInfo: return Fill(new DiagnosticInfo[length], static d => d.ReadDiagnosticInfo());
            default:
                throw new UaDecodingException($"Variant array of type {type} is not allowed.");
        }
    }

    private T[] Fill<T>(T[] array, Func<BinaryDecoder, T> read)
    {
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = read(this);
        }

        return array;
    }

    private object? ReadScalar(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => ReadBoolean(),
        BuiltInType.SByte => ReadSByte(),
        BuiltInType.Byte => ReadByte(),
        BuiltInType.Int16 => ReadInt16(),
        BuiltInType.UInt16 => ReadUInt16(),
        BuiltInType.Int32 => ReadInt32(),
        BuiltInType.UInt32 => ReadUInt32(),
        BuiltInType.Int64 => ReadInt64(),
        BuiltInType.UInt64 => ReadUInt64(),
        BuiltInType.Float => ReadFloat(),
        BuiltInType.Double => ReadDouble(),
        BuiltInType.String => ReadString(),
        BuiltInType.DateTime => ReadDateTime(),
        BuiltInType.Guid => ReadGuid(),
        BuiltInType.ByteString => ReadByteString(),
        BuiltInType.XmlElement => ReadString(),
        BuiltInType.NodeId => ReadNodeId(),
        BuiltInType.ExpandedNodeId => ReadExpandedNodeId(),
        BuiltInType.StatusCode => ReadStatusCode(),
        BuiltInType.QualifiedName => ReadQualifiedName(),
        BuiltInType.LocalizedText => ReadLocalizedText(),
        BuiltInType.ExtensionObject => ReadExtensionObject(),
        BuiltInType.DataValue => ReadDataValue(),
        BuiltInType.DiagnosticInfo => ReadDiagnosticInfo(),
        _ => throw new UaDecodingException($"Type {type} cannot be a Variant scalar."),
    };

    /// <summary>Reads an array: Int32 length (-1 for null), then each element; the length is checked first.</summary>
    public T[]? ReadArray<T>(Func<BinaryDecoder, T> read, int minimumElementSize = 1)
    {
        ArgumentNullException.ThrowIfNull(read);
        var length = ReadInt32();
        if (length < 0)
        {
            return null;
        }

        CheckArrayLength(length, minimumElementSize);
        return Fill(new T[length], read);
    }

    public T[] ReadEncodeableArray<T>()
        where T : IEncodeable, new() => ReadArray(static d =>
        {
            var item = new T();
            item.Decode(d);
            return item;
        }) ?? [];

    public string?[] ReadStringArray() => ReadArray(static d => d.ReadString(), 4) ?? [];

    public uint[] ReadUInt32Array() => ReadArray(static d => d.ReadUInt32(), 4) ?? [];

    public StatusCode[] ReadStatusCodeArray() => ReadArray(static d => d.ReadStatusCode(), 4) ?? [];

    public DiagnosticInfo[] ReadDiagnosticInfoArray() => ReadArray(static d => d.ReadDiagnosticInfo()) ?? [];

    public T ReadEncodeable<T>()
        where T : IEncodeable, new()
    {
        var item = new T();
        item.Decode(this);
        return item;
    }

    /// <summary>Reads the body of a service message: encoding id, then the structure it names.</summary>
    public IEncodeable ReadMessage()
    {
        var typeId = ReadNodeId();
        var message = EncodeableFactory.Create(typeId)
            ?? throw new UaDecodingException(StatusCodes.BadDecodingError, $"Unknown message type {typeId}.");
        message.Decode(this);
        return message;
    }

    private void CheckStringLength(int length)
    {
        if (length > Limits.MaxStringLength)
        {
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"String of {length} bytes exceeds the limit of {Limits.MaxStringLength}.");
        }
    }

    private void CheckArrayLength(int length, int minimumElementSize)
    {
        if (length > Limits.MaxArrayLength)
        {
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"Array of {length} elements exceeds the limit of {Limits.MaxArrayLength}.");
        }

        // Every element takes at least one byte: a length beyond what is left is malformed (and must
        // not make us allocate before finding out).
        if ((long)length * Math.Max(1, minimumElementSize) > Remaining)
        {
            throw new UaDecodingException($"Array of {length} elements cannot fit in the {Remaining} byte(s) left.");
        }
    }

    private void Enter()
    {
        if (++_depth > Limits.MaxNestingDepth)
        {
            _depth--;
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"Nesting deeper than {Limits.MaxNestingDepth}.");
        }
    }
}
