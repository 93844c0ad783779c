using System.Globalization;
using System.Text;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>The built-in types of OPC 10000-6 §5.1.2 (the Variant type ids).</summary>
public enum BuiltInType : byte
{
    Null = 0,
    Boolean = 1,
    SByte = 2,
    Byte = 3,
    Int16 = 4,
    UInt16 = 5,
    Int32 = 6,
    UInt32 = 7,
    Int64 = 8,
    UInt64 = 9,
    Float = 10,
    Double = 11,
    String = 12,
    DateTime = 13,
    Guid = 14,
    ByteString = 15,
    XmlElement = 16,
    NodeId = 17,
    ExpandedNodeId = 18,
    StatusCode = 19,
    QualifiedName = 20,
    LocalizedText = 21,
    ExtensionObject = 22,
    DataValue = 23,
    Variant = 24,
    DiagnosticInfo = 25,
}

/// <summary>How the identifier of a <see cref="NodeId"/> is given.</summary>
public enum IdType : byte
{
    Numeric = 0,
    String = 1,
    Guid = 2,
    Opaque = 3,
}

/// <summary>
/// A node id: namespace index and identifier (numeric, string, Guid or opaque). Immutable; equality is by value.
/// Text form (OPC 10000-6 §5.3.1.10): <c>i=85</c>, <c>ns=2;s=Machine1.Waveform</c>, <c>ns=3;g=...</c>, <c>ns=1;b=base64</c>.
/// </summary>
public sealed class NodeId : IEquatable<NodeId>
{
    public static readonly NodeId Null = new(0u);

    public NodeId(uint identifier, ushort namespaceIndex = 0)
    {
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Numeric;
        Numeric = identifier;
    }

    public NodeId(string identifier, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = IdType.String;
        Text = identifier;
    }

    public NodeId(Guid identifier, ushort namespaceIndex)
    {
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Guid;
        GuidValue = identifier;
    }

    public NodeId(byte[] identifier, ushort namespaceIndex)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Opaque;
        Opaque = identifier;
    }

    public ushort NamespaceIndex { get; }

    public IdType IdType { get; }

    public uint Numeric { get; }

    public string? Text { get; }

    public Guid GuidValue { get; }

    public byte[]? Opaque { get; }

    public bool IsNull => IdType switch
    {
        IdType.Numeric => Numeric == 0 && NamespaceIndex == 0,
        IdType.String => NamespaceIndex == 0 && Text!.Length == 0,
        IdType.Guid => NamespaceIndex == 0 && GuidValue == Guid.Empty,
        _ => NamespaceIndex == 0 && Opaque!.Length == 0,
    };

    /// <summary>The same identifier in another namespace.</summary>
    public NodeId WithNamespace(ushort namespaceIndex) => IdType switch
    {
        IdType.Numeric => new NodeId(Numeric, namespaceIndex),
        IdType.String => new NodeId(Text!, namespaceIndex),
        IdType.Guid => new NodeId(GuidValue, namespaceIndex),
        _ => new NodeId(Opaque!, namespaceIndex),
    };

    public static implicit operator NodeId(uint identifier) => new(identifier);

    public bool Equals(NodeId? other)
    {
        if (other is null || other.NamespaceIndex != NamespaceIndex || other.IdType != IdType)
        {
            return false;
        }

        return IdType switch
        {
            IdType.Numeric => Numeric == other.Numeric,
            IdType.String => string.Equals(Text, other.Text, StringComparison.Ordinal),
            IdType.Guid => GuidValue == other.GuidValue,
            _ => Opaque.AsSpan().SequenceEqual(other.Opaque),
        };
    }

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => IdType switch
    {
        IdType.Numeric => HashCode.Combine(NamespaceIndex, Numeric),
        IdType.String => HashCode.Combine(NamespaceIndex, StringComparer.Ordinal.GetHashCode(Text!)),
        IdType.Guid => HashCode.Combine(NamespaceIndex, GuidValue),
        _ => HashCode.Combine(NamespaceIndex, Opaque!.Length, Opaque.Length > 0 ? Opaque[0] : 0),
    };

    public override string ToString()
    {
        var prefix = NamespaceIndex == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"ns={NamespaceIndex};");
        return IdType switch
        {
            IdType.Numeric => string.Create(CultureInfo.InvariantCulture, $"{prefix}i={Numeric}"),
            IdType.String => prefix + "s=" + Text,
            IdType.Guid => prefix + "g=" + GuidValue.ToString("D", CultureInfo.InvariantCulture),
            _ => prefix + "b=" + Convert.ToBase64String(Opaque!),
        };
    }

    /// <summary>Parses the text form with a namespace index (<c>ns=</c>); see <see cref="NodeIdText"/> for <c>nsu=</c>.</summary>
    public static NodeId Parse(string text)
    {
        var parsed = NodeIdText.Parse(text);
        if (parsed.NamespaceUri is not null)
        {
            throw new FormatException($"Node id '{text}' names its namespace by URI (nsu=); resolve it through the server's NamespaceArray.");
        }

        return parsed.NodeId;
    }
}

