using System.Buffers.Binary;
using System.Net.Sockets;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Transport;

/// <summary>UA-TCP message types (OPC 10000-6 §7.1.2.2), as the first three header bytes read little-endian.</summary>
public static class MessageTypes
{
    public const int Hello = 'H' | ('E' << 8) | ('L' << 16);
    public const int Acknowledge = 'A' | ('C' << 8) | ('K' << 16);
    public const int Error = 'E' | ('R' << 8) | ('R' << 16);
    public const int ReverseHello = 'R' | ('H' << 8) | ('E' << 16);
    public const int Open = 'O' | ('P' << 8) | ('N' << 16);
    public const int Message = 'M' | ('S' << 8) | ('G' << 16);
    public const int Close = 'C' | ('L' << 8) | ('O' << 16);

    public const byte Final = (byte)'F';
    public const byte Intermediate = (byte)'C';
    public const byte Abort = (byte)'A';

    public const int HeaderSize = 8;

    public static string Name(int type) => new([(char)(type & 0xFF), (char)((type >> 8) & 0xFF), (char)((type >> 16) & 0xFF)]);

    public static void WriteHeader(Span<byte> destination, int messageType, byte chunkType, int size)
    {
        destination[0] = (byte)(messageType & 0xFF);
        destination[1] = (byte)((messageType >> 8) & 0xFF);
        destination[2] = (byte)((messageType >> 16) & 0xFF);
        destination[3] = chunkType;
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], size);
    }
}

/// <summary>The buffer sizes and message limits one side offers (Hello) or accepts (Acknowledge).</summary>
public sealed record TransportLimits
{
    /// <summary>Smallest buffer the protocol allows (OPC 10000-6 §7.1.2.3).</summary>
    public const int MinimumBufferSize = 8192;

    public int ReceiveBufferSize { get; init; } = 65536;

    public int SendBufferSize { get; init; } = 65536;

    /// <summary>Largest message this side accepts (0 = no limit; we always give one).</summary>
    public int MaxMessageSize { get; init; } = 64 * 1024 * 1024;

    /// <summary>Most chunks in a message this side accepts (0 = no limit; we always give one).</summary>
    public int MaxChunkCount { get; init; } = 4096;
}

/// <summary>Hello (client → server) and Acknowledge (server → client) bodies; both sides encode and decode them.</summary>
public sealed record HelloMessage(uint ProtocolVersion, int ReceiveBufferSize, int SendBufferSize, int MaxMessageSize, int MaxChunkCount, string? EndpointUrl)
{
    public const int MaxEndpointUrlLength = 4096;

    public byte[] ToChunk()
    {
        var encoder = new BinaryEncoder(64);
        encoder.Skip(MessageTypes.HeaderSize);
        encoder.WriteUInt32(ProtocolVersion);
        encoder.WriteInt32(ReceiveBufferSize);
        encoder.WriteInt32(SendBufferSize);
        encoder.WriteInt32(MaxMessageSize);
        encoder.WriteInt32(MaxChunkCount);
        encoder.WriteString(EndpointUrl);
        var chunk = encoder.ToArray();
        MessageTypes.WriteHeader(chunk, MessageTypes.Hello, MessageTypes.Final, chunk.Length);
        return chunk;
    }

    public static HelloMessage Decode(ReadOnlyMemory<byte> body)
    {
        var decoder = new BinaryDecoder(body, EncodingLimits.Default with { MaxStringLength = MaxEndpointUrlLength });
        return new HelloMessage(decoder.ReadUInt32(), decoder.ReadInt32(), decoder.ReadInt32(), decoder.ReadInt32(), decoder.ReadInt32(), decoder.ReadString());
    }
}

public sealed record AcknowledgeMessage(uint ProtocolVersion, int ReceiveBufferSize, int SendBufferSize, int MaxMessageSize, int MaxChunkCount)
{
    public byte[] ToChunk()
    {
        var chunk = new byte[MessageTypes.HeaderSize + 20];
        MessageTypes.WriteHeader(chunk, MessageTypes.Acknowledge, MessageTypes.Final, chunk.Length);
        var span = chunk.AsSpan(MessageTypes.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span, ProtocolVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], ReceiveBufferSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], SendBufferSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], MaxMessageSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], MaxChunkCount);
        return chunk;
    }

    public static AcknowledgeMessage Decode(ReadOnlyMemory<byte> body)
    {
        var decoder = new BinaryDecoder(body);
        return new AcknowledgeMessage(decoder.ReadUInt32(), decoder.ReadInt32(), decoder.ReadInt32(), decoder.ReadInt32(), decoder.ReadInt32());
    }
}

