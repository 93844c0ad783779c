using System.Net.Sockets;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Transport;

namespace FactoryEdge.OpcUa.Server;

/// <summary>
/// The channel security of a server connection before the client has said which mode it wants: the
/// OpenSecureChannel request is protected the same way in Sign and SignAndEncrypt, so the server
/// starts with one and switches once it has decoded the request's SecurityMode.
/// </summary>
internal sealed class SwitchableChannelSecurity(IChannelSecurity inner) : IChannelSecurity
{
    public IChannelSecurity Inner { get; set; } = inner;

    public string SecurityPolicyUri => Inner.SecurityPolicyUri;

    public MessageSecurityMode SecurityMode => Inner.SecurityMode;

    public byte[]? LocalCertificate => Inner.LocalCertificate;

    public byte[]? RemoteCertificateThumbprint => Inner.RemoteCertificateThumbprint;

    public byte[] CreateNonce() => Inner.CreateNonce();

    public void OnTokenIssued(uint tokenId, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce) => Inner.OnTokenIssued(tokenId, clientNonce, serverNonce);

    public void CheckAsymmetricHeader(string? securityPolicyUri, ReadOnlySpan<byte> senderCertificate, ReadOnlySpan<byte> receiverThumbprint) =>
        Inner.CheckAsymmetricHeader(securityPolicyUri, senderCertificate, receiverThumbprint);

    public int MaxPlainTextSize(int chunkSize, int headerSize, bool asymmetric) => Inner.MaxPlainTextSize(chunkSize, headerSize, asymmetric);

    public int Protect(Span<byte> chunk, int headerSize, int plainTextSize, bool asymmetric, uint tokenId) => Inner.Protect(chunk, headerSize, plainTextSize, asymmetric, tokenId);

    public int Unprotect(Span<byte> chunk, int headerSize, bool asymmetric, uint tokenId) => Inner.Unprotect(chunk, headerSize, asymmetric, tokenId);
}

/// <summary>
/// One client connection of <see cref="UaServer"/>: UA-TCP Hello/Acknowledge, then one secure channel
/// (OpenSecureChannel Issue and Renew, CloseSecureChannel) whose requests go to the server's services.
/// Responses are chunked and sent under a lock so the chunks of two responses never interleave and
/// sequence numbers follow the order on the wire.
/// </summary>
internal sealed class ServerConnection : IAsyncDisposable
{
    private readonly UaServer _server;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly UaTcpFramer _framer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SequenceNumbers _sendSequence = new();
    private readonly CancellationTokenSource _closing;
    private SwitchableChannelSecurity? _security;
    private ChunkAssembler? _assembler;
    private byte[] _asymmetricHeader = [];
    private uint _tokenId;
    private uint _previousTokenId;
    private int _closed;

    public ServerConnection(UaServer server, Socket socket, CancellationToken serverStopping)
    {
        _server = server;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _framer = new UaTcpFramer(_stream, TransportLimits.MinimumBufferSize);
        _closing = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        Remote = new TransportLimits { ReceiveBufferSize = TransportLimits.MinimumBufferSize };
        RemoteEndPoint = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    public uint ChannelId { get; private set; }

    /// <summary>A SecurityPolicy None channel to a server without a None endpoint: GetEndpoints only.</summary>
    public bool DiscoveryOnly { get; private set; }

    public string RemoteEndPoint { get; }

    /// <summary>What the client accepts from us.</summary>
    public TransportLimits Remote { get; private set; }

    public IChannelSecurity? Security => _security?.Inner;

    public bool IsClosed => Volatile.Read(ref _closed) == 1;

    public CancellationToken Closing => _closing.Token;

    public async Task RunAsync()
    {
        try
        {
            if (!await HandshakeAsync().ConfigureAwait(false))
            {
                return;
            }

            while (!_closing.IsCancellationRequested)
            {
                var chunk = await _framer.ReadChunkAsync(_closing.Token).ConfigureAwait(false);
                if (chunk.MessageType is not (MessageTypes.Open or MessageTypes.Message or MessageTypes.Close))
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Unexpected {MessageTypes.Name(chunk.MessageType)} on an open connection.");
                }

                if (_assembler is null)
                {
                    if (chunk.MessageType != MessageTypes.Open)
                    {
                        throw new ServiceResultException(StatusCodes.BadTcpSecureChannelUnknown, $"{MessageTypes.Name(chunk.MessageType)} before OpenSecureChannel.");
                    }

                    CreateSecurity(chunk);
                }

                var message = _assembler!.Add(chunk, ChannelId);
                if (message is null)
                {
                    continue;
                }

                if (message.Abort is not null)
                {
                    continue;
                }

                if (message.MessageType == MessageTypes.Close)
                {
                    _server.OnChannelClosed(this, graceful: true);
                    return;
                }

                if (message.MessageType == MessageTypes.Message && message.TokenId != _tokenId && message.TokenId != _previousTokenId)
                {
                    throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown, $"Token {message.TokenId} is not the channel's ({_tokenId}).");
                }

                await HandleMessageAsync(message).ConfigureAwait(false);
            }
        }
        catch (ServiceResultException ex)
        {
            await SendErrorAsync(ex.StatusCode, ex.Message).ConfigureAwait(false);
            _server.OnConnectionError(this, ex.StatusName + " " + ex.Message);
        }
        catch (UaDecodingException ex)
        {
            await SendErrorAsync(ex.StatusCode, ex.Message).ConfigureAwait(false);
            _server.OnConnectionError(this, StatusCodes.Name(ex.StatusCode) + " " + ex.Message);
        }
        catch (Exception ex) when (ex is IOException or SocketException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or we are closing.
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<bool> HandshakeAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        timeout.CancelAfter(_server.Options.HelloTimeout);
        UaChunk chunk;
        try
        {
            chunk = await _framer.ReadChunkAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_closing.IsCancellationRequested)
        {
            return false;
        }

        if (chunk.MessageType != MessageTypes.Hello)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Expected HEL, got {MessageTypes.Name(chunk.MessageType)}.");
        }