/// <summary>A node id that may name its namespace by URI and may live on another server.</summary>
public sealed record ExpandedNodeId(NodeId NodeId, string? NamespaceUri = null, uint ServerIndex = 0)
{
    public static readonly ExpandedNodeId Null = new(NodeId.Null);

    public bool IsNull => NodeId.IsNull && NamespaceUri is null && ServerIndex == 0;

    public override string ToString()
    {
        var text = NodeId.ToString();
        if (NamespaceUri is not null)
        {
            var id = NodeId.WithNamespace(0).ToString();
            text = "nsu=" + NamespaceUri + ";" + id;
        }

        return ServerIndex == 0 ? text : string.Create(CultureInfo.InvariantCulture, $"svr={ServerIndex};{text}");
    }
}

/// <summary>A node id as written in configuration: with a namespace index or a namespace URI.</summary>
public sealed record NodeIdText(NodeId NodeId, string? NamespaceUri)
{
    /// <summary>
    /// Parses <c>i=85</c>, <c>ns=2;s=Name</c>, <c>nsu=urn:x;s=Name</c>, <c>g=GUID</c>, <c>b=BASE64</c>.
    /// Throws <see cref="FormatException"/> with a message that says what is wrong.
    /// </summary>
    public static NodeIdText Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ushort ns = 0;
        string? uri = null;
        var rest = text.Trim();
        if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            var semi = rest.IndexOf(';', StringComparison.Ordinal);
            if (semi < 0 || !ushort.TryParse(rest.AsSpan(3, semi - 3), NumberStyles.None, CultureInfo.InvariantCulture, out ns))
            {
                throw new FormatException($"Node id '{text}': 'ns=' must be followed by a namespace index 0..65535 and ';'.");
            }

            rest = rest[(semi + 1)..];
        }
        else if (rest.StartsWith("nsu=", StringComparison.Ordinal))
        {
            // The URI may itself contain ';' only if the identifier part is found after the last ";x=".
            var marker = FindIdentifierStart(rest);
            if (marker < 0)
            {
                throw new FormatException($"Node id '{text}': 'nsu=URI;' must be followed by i=, s=, g= or b=.");
            }

            uri = rest[4..(marker - 1)];
            if (uri.Length == 0)
            {
                throw new FormatException($"Node id '{text}': empty namespace URI.");
            }

            rest = rest[marker..];
        }

        if (rest.Length < 2 || rest[1] != '=')
        {
            throw new FormatException($"Node id '{text}' must have the form [ns=N;|nsu=URI;](i=|s=|g=|b=)IDENTIFIER, e.g. ns=2;s=Machine1.Waveform or i=85.");
        }

        var value = rest[2..];
        NodeId id = rest[0] switch
        {
            'i' when uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => new NodeId(n, ns),
            'i' => throw new FormatException($"Node id '{text}': numeric identifier '{value}' is not a number 0..4294967295."),
            's' => new NodeId(value, ns),
            'g' when Guid.TryParse(value, CultureInfo.InvariantCulture, out var g) => new NodeId(g, ns),
            'g' => throw new FormatException($"Node id '{text}': '{value}' is not a GUID."),
            'b' => new NodeId(ParseBase64(value, text), ns),
            _ => throw new FormatException($"Node id '{text}': identifier type '{rest[0]}' is unknown; allowed: i (numeric), s (string), g (GUID), b (opaque, base64)."),
        };
        return new NodeIdText(id, uri);
    }

    public override string ToString() => NamespaceUri is null ? NodeId.ToString() : "nsu=" + NamespaceUri + ";" + NodeId.WithNamespace(0);

    private static int FindIdentifierStart(string text)
    {
        // The identifier starts at the first ";i=", ";s=", ";g=" or ";b=" after "nsu=".
        for (var i = 5; i + 1 < text.Length; i++)
        {
            if (text[i - 1] == ';' && text[i + 1] == '=' && text[i] is 'i' or 's' or 'g' or 'b')
            {
                return i;
            }
        }

        return -1;
    }

    private static byte[] ParseBase64(string value, string text)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw new FormatException($"Node id '{text}': '{value}' is not base64.");
        }
    }
}

