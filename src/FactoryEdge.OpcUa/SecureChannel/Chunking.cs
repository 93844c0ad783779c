using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Transport;

namespace FactoryEdge.OpcUa.SecureChannel;

/// <summary>Sequence numbers of one direction of a channel (OPC 10000-6 §6.7.2.4), with the legacy wrap-around.</summary>
public sealed class SequenceNumbers
{
    private const uint WrapAbove = uint.MaxValue - 1024;
    private uint _next;
    private uint _last;
    private bool _any;

    public SequenceNumbers(uint first = 1)
    {
        _next = first;
    }

    public uint Next()
    {
        var value = _next;
        _next = value >= WrapAbove ? 1 : value + 1;
        return value;
    }

    /// <summary>Checks a received sequence number follows the previous one; false when it does not.</summary>
    public bool Accept(uint value)
    {
        if (_any && value != _last + 1 && !(_last >= WrapAbove && value < 1024))
        {
            return false;
        }

        _any = true;
        _last = value;
        return true;
    }
}

/// <summary>
/// Splits a message into chunks that fit the peer's receive buffer and checks the peer's message
/// size and chunk count (OPC 10000-6 §6.7.2). Used by both client and server.
/// </summary>
public static class MessageChunker
{
    /// <summary>Sequence header: sequence number and request id.</summary>
    public const int SequenceHeaderSize = 8;

    /// <summary>Builds the security header of an OPN chunk.</summary>
    public static byte[] AsymmetricHeader(IChannelSecurity security)
    {
        ArgumentNullException.ThrowIfNull(security);
        var encoder = new BinaryEncoder(128);
        encoder.WriteString(security.SecurityPolicyUri);
        encoder.WriteByteString(security.LocalCertificate);
        encoder.WriteByteString(security.RemoteCertificateThumbprint);
        return encoder.ToArray();
    }

    /// <summary>
    /// Chunks <paramref name="body"/> (the encoded message: type id and structure). Throws
    /// <see cref="ServiceResultException"/> (BadRequestTooLarge, or <paramref name="tooLargeStatus"/>)
    /// when the peer's MaxMessageSize or MaxChunkCount would be exceeded.
    /// </summary>
    public static List<ReadOnlyMemory<byte>> Build(
        int messageType,
        uint channelId,
        uint tokenId,
        ReadOnlySpan<byte> asymmetricHeader,
        ReadOnlySpan<byte> body,
        uint requestId,
        SequenceNumbers sequence,
        IChannelSecurity security,
        TransportLimits remote,
        uint tooLargeStatus = StatusCodes.BadRequestTooLarge)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(remote);
        var asymmetric = messageType == MessageTypes.Open;
        var headerSize = MessageTypes.HeaderSize + 4 + (asymmetric ? asymmetricHeader.Length : 4);
        var chunkSize = remote.ReceiveBufferSize;
        var maxBody = security.MaxPlainTextSize(chunkSize, headerSize, asymmetric) - SequenceHeaderSize;
        if (maxBody < 1)
        {
            throw new ServiceResultException(StatusCodes.BadTcpInternalError, $"The peer's receive buffer ({chunkSize}) is too small for a chunk.");
        }

        if (remote.MaxMessageSize > 0 && body.Length > remote.MaxMessageSize)
        {
            throw new ServiceResultException(tooLargeStatus, $"Message of {body.Length} bytes exceeds the peer's MaxMessageSize of {remote.MaxMessageSize}.");
        }

        var count = Math.Max(1, (body.Length + maxBody - 1) / maxBody);
        if (remote.MaxChunkCount > 0 && count > remote.MaxChunkCount)
        {
            throw new ServiceResultException(tooLargeStatus, $"Message needs {count} chunks; the peer accepts {remote.MaxChunkCount}.");
        }

        var chunks = new List<ReadOnlyMemory<byte>>(count);
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            var part = Math.Min(maxBody, body.Length - offset);
            var chunk = new byte[chunkSize];
            var span = chunk.AsSpan();
            MessageTypes.WriteHeader(span, messageType, i == count - 1 ? MessageTypes.Final : MessageTypes.Intermediate, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], channelId);
            if (asymmetric)
            {
                asymmetricHeader.CopyTo(span[12..]);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span[12..], tokenId);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(span[headerSize..], sequence.Next());
            BinaryPrimitives.WriteUInt32LittleEndian(span[(headerSize + 4)..], requestId);
            body.Slice(offset, part).CopyTo(span[(headerSize + SequenceHeaderSize)..]);
            var size = security.Protect(span, headerSize, SequenceHeaderSize + part, asymmetric, tokenId);
            chunks.Add(chunk.AsMemory(0, size));
            offset += part;
        }

        return chunks;
    }
}

/// <summary>A whole message put together from its chunks.</summary>
public sealed record ReceivedMessage(int MessageType, uint RequestId, uint TokenId, ReadOnlyMemory<byte> Body, ErrorMessage? Abort = null);