public sealed record ErrorMessage(uint Error, string? Reason)
{
    public byte[] ToChunk(int messageType = MessageTypes.Error, byte chunkType = MessageTypes.Final)
    {
        var encoder = new BinaryEncoder(64);
        encoder.Skip(MessageTypes.HeaderSize);
        encoder.WriteUInt32(Error);
        encoder.WriteString(Reason);
        var chunk = encoder.ToArray();
        MessageTypes.WriteHeader(chunk, messageType, chunkType, chunk.Length);
        return chunk;
    }

    public static ErrorMessage Decode(ReadOnlyMemory<byte> body)
    {
        var decoder = new BinaryDecoder(body, EncodingLimits.Default with { MaxStringLength = 4096 });
        return new ErrorMessage(decoder.ReadUInt32(), decoder.ReadString());
    }
}

/// <summary>One UA-TCP chunk as received: the whole chunk, header included (valid until the next receive).</summary>
public readonly record struct UaChunk(int MessageType, byte ChunkType, ReadOnlyMemory<byte> Data)
{
    public ReadOnlyMemory<byte> Body => Data[MessageTypes.HeaderSize..];
}

/// <summary>
/// Reads whole UA-TCP chunks from a stream into one reused buffer, checking the header (known type,
/// known chunk type, size within the negotiated receive buffer) before reading the rest. Used by
/// both sides.
/// </summary>
public sealed class UaTcpFramer
{
    private readonly Stream _stream;
    private byte[] _buffer;

    public UaTcpFramer(Stream stream, int maxChunkSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        MaxChunkSize = maxChunkSize;
        _buffer = new byte[Math.Max(MessageTypes.HeaderSize, Math.Min(maxChunkSize, 1 << 20))];
    }

    /// <summary>Largest chunk accepted (our receive buffer size once negotiated).</summary>
    public int MaxChunkSize { get; set; }

    public async ValueTask<UaChunk> ReadChunkAsync(CancellationToken cancellationToken)
    {
        await _stream.ReadExactlyAsync(_buffer.AsMemory(0, MessageTypes.HeaderSize), cancellationToken).ConfigureAwait(false);
        var header = ParseHeader(_buffer.AsSpan(0, MessageTypes.HeaderSize), MaxChunkSize);
        if (header.Size > _buffer.Length)
        {
            var grown = new byte[header.Size];
            _buffer.AsSpan(0, MessageTypes.HeaderSize).CopyTo(grown);
            _buffer = grown;
        }

        await _stream.ReadExactlyAsync(_buffer.AsMemory(MessageTypes.HeaderSize, header.Size - MessageTypes.HeaderSize), cancellationToken).ConfigureAwait(false);
        return new UaChunk(header.MessageType, header.ChunkType, _buffer.AsMemory(0, header.Size));
    }

    /// <summary>Checks a chunk header; throws <see cref="ServiceResultException"/> with the status to send back in an ERR.</summary>
    public static (int MessageType, byte ChunkType, int Size) ParseHeader(ReadOnlySpan<byte> header, int maxChunkSize)
    {
        var type = header[0] | (header[1] << 8) | (header[2] << 16);
        var chunkType = header[3];
        var size = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (type is not (MessageTypes.Hello or MessageTypes.Acknowledge or MessageTypes.Error or MessageTypes.ReverseHello or MessageTypes.Open or MessageTypes.Message or MessageTypes.Close))
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Unknown UA-TCP message type 0x{type:X6}.");
        }

        if (chunkType is not (MessageTypes.Final or MessageTypes.Intermediate or MessageTypes.Abort)
            || (chunkType != MessageTypes.Final && type is not (MessageTypes.Message)))
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Chunk type '{(char)chunkType}' is not allowed for {MessageTypes.Name(type)}.");
        }

        if (size < MessageTypes.HeaderSize || size > maxChunkSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge, $"Chunk of {size} bytes is outside 8..{maxChunkSize}.");
        }

        return (type, chunkType, size);
    }
}

/// <summary>A connected UA-TCP transport after Hello/Acknowledge: whole chunks in, whole chunks out.</summary>
public interface IUaTransport : IAsyncDisposable
{
    /// <summary>What the peer accepts from us (its receive buffer, message size and chunk count).</summary>
    TransportLimits Remote { get; }

    /// <summary>What we accept from the peer.</summary>
    TransportLimits Local { get; }