/// <summary>A status code (OPC 10000-4 §7.39): severity in the top two bits, sub-code, info bits.</summary>
public readonly record struct StatusCode(uint Code)
{
    public static readonly StatusCode Good = new(0);

    public bool IsGood => (Code & 0xC0000000) == 0;

    public bool IsUncertain => (Code & 0xC0000000) == 0x40000000;

    public bool IsBad => (Code & 0x80000000) != 0;

    /// <summary>The code without its info bits (for comparisons with the named codes).</summary>
    public uint CodeBits => Code & 0xFFFF0000;

    /// <summary>DataValue info bit: values were lost because the monitored item's queue overflowed.</summary>
    public bool Overflow => (Code & 0x00000C00) == 0x00000400 && (Code & 0x00000080) != 0;

    public static implicit operator StatusCode(uint code) => new(code);

    public override string ToString() => StatusCodes.Name(Code);
}

/// <summary>A name qualified by a namespace index.</summary>
public readonly record struct QualifiedName(ushort NamespaceIndex, string? Name)
{
    public override string ToString() => NamespaceIndex == 0 ? Name ?? "" : string.Create(CultureInfo.InvariantCulture, $"{NamespaceIndex}:{Name}");

    /// <summary>Parses <c>2:Name</c> or <c>Name</c> (namespace 0).</summary>
    public static QualifiedName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && ushort.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
        {
            return new QualifiedName(ns, text[(colon + 1)..]);
        }

        return new QualifiedName(0, text);
    }
}

/// <summary>Human-readable text with an optional locale.</summary>
public readonly record struct LocalizedText(string? Locale, string? Text)
{
    public override string ToString() => Text ?? "";
}

/// <summary>A value with its status and timestamps (OPC 10000-4 §7.11).</summary>
public sealed class DataValue
{
    public Variant Value { get; set; }

    public StatusCode StatusCode { get; set; }

    /// <summary>UTC; <see cref="DateTime.MinValue"/> when absent.</summary>
    public DateTime SourceTimestamp { get; set; }

    public ushort SourcePicoseconds { get; set; }

    public DateTime ServerTimestamp { get; set; }

    public ushort ServerPicoseconds { get; set; }
}

/// <summary>Vendor diagnostic information (OPC 10000-4 §7.12); string-table indexes, -1 when absent.</summary>
public sealed class DiagnosticInfo
{
    public int SymbolicId { get; set; } = -1;

    public int NamespaceUri { get; set; } = -1;

    public int Locale { get; set; } = -1;

    public int LocalizedText { get; set; } = -1;

    public string? AdditionalInfo { get; set; }

    public StatusCode? InnerStatusCode { get; set; }

    public DiagnosticInfo? InnerDiagnosticInfo { get; set; }
}

