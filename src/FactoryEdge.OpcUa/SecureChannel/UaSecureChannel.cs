using System.Collections.Concurrent;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.SecureChannel;

/// <summary>Settings of a client secure channel.</summary>
public sealed record SecureChannelOptions
{
    public TransportLimits Limits { get; init; } = new();

    public EncodingLimits EncodingLimits { get; init; } = EncodingLimits.Default;

    /// <summary>Bound on TCP connect + Hello/Acknowledge + OpenSecureChannel.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Default time a request may wait for its response.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Lifetime requested for each security token; renewed at 75 %.</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(60);
}

/// <summary>
/// The client side of a secure channel (OPC 10000-6 §6.7) over UA-TCP: OpenSecureChannel (Issue),
/// renewal of the security token at 75 % of its lifetime, CloseSecureChannel; requests sent as
/// chunked messages and matched to their responses by request id. Security (signing, encryption) is
/// the <see cref="IChannelSecurity"/> layer; this class only frames. When the connection fails every
/// pending request fails with the reason, and <see cref="Closed"/> completes.
/// </summary>
public sealed partial class UaSecureChannel : IAsyncDisposable
{
    private readonly IUaTransport _transport;
    private readonly IChannelSecurity _security;
    private readonly SecureChannelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChunkAssembler _assembler;
    private readonly SequenceNumbers _sendSequence = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<IServiceResponse>> _pending = new();
    private readonly TaskCompletionSource<ServiceResultException?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _asymmetricHeader;
    private readonly BinaryEncoder _encoder = new(4096);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Task _receiveLoop = Task.CompletedTask;
    private Task _renewLoop = Task.CompletedTask;
    private uint _requestId;
    private uint _tokenId;
    private uint _previousTokenId;
    private long _messagesReceived;
    private long _bytesReceived;
    private long _publishArrivals;
    private volatile bool _closing;

    private UaSecureChannel(IUaTransport transport, IChannelSecurity security, SecureChannelOptions options, TimeProvider time, ILogger logger, string endpointUrl)
    {
        _transport = transport;
        _security = security;
        _options = options;
        _time = time;
        _logger = logger;
        EndpointUrl = endpointUrl;
        _assembler = new ChunkAssembler(security, transport.Local);
        _asymmetricHeader = MessageChunker.AsymmetricHeader(security);
    }

    public string EndpointUrl { get; }

    public uint ChannelId { get; private set; }

    public uint TokenId => Volatile.Read(ref _tokenId);

    /// <summary>When the current token was issued and how long it lives.</summary>
    public (DateTime CreatedAt, TimeSpan Lifetime) Token { get; private set; }

    public int TokenRenewals { get; private set; }

    public TransportLimits RemoteLimits => _transport.Remote;

    public IChannelSecurity Security => _security;

    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Completes when the channel is closed: with null after <see cref="CloseAsync"/>, or with the failure.</summary>
    public Task<ServiceResultException?> Closed => _closed.Task;

    public bool IsOpen => !_closed.Task.IsCompleted;