/// <summary>
/// Puts received chunks back together per request id, enforcing our MaxMessageSize and
/// MaxChunkCount, checking sequence numbers and letting the security layer verify each chunk.
/// Used by both client and server.
/// </summary>
public sealed class ChunkAssembler
{
    private readonly IChannelSecurity _security;
    private readonly TransportLimits _local;
    private readonly SequenceNumbers _sequence = new();
    private readonly Dictionary<uint, Partial> _partials = [];

    public ChunkAssembler(IChannelSecurity security, TransportLimits local)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(local);
        _security = security;
        _local = local;
    }

    /// <summary>The channel id seen in the first chunk (0 until then).</summary>
    public uint ChannelId { get; private set; }

    /// <summary>The asymmetric header of the last OPN chunk received.</summary>
    public (string? PolicyUri, byte[]? Certificate, byte[]? Thumbprint) LastAsymmetricHeader { get; private set; }

    /// <summary>Takes one chunk (OPN, MSG or CLO); returns the message when it was the final chunk, else null.</summary>
    public ReceivedMessage? Add(UaChunk chunk, uint expectedChannelId)
    {
        // Work on the receive buffer itself (a security layer decrypts in place); only parts of
        // multi-chunk messages are copied, since the buffer is reused for the next chunk. Decoders copy
        // everything they keep, so a single-chunk message is decoded straight from the buffer.
        var data = MemoryMarshal.AsMemory(chunk.Data);
        var decoder = new BinaryDecoder(data[MessageTypes.HeaderSize..], EncodingLimits.Default with { MaxStringLength = 65536 });
        var channelId = decoder.ReadUInt32();
        if (expectedChannelId != 0 && channelId != expectedChannelId)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, $"Chunk for channel {channelId} on channel {expectedChannelId}.");
        }

        ChannelId = channelId;
        var asymmetric = chunk.MessageType == MessageTypes.Open;
        uint tokenId = 0;
        if (asymmetric)
        {
            var policy = decoder.ReadString();
            var certificate = decoder.ReadByteString();
            var thumbprint = decoder.ReadByteString();
            _security.CheckAsymmetricHeader(policy, certificate, thumbprint);
            LastAsymmetricHeader = (policy, certificate, thumbprint);
        }
        else
        {
            tokenId = decoder.ReadUInt32();
        }

        var headerSize = MessageTypes.HeaderSize + decoder.Position;
        var plain = _security.Unprotect(data.Span, headerSize, asymmetric, tokenId);
        if (plain < MessageChunker.SequenceHeaderSize || headerSize + plain > data.Length)
        {
            throw new ServiceResultException(StatusCodes.BadDecodingError, "Chunk too short for its sequence header.");
        }

        var sequenceNumber = BinaryPrimitives.ReadUInt32LittleEndian(data.Span[headerSize..]);
        var requestId = BinaryPrimitives.ReadUInt32LittleEndian(data.Span[(headerSize + 4)..]);
        if (!_sequence.Accept(sequenceNumber))
        {
            throw new ServiceResultException(StatusCodes.BadSequenceNumberInvalid, $"Sequence number {sequenceNumber} out of order.");
        }

        var body = data.Slice(headerSize + MessageChunker.SequenceHeaderSize, plain - MessageChunker.SequenceHeaderSize);
        if (chunk.ChunkType == MessageTypes.Abort)
        {
            _partials.Remove(requestId);
            var error = ErrorMessage.Decode(body);
            return new ReceivedMessage(chunk.MessageType, requestId, tokenId, default, error);
        }

        if (!_partials.TryGetValue(requestId, out var partial))
        {
            if (chunk.ChunkType == MessageTypes.Final)
            {
                CheckSize(body.Length, 1);
                return new ReceivedMessage(chunk.MessageType, requestId, tokenId, body);
            }

            partial = new Partial();
            _partials[requestId] = partial;
        }

        partial.Chunks++;
        partial.Length += body.Length;
        try
        {
            CheckSize(partial.Length, partial.Chunks);
        }
        catch
        {
            _partials.Remove(requestId);
            throw;
        }

        partial.Parts.Add(body.ToArray());
        if (chunk.ChunkType != MessageTypes.Final)
        {
            return null;
        }

        _partials.Remove(requestId);
        var whole = new byte[partial.Length];
        var at = 0;
        foreach (var part in partial.Parts)
        {
            part.Span.CopyTo(whole.AsSpan(at));
            at += part.Length;
        }

        return new ReceivedMessage(chunk.MessageType, requestId, tokenId, whole);
    }

    private void CheckSize(int length, int chunks)
    {
        if (_local.MaxMessageSize > 0 && length > _local.MaxMessageSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge, $"Message of more than {_local.MaxMessageSize} bytes (our MaxMessageSize).");
        }

        if (_local.MaxChunkCount > 0 && chunks > _local.MaxChunkCount)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge, $"Message of more than {_local.MaxChunkCount} chunks (our MaxChunkCount).");
        }
    }

    private sealed class Partial
    {
        public List<ReadOnlyMemory<byte>> Parts { get; } = [];

        public int Length { get; set; }

        public int Chunks { get; set; }
    }
}
