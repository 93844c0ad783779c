using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Transport;
using FsCheck.Xunit;

namespace FactoryEdge.OpcUa.Tests;

public sealed class ChunkingTests
{
    private static readonly NoneChannelSecurity None = new();

    private static List<ReadOnlyMemory<byte>> Chunks(byte[] body, TransportLimits remote, SequenceNumbers? sequence = null, uint requestId = 5) =>
        MessageChunker.Build(MessageTypes.Message, 7, 1, [], body, requestId, sequence ?? new SequenceNumbers(), None, remote);

    private static UaChunk AsChunk(ReadOnlyMemory<byte> data) => new(data.Span[0] | (data.Span[1] << 8) | (data.Span[2] << 16), data.Span[3], data);

    [Fact]
    public void Build_BodyLargerThanBuffer_SplitsAndReassembles()
    {
        var body = Enumerable.Range(0, 50_000).Select(static i => (byte)i).ToArray();
        var remote = new TransportLimits { ReceiveBufferSize = 8192 };

        var chunks = Chunks(body, remote);
        var assembler = new ChunkAssembler(None, new TransportLimits());
        ReceivedMessage? message = null;
        foreach (var chunk in chunks)
        {
            Assert.True(chunk.Length <= 8192);
            message = assembler.Add(AsChunk(chunk), 7);
        }

        Assert.Equal(7, chunks.Count);
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(MessageTypes.Intermediate, c.Span[3]));
        Assert.Equal(MessageTypes.Final, chunks[^1].Span[3]);
        Assert.NotNull(message);
        Assert.Equal(5u, message.RequestId);
        Assert.Equal(body, message.Body.ToArray());
    }

    [Fact]
    public void Build_MoreChunksThanPeerAccepts_BadRequestTooLarge()
    {
        var error = Assert.Throws<ServiceResultException>(() => Chunks(new byte[100_000], new TransportLimits { ReceiveBufferSize = 8192, MaxChunkCount = 3 }));

        Assert.Equal(StatusCodes.BadRequestTooLarge, error.StatusCode);
        Assert.Contains("accepts 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_MessageBeyondOurMaxMessageSize_BadTcpMessageTooLarge()
    {
        var chunks = Chunks(new byte[30_000], new TransportLimits { ReceiveBufferSize = 8192 });
        var assembler = new ChunkAssembler(None, new TransportLimits { MaxMessageSize = 20_000 });

        var error = Assert.Throws<ServiceResultException>(() =>
        {
            foreach (var chunk in chunks)
            {
                assembler.Add(AsChunk(chunk), 7);
            }
        });

        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, error.StatusCode);
    }

    [Fact]
    public void Add_MoreChunksThanOurMaxChunkCount_BadTcpMessageTooLarge()
    {
        var chunks = Chunks(new byte[30_000], new TransportLimits { ReceiveBufferSize = 8192 });
        var assembler = new ChunkAssembler(None, new TransportLimits { MaxChunkCount = 2 });

        Assert.Throws<ServiceResultException>(() =>
        {
            foreach (var chunk in chunks)
            {
                assembler.Add(AsChunk(chunk), 7);
            }
        });
    }

    [Fact]
    public void Add_SequenceNumberSkipped_BadSequenceNumberInvalid()
    {
        var sequence = new SequenceNumbers();
        var first = Chunks([1], new TransportLimits(), sequence);
        sequence.Next();
        var third = Chunks([2], new TransportLimits(), sequence);
        var assembler = new ChunkAssembler(None, new TransportLimits());
        assembler.Add(AsChunk(first[0]), 7);

        var error = Assert.Throws<ServiceResultException>(() => assembler.Add(AsChunk(third[0]), 7));

        Assert.Equal(StatusCodes.BadSequenceNumberInvalid, error.StatusCode);
    }

    [Fact]
    public void Add_ChunkOfAnotherChannel_BadSecureChannelIdInvalid()
    {
        var chunk = Chunks([1], new TransportLimits())[0];

        var error = Assert.Throws<ServiceResultException>(() => new ChunkAssembler(None, new TransportLimits()).Add(AsChunk(chunk), 8));

        Assert.Equal(StatusCodes.BadSecureChannelIdInvalid, error.StatusCode);
    }

    [Fact]
    public void Add_AbortChunk_DropsThePartialMessageAndReportsTheError()
    {
        var sequence = new SequenceNumbers();
        var chunks = Chunks(new byte[20_000], new TransportLimits { ReceiveBufferSize = 8192 }, sequence);
        var abortBody = new ErrorMessage(StatusCodes.BadResponseTooLarge, "too big").ToChunk()[MessageTypes.HeaderSize..];
        // The abort follows the first chunk (sequence number 2) in place of the rest of the message.
        var abort = MessageChunker.Build(MessageTypes.Message, 7, 1, [], abortBody, 5, new SequenceNumbers(2), None, new TransportLimits())[0].ToArray();
        abort[3] = MessageTypes.Abort;
        var assembler = new ChunkAssembler(None, new TransportLimits());

        Assert.Null(assembler.Add(AsChunk(chunks[0]), 7));
        var message = assembler.Add(AsChunk(abort), 7);

        Assert.NotNull(message?.Abort);
        Assert.Equal(StatusCodes.BadResponseTooLarge, message.Abort.Error);
        Assert.Equal("too big", message.Abort.Reason);
    }

    [Fact]
    public void SequenceNumbers_NearTheTop_WrapBelow1024()
    {
        var sequence = new SequenceNumbers(uint.MaxValue - 1024);
        var receiver = new SequenceNumbers();

        var last = sequence.Next();
        var wrapped = sequence.Next();

        Assert.Equal(1u, wrapped);
        Assert.True(receiver.Accept(last));
        Assert.True(receiver.Accept(wrapped));
        Assert.False(receiver.Accept(5));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'X', (byte)'Y', (byte)'Z', (byte)'F', 16, 0, 0, 0 }, StatusCodes.BadTcpMessageTypeInvalid)]
    [InlineData(new byte[] { (byte)'M', (byte)'S', (byte)'G', (byte)'Q', 16, 0, 0, 0 }, StatusCodes.BadTcpMessageTypeInvalid)]
    [InlineData(new byte[] { (byte)'O', (byte)'P', (byte)'N', (byte)'C', 16, 0, 0, 0 }, StatusCodes.BadTcpMessageTypeInvalid)]
    [InlineData(new byte[] { (byte)'M', (byte)'S', (byte)'G', (byte)'F', 0, 0, 1, 0 }, StatusCodes.BadTcpMessageTooLarge)]
    [InlineData(new byte[] { (byte)'M', (byte)'S', (byte)'G', (byte)'F', 4, 0, 0, 0 }, StatusCodes.BadTcpMessageTooLarge)]
    public void ParseHeader_BadHeader_RejectedWithStatus(byte[] header, uint status)
    {
        var error = Assert.Throws<ServiceResultException>(() => UaTcpFramer.ParseHeader(header, 8192));

        Assert.Equal(status, error.StatusCode);
    }

    [Fact]
    public void HelloAndAcknowledge_EncodeAndDecode()
    {
        var hello = new HelloMessage(0, 65536, 32768, 1 << 24, 512, "opc.tcp://host:4840");
        var ack = new AcknowledgeMessage(0, 8192, 8192, 1000, 5);

        var helloChunk = hello.ToChunk();
        var ackChunk = ack.ToChunk();

        Assert.Equal("HELF"u8.ToArray(), helloChunk[..4]);
        Assert.Equal(helloChunk.Length, BitConverter.ToInt32(helloChunk, 4));
        Assert.Equal(hello, HelloMessage.Decode(helloChunk.AsMemory(8)));
        Assert.Equal(28, ackChunk.Length);
        Assert.Equal(ack, AcknowledgeMessage.Decode(ackChunk.AsMemory(8)));
    }

    [Property(MaxTest = 300)]
    public bool Add_ArbitraryChunkBytes_FailsOnlyWithProtocolErrors(byte[] bytes)
    {
        bytes ??= [];
        var data = new byte[bytes.Length + 8];
        "MSGF"u8.CopyTo(data);
        BitConverter.GetBytes(data.Length).CopyTo(data, 4);
        bytes.CopyTo(data, 8);
        try
        {
            new ChunkAssembler(None, new TransportLimits()).Add(new UaChunk(MessageTypes.Message, MessageTypes.Final, data), 0);
            return true;
        }
        catch (Exception ex) when (ex is ServiceResultException or UaDecodingException)
        {
            return true;
        }
    }

    [Property(MaxTest = 100)]
    public bool Build_AnyBodyAndBuffer_ReassemblesExactly(byte[] body, ushort extra)
    {
        body ??= [];
        var remote = new TransportLimits { ReceiveBufferSize = 8192 + (extra % 4096), MaxChunkCount = 0 };
        var assembler = new ChunkAssembler(None, new TransportLimits { MaxChunkCount = 0 });
        ReceivedMessage? message = null;
        foreach (var chunk in Chunks(body, remote))
        {
            message = assembler.Add(AsChunk(chunk), 7);
        }

        return message is not null && message.Body.Span.SequenceEqual(body);
    }
}