    /// <summary>Connects (UA-TCP Hello/Acknowledge) and opens the channel (OpenSecureChannel Issue).</summary>
    public static async Task<UaSecureChannel> OpenAsync(string endpointUrl, IChannelSecurity security, SecureChannelOptions? options = null, ILogger? logger = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(security);
        options ??= new SecureChannelOptions();
        var (host, port) = EndpointUrls.Parse(endpointUrl);
        var transport = await UaTcpClientTransport.ConnectAsync(host, port, endpointUrl, options.Limits, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var channel = new UaSecureChannel(transport, security, options, time ?? TimeProvider.System, logger ?? NullLogger.Instance, endpointUrl);
        try
        {
            channel._receiveLoop = Task.Run(channel.ReceiveLoopAsync, CancellationToken.None);
            await channel.OpenOrRenewAsync(SecurityTokenRequestType.Issue, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            channel._renewLoop = Task.Run(channel.RenewLoopAsync, CancellationToken.None);
            return channel;
        }
        catch (ServiceResultException ex) when (security.LocalCertificate is { } ours && IsCertificateRefusal(ex.StatusCode))
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            var thumbprint = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(ours));
            throw new ServiceResultException(ex.StatusCode, $"{ex.Message} — the server refused the secure channel; most likely it does not trust this gateway's certificate {thumbprint}: trust it on the server (servers usually keep it in their rejected folder; 'factoryedge cert show' prints it)", ex);
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool IsCertificateRefusal(uint status) =>
        (status & 0xFFFF0000) is StatusCodes.BadSecurityChecksFailed or StatusCodes.BadCertificateUntrusted or StatusCodes.BadCertificateInvalid
            or StatusCodes.BadCertificateTimeInvalid or StatusCodes.BadCertificateUriInvalid or StatusCodes.BadCertificateHostNameInvalid
            or StatusCodes.BadCertificateUseNotAllowed or StatusCodes.BadCertificateRevocationUnknown or StatusCodes.BadCertificateRevoked;

    private async Task OpenOrRenewAsync(SecurityTokenRequestType type, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clientNonce = _security.CreateNonce();
        var request = new OpenSecureChannelRequest
        {
            ClientProtocolVersion = 0,
            RequestType = type,
            SecurityMode = _security.SecurityMode,
            ClientNonce = clientNonce,
            RequestedLifetime = (uint)Math.Clamp(_options.TokenLifetime.TotalMilliseconds, 10_000, uint.MaxValue),
        };
        var response = (OpenSecureChannelResponse)await SendAsync(MessageTypes.Open, request, timeout, cancellationToken).ConfigureAwait(false);
        var token = response.SecurityToken;
        if (type == SecurityTokenRequestType.Issue)
        {
            ChannelId = token.ChannelId;
        }
        else if (token.ChannelId != ChannelId)
        {
            throw new ServiceResultException(StatusCodes.BadSecureChannelIdInvalid, $"Renewal answered for channel {token.ChannelId}, not {ChannelId}.");
        }

        _security.OnTokenIssued(token.TokenId, clientNonce, response.ServerNonce ?? []);
        _previousTokenId = _tokenId;
        Volatile.Write(ref _tokenId, token.TokenId);
        Token = (token.CreatedAt, TimeSpan.FromMilliseconds(Math.Max(1000, token.RevisedLifetime)));
        if (type == SecurityTokenRequestType.Renew)
        {
            TokenRenewals++;
            Log.TokenRenewed(_logger, ChannelId, token.TokenId, token.RevisedLifetime);
        }
        else
        {
            Log.ChannelOpened(_logger, EndpointUrl, ChannelId, token.TokenId, token.RevisedLifetime, _transport.Remote.ReceiveBufferSize, _transport.Remote.MaxMessageSize, _transport.Remote.MaxChunkCount);
        }
    }

    private async Task RenewLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var wait = Token.Lifetime * 0.75;
                await Task.Delay(wait, _time, _stop.Token).ConfigureAwait(false);
                try
                {
                    await OpenOrRenewAsync(SecurityTokenRequestType.Renew, _options.RequestTimeout, _stop.Token).ConfigureAwait(false);
                }
                catch (ServiceResultException ex)
                {
                    Log.RenewFailed(_logger, ChannelId, ex.StatusName, ex.Message);
                    Fail(ex);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closing.
        }
    }

    /// <summary>
    /// Sends a request and waits for its response. A ServiceFault or a bad ServiceResult is thrown as
    /// a <see cref="ServiceResultException"/>, as are timeouts (BadTimeout) and a lost connection.
    /// </summary>
    public async Task<TResponse> SendRequestAsync<TResponse>(IServiceRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
        where TResponse : class, IServiceResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await SendAsync(MessageTypes.Message, request, timeout ?? _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return response as TResponse
            ?? throw new ServiceResultException(StatusCodes.BadUnexpectedError, $"Expected {typeof(TResponse).Name}, got {response.GetType().Name}.");
    }

    private async Task<IServiceResponse> SendAsync(int messageType, IServiceRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_closed.Task.IsCompleted)
        {
            throw _closed.Task.Result ?? new ServiceResultException(StatusCodes.BadSecureChannelClosed, "The secure channel is closed.");
        }

        var requestId = Interlocked.Increment(ref _requestId);
        var header = request.RequestHeader;
        header.RequestHandle = requestId;
        header.Timestamp = _time.GetUtcNow().UtcDateTime;
        if (header.TimeoutHint == 0)
        {
            header.TimeoutHint = (uint)Math.Clamp(timeout.TotalMilliseconds, 0, uint.MaxValue);
        }

        var pending = new TaskCompletionSource<IServiceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[requestId] = pending;
        try
        {
            // Sequence numbers must go out in order: encode, chunk and send under one lock.
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                _encoder.Reset();
                _encoder.WriteMessage(request);
                var chunks = MessageChunker.Build(messageType, ChannelId, TokenId, _asymmetricHeader, _encoder.Written, requestId, _sendSequence, _security, _transport.Remote);
                await _transport.SendAsync(chunks, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }

            var response = await pending.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            var result = response.ResponseHeader.ServiceResult;
            if (response is ServiceFault || result.IsBad)
            {
                throw new ServiceResultException(result.Code, $"{request.GetType().Name.Replace("Request", "", StringComparison.Ordinal)} failed: {StatusCodes.Name(result.Code)}");
            }

            return response;
        }
        catch (TimeoutException)
        {
            throw new ServiceResultException(StatusCodes.BadTimeout, $"{request.GetType().Name} got no response within {timeout.TotalSeconds:0.###} s.");
        }
        catch (ServiceResultException ex) when (ex.StatusCode == StatusCodes.BadConnectionClosed && _closed.Task.IsCompleted && _closed.Task.Result is { } reason)
        {
            throw reason;
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var chunk = await _transport.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                Interlocked.Add(ref _bytesReceived, chunk.Data.Length);
                if (chunk.MessageType == MessageTypes.Error)
                {
                    var error = ErrorMessage.Decode(chunk.Body);
                    Fail(new ServiceResultException(error.Error, $"Server closed the channel: {StatusCodes.Name(error.Error)} {error.Reason}".TrimEnd()));
                    return;
                }

                if (chunk.MessageType is not (MessageTypes.Open or MessageTypes.Message or MessageTypes.Close))
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid, $"Unexpected {MessageTypes.Name(chunk.MessageType)} on an open channel.");
                }

                var message = _assembler.Add(chunk, chunk.MessageType == MessageTypes.Open && ChannelId == 0 ? 0 : ChannelId);
                if (message is null)
                {
                    continue;
                }

                if (message.MessageType != MessageTypes.Open && message.TokenId != TokenId && message.TokenId != _previousTokenId)
                {
                    throw new ServiceResultException(StatusCodes.BadSecureChannelTokenUnknown, $"Message under token {message.TokenId}, which is not the channel's.");
                }

                if (!_pending.TryGetValue(message.RequestId, out var pending))
                {
                    // The caller gave up (timeout) before the answer came: drop it.
                    continue;
                }

                if (message.Abort is { } abort)
                {
                    pending.TrySetException(new ServiceResultException(abort.Error, $"Server aborted the response: {StatusCodes.Name(abort.Error)} {abort.Reason}".TrimEnd()));
                    continue;
                }

                IEncodeable decoded;
                try
                {
                    decoded = new BinaryDecoder(message.Body, _options.EncodingLimits).ReadMessage();
                }
                catch (UaDecodingException ex)
                {
                    // One undecodable response fails its request; the stream itself is still in step.
                    pending.TrySetException(new ServiceResultException(ex.StatusCode, "Response could not be decoded: " + ex.Message, ex));
                    continue;
                }

                Interlocked.Increment(ref _messagesReceived);
                if (decoded is IServiceResponse response)
                {
                    if (response is PublishResponse publish)
                    {
                        // Publish responses may complete their callers in any order: number them as they came.
                        publish.Arrival = ++_publishArrivals;
                    }

                    pending.TrySetResult(response);
                }
                else
                {
                    pending.TrySetException(new ServiceResultException(StatusCodes.BadDecodingError, $"Response is a {decoded.GetType().Name}, not a service response."));
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            Fail(null);
        }
        catch (ServiceResultException ex)
        {
            // A server may drop the connection as soon as it reads our CloseSecureChannel: that is the close we asked for.
            Fail(_closing && ex.StatusCode == StatusCodes.BadConnectionClosed ? null : ex);
        }
        catch (UaDecodingException ex)
        {
            Fail(new ServiceResultException(ex.StatusCode, "Malformed chunk: " + ex.Message, ex));
        }
    }

