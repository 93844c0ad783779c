using System.Collections.Concurrent;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>A structure with a binary encoding (a service message or a data type such as EUInformation).</summary>
public interface IEncodeable
{
    /// <summary>The NodeId of the type's Default Binary encoding (what precedes it on the wire).</summary>
    NodeId BinaryEncodingId { get; }

    void Encode(BinaryEncoder encoder);

    void Decode(BinaryDecoder decoder);
}

/// <summary>Limits every decoder enforces (OPC 10000-6 §5.2.2 and the transport's negotiated sizes).</summary>
public sealed record EncodingLimits
{
    public static readonly EncodingLimits Default = new();

    /// <summary>Longest String or ByteString, in bytes.</summary>
    public int MaxStringLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most elements in one array (a Float[65536] waveform fits many times over).</summary>
    public int MaxArrayLength { get; init; } = 4 * 1024 * 1024;

    /// <summary>Deepest nesting of Variants, DiagnosticInfos and ExtensionObjects.</summary>
    public int MaxNestingDepth { get; init; } = 64;

    /// <summary>Largest message (all chunks' bodies together), in bytes.</summary>
    public int MaxMessageSize { get; init; } = 64 * 1024 * 1024;
}

/// <summary>A malformed message or one that breaks a limit; carries the status code to report.</summary>
public sealed class UaDecodingException : Exception
{
    public UaDecodingException(uint statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public UaDecodingException()
        : this(StatusCodes.BadDecodingError, "Decoding error.")
    {
    }

    public UaDecodingException(string message)
        : this(StatusCodes.BadDecodingError, message)
    {
    }

    public UaDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.BadDecodingError;
    }

    public uint StatusCode { get; }
}

/// <summary>Maps binary encoding ids to the types that decode them (messages and known structures).</summary>
public static class EncodeableFactory
{
    private static readonly ConcurrentDictionary<NodeId, Func<IEncodeable>> Factories = new();

    static EncodeableFactory()
    {
        Protocol.KnownTypes.Register();
    }

    public static void Register(NodeId binaryEncodingId, Func<IEncodeable> create)
    {
        ArgumentNullException.ThrowIfNull(binaryEncodingId);
        ArgumentNullException.ThrowIfNull(create);
        Factories[binaryEncodingId] = create;
    }

    public static IEncodeable? Create(NodeId binaryEncodingId) =>
        Factories.TryGetValue(binaryEncodingId, out var create) ? create() : null;
}
