using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Transport;

namespace FactoryEdge.OpcUa.Tests;

/// <summary>
/// A scripted OPC UA peer on loopback, built from the stack's own server-side pieces (framer, chunk
/// assembler, chunker): answers Hello, OpenSecureChannel and whatever <see cref="Handler"/> returns.
/// </summary>
internal sealed class FakeUaServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private uint _tokenId;

    public FakeUaServer()
    {
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public string Url => "opc.tcp://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>What we acknowledge to the client (our receive buffer is what it may send).</summary>
    public TransportLimits Limits { get; set; } = new() { ReceiveBufferSize = 8192, SendBufferSize = 8192, MaxMessageSize = 1 << 20, MaxChunkCount = 256 };

    /// <summary>Answer to Hello with this ERR instead of an ACK.</summary>
    public ErrorMessage? RefuseWith { get; set; }

    public uint RevisedLifetimeMs { get; set; } = 600_000;

    /// <summary>Answers a request (null: no answer at all).</summary>
    public Func<IServiceRequest, IServiceResponse?> Handler { get; set; } = static _ => null;

    public ConcurrentQueue<IServiceRequest> Requests { get; } = new();

    public ConcurrentQueue<OpenSecureChannelRequest> Opens { get; } = new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket);
        var framer = new UaTcpFramer(stream, 1 << 20);
        var security = new NoneChannelSecurity();
        var assembler = new ChunkAssembler(security, Limits);
        var sequence = new SequenceNumbers(1);
        TransportLimits? remote = null;
        const uint channelId = 42;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var chunk = await framer.ReadChunkAsync(_stop.Token);
                if (chunk.MessageType == MessageTypes.Hello)
                {
                    var hello = HelloMessage.Decode(chunk.Body);
                    if (RefuseWith is { } refusal)
                    {
                        await stream.WriteAsync(refusal.ToChunk());
                        return;
                    }

                    remote = new TransportLimits { ReceiveBufferSize = Math.Min(hello.ReceiveBufferSize, Limits.SendBufferSize), MaxMessageSize = hello.MaxMessageSize, MaxChunkCount = hello.MaxChunkCount };
                    await stream.WriteAsync(new AcknowledgeMessage(0, Limits.ReceiveBufferSize, Limits.SendBufferSize, Limits.MaxMessageSize, Limits.MaxChunkCount).ToChunk());
                    continue;
                }

                var message = assembler.Add(chunk, 0);
                if (message is null)
                {
                    continue;
                }

                if (message.MessageType == MessageTypes.Close)
                {
                    return;
                }

                var request = (IServiceRequest)new BinaryDecoder(message.Body).ReadMessage();
                IServiceResponse? response;
                if (request is OpenSecureChannelRequest open)
                {
                    Opens.Enqueue(open);
                    response = new OpenSecureChannelResponse { SecurityToken = new ChannelSecurityToken { ChannelId = channelId, TokenId = Interlocked.Increment(ref _tokenId), RevisedLifetime = RevisedLifetimeMs } };
                }
                else
                {
                    Requests.Enqueue(request);
                    response = Handler(request);
                }

                if (response is null)
                {
                    continue;
                }

                response.ResponseHeader.RequestHandle = request.RequestHeader.RequestHandle;
                var encoder = new BinaryEncoder();
                encoder.WriteMessage(response);
                var type = request is OpenSecureChannelRequest ? MessageTypes.Open : MessageTypes.Message;
                var chunks = MessageChunker.Build(type, channelId, _tokenId, MessageChunker.AsymmetricHeader(security), encoder.Written, message.RequestId, sequence, security, remote!, StatusCodes.BadResponseTooLarge);
                foreach (var c in chunks)
                {
                    await stream.WriteAsync(c);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException or ServiceResultException or UaDecodingException or ObjectDisposedException)
        {
            // The client went away or sent garbage: drop the connection.
        }
    }

    /// <summary>A handler that answers the server-info read of a new session and then delegates.</summary>
    public static Func<IServiceRequest, IServiceResponse?> SessionHandler(uint maxNodesPerRead, Func<IServiceRequest, IServiceResponse?> other) => request => request switch
    {
        CreateSessionRequest => new CreateSessionResponse { SessionId = new NodeId(1u, 1), AuthenticationToken = new NodeId(Guid.NewGuid(), 1), RevisedSessionTimeout = 60000, ServerEndpoints = [new EndpointDescription { SecurityMode = MessageSecurityMode.None, SecurityPolicyUri = SecurityPolicyUris.None, UserIdentityTokens = [new UserTokenPolicy { PolicyId = "anon", TokenType = UserTokenType.Anonymous }] }] },
        ActivateSessionRequest => new ActivateSessionResponse(),
        ReadRequest read when read.NodesToRead.Length > 0 && read.NodesToRead[0].NodeId.Equals(new NodeId(WellKnownNodes.NamespaceArray)) => new ReadResponse
        {
            Results =
            [
                new DataValue { Value = new Variant(BuiltInType.String, new string?[] { "http://opcfoundation.org/UA/", "urn:fake", "urn:plant" }, true) },
                new DataValue { Value = new Variant(maxNodesPerRead) },
                new DataValue { Value = new Variant(0u) },
                new DataValue { StatusCode = new StatusCode(StatusCodes.BadNodeIdUnknown) },
                new DataValue { Value = new Variant(0u) },
            ],
        },
        CloseSessionRequest => new CloseSessionResponse(),
        _ => other(request),
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