    private void Fail(ServiceResultException? reason)
    {
        if (!_closed.TrySetResult(reason))
        {
            return;
        }

        if (reason is not null)
        {
            Log.ChannelFailed(_logger, EndpointUrl, ChannelId, reason.StatusName, reason.Message);
        }

        var error = reason ?? new ServiceResultException(StatusCodes.BadSecureChannelClosed, "The secure channel was closed.");
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(error);
        }

        _stop.Cancel();
        _transport.Abort();
    }

    /// <summary>Sends CloseSecureChannel (no response is expected) and closes the connection.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_closed.Task.IsCompleted)
        {
            return;
        }

        _closing = true;
        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                _encoder.Reset();
                var request = new CloseSecureChannelRequest();
                request.RequestHeader.Timestamp = _time.GetUtcNow().UtcDateTime;
                _encoder.WriteMessage(request);
                var chunks = MessageChunker.Build(MessageTypes.Close, ChannelId, TokenId, _asymmetricHeader, _encoder.Written, Interlocked.Increment(ref _requestId), _sendSequence, _security, _transport.Remote);
                await _transport.SendAsync(chunks, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (ServiceResultException)
        {
            // The connection is gone already; closing is what we wanted.
        }

        _stop.Cancel();
        Fail(null);
    }

    /// <summary>Ends the channel at once (no CloseSecureChannel): what the watchdog does to a stalled server.</summary>
    public void Abort(ServiceResultException reason) => Fail(reason);

    public async ValueTask DisposeAsync()
    {
        Fail(null);
        try
        {
            await Task.WhenAll(_receiveLoop, _renewLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        await _transport.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();

        // Each channel gets its own security layer (keys of its tokens): it ends with the channel.
        (_security as IDisposable)?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "OPC UA channel to {Endpoint} open: id {ChannelId}, token {TokenId}, lifetime {Lifetime} ms; server accepts chunks of {ChunkSize} bytes, messages of {MaxMessage} bytes, {MaxChunks} chunks")]
        public static partial void ChannelOpened(ILogger logger, string endpoint, uint channelId, uint tokenId, uint lifetime, int chunkSize, int maxMessage, int maxChunks);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "OPC UA channel {ChannelId}: token renewed ({TokenId}, lifetime {Lifetime} ms)")]
        public static partial void TokenRenewed(ILogger logger, uint channelId, uint tokenId, uint lifetime);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "OPC UA channel {ChannelId}: token renewal failed: {Status} {Error}")]
        public static partial void RenewFailed(ILogger logger, uint channelId, string status, string error);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "OPC UA channel to {Endpoint} (id {ChannelId}) failed: {Status} {Error}")]
        public static partial void ChannelFailed(ILogger logger, string endpoint, uint channelId, string status, string error);
    }
}