/// <summary>
/// A structure carried with its type id: decoded into <see cref="Body"/> when the type is known
/// (<see cref="EncodeableFactory"/>), otherwise kept as the raw bytes.
/// </summary>
public sealed class ExtensionObject
{
    public static readonly ExtensionObject Null = new(NodeId.Null, null);

    public ExtensionObject(IEncodeable body)
    {
        ArgumentNullException.ThrowIfNull(body);
        TypeId = body.BinaryEncodingId;
        Body = body;
    }

    public ExtensionObject(NodeId typeId, byte[]? raw, bool isXml = false)
    {
        TypeId = typeId;
        Raw = raw;
        IsXml = isXml;
    }

    public NodeId TypeId { get; }

    public IEncodeable? Body { get; }

    public byte[]? Raw { get; }

    public bool IsXml { get; }

    public bool IsNull => Body is null && Raw is null;
}

/// <summary>
/// A value of any built-in type, scalar or array (matrices keep their <see cref="Dimensions"/> and
/// the flattened elements). Arrays are typed .NET arrays (<c>float[]</c>, <c>double[]</c>, <c>string?[]</c>...);
/// a Byte array is a <c>byte[]</c> with <see cref="IsArray"/> set, a ByteString scalar a <c>byte[]</c> without.
/// </summary>
public readonly struct Variant : IEquatable<Variant>
{
    public static readonly Variant Null;

    public Variant(BuiltInType type, object? value, bool isArray = false, int[]? dimensions = null)
    {
        Type = value is null && !isArray ? BuiltInType.Null : type;
        Value = value;
        IsArray = isArray;
        Dimensions = dimensions;
    }

    public Variant(bool value) : this(BuiltInType.Boolean, value) { }

    public Variant(int value) : this(BuiltInType.Int32, value) { }

    public Variant(uint value) : this(BuiltInType.UInt32, value) { }

    public Variant(double value) : this(BuiltInType.Double, value) { }

    public Variant(float value) : this(BuiltInType.Float, value) { }

    public Variant(string? value) : this(BuiltInType.String, value) { }

    public Variant(float[] value) : this(BuiltInType.Float, value, true) { }

    public Variant(double[] value) : this(BuiltInType.Double, value, true) { }

    public BuiltInType Type { get; }

    public object? Value { get; }

    public bool IsArray { get; }

    /// <summary>Dimensions of a matrix (null for a scalar or a one-dimensional array).</summary>
    public int[]? Dimensions { get; }

    public bool IsNull => Type == BuiltInType.Null;

    /// <summary>Number of elements of an array (0 for a scalar or null).</summary>
    public int ArrayLength => IsArray && Value is Array a ? a.Length : 0;

    /// <summary>The value as a double when it is a numeric scalar (Boolean as 0/1); NaN otherwise.</summary>
    public double ToDouble() => IsArray ? double.NaN : NumberToDouble(Value);

    /// <summary>A numeric value (or one element of a numeric array) as a double (Boolean as 0/1); NaN for anything else.</summary>
    public static double NumberToDouble(object? value) => value switch
    {
        double d => d,
        float f => f,
        int i => i,
        uint u => u,
        short s => s,
        ushort us => us,
        long l => l,
        ulong ul => ul,
        byte b => b,
        sbyte sb => sb,
        bool bo => bo ? 1 : 0,
        _ => double.NaN,
    };

    public bool Equals(Variant other) => Type == other.Type && IsArray == other.IsArray && Equals(Value, other.Value);

    public override bool Equals(object? obj) => obj is Variant other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, IsArray, Value);

    public static bool operator ==(Variant left, Variant right) => left.Equals(right);

    public static bool operator !=(Variant left, Variant right) => !left.Equals(right);

    public override string ToString()
    {
        if (IsNull)
        {
            return "null";
        }

        if (IsArray)
        {
            var text = new StringBuilder();
            text.Append(Type).Append('[').Append(ArrayLength.ToString(CultureInfo.InvariantCulture)).Append(']');
            return text.ToString();
        }

        return Value switch
        {
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            byte[] bytes => "0x" + Convert.ToHexString(bytes),
            _ => Value?.ToString() ?? "null",
        };
    }
}