    /// <summary>Sends whole chunks; the chunks of one message must be given in one call so they are not interleaved.</summary>
    ValueTask SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken);

    /// <summary>Receives the next chunk (valid until the next call).</summary>
    ValueTask<UaChunk> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Closes the connection without a goodbye (the peer sees the socket close).</summary>
    void Abort();
}

/// <summary>The client side of UA-TCP on a socket: connect, Hello, Acknowledge (or Error), then chunks.</summary>
public sealed class UaTcpClientTransport : IUaTransport
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly UaTcpFramer _framer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _disposed;

    private UaTcpClientTransport(Socket socket, TransportLimits local)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _framer = new UaTcpFramer(_stream, local.ReceiveBufferSize);
        Local = local;
        Remote = local;
    }

    public TransportLimits Remote { get; private set; }

    public TransportLimits Local { get; private set; }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/> and negotiates buffer sizes with
    /// Hello/Acknowledge (OPC 10000-6 §7.1.2.3). The whole handshake is bounded by <paramref name="timeout"/>
    /// (a stalled server that accepts the TCP connection but never answers is caught here).
    /// </summary>
    public static async Task<UaTcpClientTransport> ConnectAsync(string host, int port, string endpointUrl, TransportLimits limits, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        UaTcpClientTransport? transport = null;
        try
        {
            try
            {
                await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new ServiceResultException(StatusCodes.BadNotConnected, $"Cannot connect to {host}:{port}: {ex.Message}", ex);
            }

            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, limits.ReceiveBufferSize * 4);
            transport = new UaTcpClientTransport(socket, limits);
            var hello = new HelloMessage(0, limits.ReceiveBufferSize, limits.SendBufferSize, limits.MaxMessageSize, limits.MaxChunkCount, endpointUrl);
            await transport._stream.WriteAsync(hello.ToChunk(), cts.Token).ConfigureAwait(false);
            transport._framer.MaxChunkSize = TransportLimits.MinimumBufferSize;
            var reply = await transport._framer.ReadChunkAsync(cts.Token).ConfigureAwait(false);
            if (reply.MessageType == MessageTypes.Error)
            {
                var error = ErrorMessage.Decode(reply.Body);
                throw new ServiceResultException(error.Error, $"Server refused the connection: {StatusCodes.Name(error.Error)} {error.Reason}".TrimEnd());
            }

            if (reply.MessageType != MessageTypes.Acknowledge)
            {
                throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Expected ACK, got {MessageTypes.Name(reply.MessageType)}.");
            }

            var ack = AcknowledgeMessage.Decode(reply.Body);
            if (ack.ReceiveBufferSize < TransportLimits.MinimumBufferSize || ack.SendBufferSize < TransportLimits.MinimumBufferSize)
            {
                throw new ServiceResultException(StatusCodes.BadTcpInternalError, $"Server's buffer sizes ({ack.ReceiveBufferSize}/{ack.SendBufferSize}) are below the minimum of 8192.");
            }

            // The server may only lower what we offered; what it may send us is at most our receive buffer.
            transport.Remote = new TransportLimits
            {
                ReceiveBufferSize = Math.Min(ack.ReceiveBufferSize, limits.SendBufferSize),
                SendBufferSize = Math.Min(ack.SendBufferSize, limits.ReceiveBufferSize),
                MaxMessageSize = ack.MaxMessageSize,
                MaxChunkCount = ack.MaxChunkCount,
            };
            transport._framer.MaxChunkSize = limits.ReceiveBufferSize;
            return transport;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or UaDecodingException && !cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietly(transport, socket).ConfigureAwait(false);
            var code = ex is OperationCanceledException ? StatusCodes.BadTimeout : StatusCodes.BadNotConnected;
            var why = ex is OperationCanceledException ? $"no answer to Hello within {timeout.TotalSeconds:0.#} s" : ex.Message;
            throw new ServiceResultException(code, $"Cannot open UA-TCP to {host}:{port}: {why}", ex);
        }
        catch
        {
            await DisposeQuietly(transport, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async ValueTask DisposeQuietly(UaTcpClientTransport? transport, Socket socket)
    {
        if (transport is not null)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            socket.Dispose();
        }
    }

    public async ValueTask SendAsync(IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                await _stream.WriteAsync(chunks[i], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new ServiceResultException(StatusCodes.BadConnectionClosed, "The connection was closed while sending: " + ex.Message, ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask<UaChunk> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _framer.ReadChunkAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or EndOfStreamException)
        {
            throw new ServiceResultException(StatusCodes.BadConnectionClosed, "The server closed the connection.", ex);
        }
    }

    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        _socket.Close();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Abort();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _sendLock.Dispose();
    }
}