        var hello = HelloMessage.Decode(chunk.Body);
        if (hello.ReceiveBufferSize < TransportLimits.MinimumBufferSize || hello.SendBufferSize < TransportLimits.MinimumBufferSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpNotEnoughResources, $"Buffer sizes {hello.ReceiveBufferSize}/{hello.SendBufferSize} are below the minimum of 8192.");
        }

        if (hello.EndpointUrl is { Length: > 0 } url && !url.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServiceResultException(StatusCodes.BadTcpEndpointUrlInvalid, $"Endpoint URL '{url}' is not opc.tcp://.");
        }

        var local = _server.Options.Limits;
        var receive = Math.Min(local.ReceiveBufferSize, hello.SendBufferSize);
        var send = Math.Min(local.SendBufferSize, hello.ReceiveBufferSize);
        Remote = new TransportLimits { ReceiveBufferSize = send, SendBufferSize = receive, MaxMessageSize = hello.MaxMessageSize, MaxChunkCount = hello.MaxChunkCount };
        await _stream.WriteAsync(new AcknowledgeMessage(0, receive, send, local.MaxMessageSize, local.MaxChunkCount).ToChunk(), _closing.Token).ConfigureAwait(false);
        _framer.MaxChunkSize = receive;
        return true;
    }

    private void CreateSecurity(UaChunk chunk)
    {
        // Peek at the asymmetric header: the policy decides which security verifies the chunk.
        var decoder = new BinaryDecoder(chunk.Data[(MessageTypes.HeaderSize + 4)..], EncodingLimits.Default with { MaxStringLength = 65536 });
        var policy = decoder.ReadString();
        var certificate = decoder.ReadByteString();
        var endpoint = _server.FindEndpoint(policy);
        if (endpoint is null && policy == SecurityPolicyUris.None)
        {
            // Discovery: a None channel for GetEndpoints even when no None endpoint is offered (OPC 10000-4 §5.4).
            endpoint = ServerSecurityEndpoint.None;
            DiscoveryOnly = true;
        }

        if (endpoint is null)
        {
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{policy}' is not offered by this server.");
        }

        _security = new SwitchableChannelSecurity(endpoint.CreateSecurity(certificate, endpoint.Mode));
        _assembler = new ChunkAssembler(_security, _server.Options.Limits);
    }

    private async Task HandleMessageAsync(ReceivedMessage message)
    {
        var decoder = new BinaryDecoder(message.Body, EncodingLimits.Default with { MaxMessageSize = _server.Options.Limits.MaxMessageSize });
        var typeId = decoder.ReadNodeId();
        var request = EncodeableFactory.Create(typeId) as IServiceRequest;
        if (request is null)
        {
            // A service we do not implement: answer from its request header alone.
            var header = new RequestHeader();
            header.Decode(decoder);
            var fault = new ServiceFault();
            fault.ResponseHeader.ServiceResult = StatusCodes.BadServiceUnsupported;
            fault.ResponseHeader.RequestHandle = header.RequestHandle;
            _server.OnUnsupported(this, typeId.ToString());
            await SendResponseAsync(fault, message.RequestId, message.TokenId, MessageTypes.Message).ConfigureAwait(false);
            return;
        }

        request.Decode(decoder);
        if (message.MessageType == MessageTypes.Open)
        {
            if (request is not OpenSecureChannelRequest open)
            {
                throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, "OPN chunk without an OpenSecureChannelRequest.");
            }

            await OpenAsync(open, message.RequestId).ConfigureAwait(false);
            return;
        }

        if (request is CloseSecureChannelRequest)
        {
            _server.OnChannelClosed(this, graceful: true);
            await CloseAsync().ConfigureAwait(false);
            return;
        }

        if (ChannelId == 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "Request before the channel was opened.");
        }

        await _server.DispatchAsync(this, request, message.RequestId, message.TokenId).ConfigureAwait(false);
    }

    private async Task OpenAsync(OpenSecureChannelRequest open, uint requestId)
    {
        var security = _security!;
        var now = _server.Time.GetUtcNow().UtcDateTime;
        if (open.RequestType == SecurityTokenRequestType.Issue)
        {
            if (ChannelId != 0)
            {
                throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "OpenSecureChannel Issue on a channel that is open already.");
            }

            var endpoint = DiscoveryOnly && open.SecurityMode == MessageSecurityMode.None ? ServerSecurityEndpoint.None : _server.FindEndpoint(security.SecurityPolicyUri, open.SecurityMode);
            if (endpoint is null)
            {
                throw new ServiceResultException(UaServer.BadSecurityModeRejected, $"Security mode {open.SecurityMode} with policy {security.SecurityPolicyUri} is not offered by this server.");
            }

            if (open.SecurityMode != security.SecurityMode)
            {
                // Same policy, another mode: the client's certificate is known now.
                var certificate = _assembler!.LastAsymmetricHeader.Certificate;
                security.Inner = endpoint.CreateSecurity(certificate, open.SecurityMode);
                security.Inner.CheckAsymmetricHeader(_assembler.LastAsymmetricHeader.PolicyUri, certificate, _assembler.LastAsymmetricHeader.Thumbprint);
            }

            ChannelId = _server.NextChannelId();
            _asymmetricHeader = MessageChunker.AsymmetricHeader(security);
            _server.OnChannelOpened(this);
        }
        else if (ChannelId == 0)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, "OpenSecureChannel Renew before Issue.");
        }

        var serverNonce = security.CreateNonce();
        var tokenId = _tokenId + 1;
        security.OnTokenIssued(tokenId, open.ClientNonce ?? [], serverNonce);
        _previousTokenId = _tokenId;
        _tokenId = tokenId;
        var lifetime = Math.Clamp(open.RequestedLifetime == 0 ? _server.Options.MaxTokenLifetimeMs : open.RequestedLifetime, _server.Options.MinTokenLifetimeMs, _server.Options.MaxTokenLifetimeMs);
        var response = new OpenSecureChannelResponse
        {
            ServerProtocolVersion = 0,
            SecurityToken = new ChannelSecurityToken { ChannelId = ChannelId, TokenId = tokenId, CreatedAt = now, RevisedLifetime = lifetime },
            ServerNonce = serverNonce,
        };
        response.ResponseHeader.RequestHandle = open.RequestHeader.RequestHandle;
        response.ResponseHeader.Timestamp = now;
        await SendResponseAsync(response, requestId, tokenId, MessageTypes.Open).ConfigureAwait(false);
    }

    /// <summary>Sends a response (or ServiceFault) to request <paramref name="requestId"/>; false when the connection is gone.</summary>
    public async Task<bool> SendResponseAsync(IServiceResponse response, uint requestId, uint tokenId, int messageType = MessageTypes.Message)
    {
        if (IsClosed)
        {
            return false;
        }

        var encoder = new BinaryEncoder(4096);
        encoder.WriteMessage(response);
        try
        {
            await _sendLock.WaitAsync(_closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        try
        {
            List<ReadOnlyMemory<byte>> chunks;
            try
            {
                chunks = MessageChunker.Build(messageType, ChannelId, tokenId == 0 ? _tokenId : tokenId, _asymmetricHeader, encoder.Written, requestId, _sendSequence, _security!, Remote, StatusCodes.BadResponseTooLarge);
            }
            catch (ServiceResultException ex) when (ex.StatusCode == StatusCodes.BadResponseTooLarge && response is not ServiceFault)
            {
                var fault = new ServiceFault();
                fault.ResponseHeader.RequestHandle = response.ResponseHeader.RequestHandle;
                fault.ResponseHeader.ServiceResult = StatusCodes.BadResponseTooLarge;
                encoder.Reset();
                encoder.WriteMessage(fault);
                chunks = MessageChunker.Build(messageType, ChannelId, tokenId == 0 ? _tokenId : tokenId, _asymmetricHeader, encoder.Written, requestId, _sendSequence, _security!, Remote, StatusCodes.BadResponseTooLarge);
            }

            foreach (var chunk in chunks)
            {
                await _stream.WriteAsync(chunk, _closing.Token).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Abort();
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendErrorAsync(uint status, string reason)
    {
        if (IsClosed)
        {
            return;
        }

        try
        {
            await _sendLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            try
            {
                var text = reason.Length > 1024 ? reason[..1024] : reason;
                await _stream.WriteAsync(new ErrorMessage(status, text).ToChunk(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            // Best effort.
        }
    }

    /// <summary>Closes the connection without a goodbye (the client sees the socket close).</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        _socket.Close();
    }

    private Task CloseAsync()
    {
        Abort();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        _server.OnConnectionGone(this);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