/// <summary>Parsing of <c>opc.tcp://HOST:PORT[/PATH]</c>.</summary>
public static class EndpointUrls
{
    public const int DefaultPort = 4840;

    public static (string Host, int Port) Parse(string endpointUrl)
    {
        if (!TryParse(endpointUrl, out var host, out var port, out var error))
        {
            throw new ServiceResultException(StatusCodes.BadTcpEndpointUrlInvalid, error!);
        }

        return (host!, port);
    }

    public static bool TryParse(string? endpointUrl, out string? host, out int port, out string? error)
    {
        host = null;
        port = DefaultPort;
        error = null;
        if (string.IsNullOrWhiteSpace(endpointUrl) || !endpointUrl.StartsWith("opc.tcp://", StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(endpointUrl, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"Endpoint URL '{endpointUrl}' must have the form opc.tcp://HOST:PORT[/PATH].";
            return false;
        }

        host = uri.Host.Trim('[', ']');
        port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port;
        return true;
    }

    /// <summary>
    /// The URL to reach an endpoint the server advertises: its path with the host and port the user
    /// configured (a server behind NAT or in a container advertises a name we cannot reach).
    /// </summary>
    public static string KeepConfiguredHost(string configured, string? advertised)
    {
        ArgumentNullException.ThrowIfNull(configured);
        if (string.IsNullOrEmpty(advertised) || !Uri.TryCreate(advertised, UriKind.Absolute, out var a) || !Uri.TryCreate(configured, UriKind.Absolute, out var c))
        {
            return configured;
        }

        var builder = new UriBuilder(a) { Host = c.Host, Port = c.IsDefaultPort || c.Port < 0 ? DefaultPort : c.Port };
        return builder.Uri.ToString().TrimEnd('/');
    }
}
