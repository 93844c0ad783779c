using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Modbus;

/// <summary>One request on its way: what was asked, where the answer goes, and how it ends.</summary>
internal sealed class PendingRequest
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PendingRequest(in ModbusRequestInfo info)
    {
        Info = info;
    }

    public ModbusRequestInfo Info { get; }

    /// <summary>Destination of a register read.</summary>
    public Memory<ushort> Registers { get; init; }

    /// <summary>Destination of a bit read.</summary>
    public Memory<bool> Bits { get; init; }

    /// <summary>Values of a write-multiple-registers request.</summary>
    public ReadOnlyMemory<ushort> WriteRegisters { get; init; }

    /// <summary>Values of a write-multiple-coils request.</summary>
    public ReadOnlyMemory<bool> WriteBits { get; init; }

    public ushort TransactionId { get; set; }

    public ITimer? Timer { get; set; }

    public CancellationTokenRegistration Cancellation { get; set; }

    public ModbusSession? Session { get; set; }

    public Task Task => _completion.Task;

    public bool IsDone => _completion.Task.IsCompleted;

    /// <summary>Builds the PDU of the request; returns its length.</summary>
    public int WritePdu(Span<byte> destination) => Info.Function switch
    {
        ModbusFunction.WriteSingleCoil => ModbusPdu.WriteSingleCoilRequest(destination, Info.Address, Info.Value == 0xFF00),
        ModbusFunction.WriteSingleRegister => ModbusPdu.WriteSingleRegisterRequest(destination, Info.Address, Info.Value),
        ModbusFunction.WriteMultipleRegisters => ModbusPdu.WriteMultipleRegistersRequest(destination, Info.Address, WriteRegisters.Span),
        ModbusFunction.WriteMultipleCoils => ModbusPdu.WriteMultipleCoilsRequest(destination, Info.Address, WriteBits.Span),
        _ => ModbusPdu.WriteReadRequest(destination, Info.Function, Info.Address, Info.Count),
    };

    public void Succeed()
    {
        Release();
        _completion.TrySetResult();
    }

    public void Fail(Exception error)
    {
        Release();
        _completion.TrySetException(error);
    }

    private void Release()
    {
        Timer?.Dispose();
        Cancellation.Unregister();
    }
}

/// <summary>
/// One open connection: a writer loop that batches queued requests into sends, a reader loop that
/// splits the byte stream into frames and hands each reply to its request (by transaction id for
/// Modbus TCP; the single outstanding request for RTU). Any malformed frame resets the connection.
/// Exactly one party completes a request: whoever removes it from the pending table.
/// </summary>
internal sealed class ModbusSession : IAsyncDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;
    private const int SendBufferSize = 16 * 1024;
    private const int MaxRemembered = 1024;

    private static readonly TimerCallback OnTimerCallback = static state => ((PendingRequest)state!).Session!.OnTimeout((PendingRequest)state!);
    private static readonly Action<object?, CancellationToken> OnCancelCallback = static (state, token) => ((PendingRequest)state!).Session!.OnCancelled((PendingRequest)state!, token);

    private readonly IModbusConnection _connection;
    private readonly ModbusClientOptions _options;
    private readonly ModbusClientStatistics _statistics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string _endpoint;
    private readonly bool _rtu;
    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, PendingRequest> _pending = [];
    private readonly HashSet<ushort> _abandoned = [];
    private readonly Queue<ushort> _abandonedOrder = new();
    private readonly Channel<PendingRequest> _sendQueue = Channel.CreateUnbounded<PendingRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _readerTask;
    private readonly Task _writerTask;
    private ushort _nextTransactionId;
    private bool _closed;
    private int _bufferedBytes;
    private long _quietUntil;
    private string? _closeReason;

    public ModbusSession(IModbusConnection connection, ModbusClientOptions options, ModbusClientStatistics statistics, ILogger logger, TimeProvider timeProvider)
    {
        _connection = connection;
        _options = options;
        _statistics = statistics;
        _logger = logger;
        _timeProvider = timeProvider;
        _endpoint = options.Endpoint;
        _rtu = options.Framing != ModbusFraming.Tcp;
        _nextTransactionId = (ushort)Random.Shared.Next(1, 65536);
        _readerTask = Task.Run(ReadLoopAsync);
        _writerTask = Task.Run(WriteLoopAsync);
    }

    public bool IsOpen => !Volatile.Read(ref _closed);

    public string? CloseReason => _closeReason;

    /// <summary>Queues a request and waits for its outcome.</summary>
    public Task SendAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        request.Session = this;
        request.Timer = _timeProvider.CreateTimer(OnTimerCallback, request, _options.RequestTimeout, Timeout.InfiniteTimeSpan);
        lock (_lock)
        {
            if (_closed)
            {
                request.Fail(new ModbusConnectionException($"{_endpoint}: connection closed ({_closeReason})"));
                return request.Task;
            }

            request.TransactionId = _rtu ? (ushort)0 : NextTransactionId();
            _pending[request.TransactionId] = request;
        }

        if (cancellationToken.CanBeCanceled)
        {
            request.Cancellation = cancellationToken.UnsafeRegister(OnCancelCallback, request);
        }

        _statistics.OnRequest();
        _sendQueue.Writer.TryWrite(request);
        return request.Task;
    }

    /// <summary>Closes the connection and fails what is pending.</summary>
    public void Reset(string reason) => Close(reason, malformed: false, lost: false);

    public async ValueTask DisposeAsync()
    {
        Close("closed by the client", malformed: false, lost: false);
        try
        {
            await Task.WhenAll(_readerTask, _writerTask).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Loops end by cancellation.
        }

        _stop.Dispose();
    }

    private ushort NextTransactionId()
    {
        // Called under _lock. Skips ids still pending or recently abandoned (a late reply may come).
        for (var i = 0; i < 65536; i++)
        {
            var id = _nextTransactionId++;
            if (!_pending.ContainsKey(id) && !_abandoned.Contains(id))
            {
                return id;
            }
        }

        throw new InvalidOperationException("No free transaction id.");
    }

    private void OnTimeout(PendingRequest request)
    {
        bool partialFrame;
        lock (_lock)
        {
            if (!_pending.TryGetValue(request.TransactionId, out var current) || !ReferenceEquals(current, request))
            {
                return;
            }

            _pending.Remove(request.TransactionId);
            Remember(request.TransactionId);
            partialFrame = Volatile.Read(ref _bufferedBytes) > 0;
            if (_rtu)
            {
                _quietUntil = _timeProvider.GetTimestamp() + (long)(_options.RtuTurnaroundDelay.TotalSeconds * _timeProvider.TimestampFrequency);
            }
        }

        _statistics.OnTimeout();
        Log.RequestTimedOut(_logger, _endpoint, request.Info.ToString(), _options.RequestTimeout.TotalMilliseconds);
        request.Fail(new ModbusTimeoutException(string.Create(
            CultureInfo.InvariantCulture,
            $"{_endpoint}: no reply within {_options.RequestTimeout.TotalMilliseconds:0} ms to {request.Info}.")));
        if (partialFrame)
        {
            // Part of a frame sits in the buffer and its rest did not come: the byte stream is out of step.
            Close("truncated frame: an incomplete frame was pending when the request timed out", malformed: true, lost: true);
        }
    }

    private void OnCancelled(PendingRequest request, CancellationToken token)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(request.TransactionId, out var current) || !ReferenceEquals(current, request))
            {
                return;
            }

            _pending.Remove(request.TransactionId);
            Remember(request.TransactionId);
        }

        request.Fail(new OperationCanceledException(token));
    }

    private void Remember(ushort transactionId)
    {
        if (_rtu)
        {
            return;
        }

        if (_abandoned.Add(transactionId))
        {
            _abandonedOrder.Enqueue(transactionId);
        }

        while (_abandonedOrder.Count > MaxRemembered)
        {
            _abandoned.Remove(_abandonedOrder.Dequeue());
        }
    }

    private async Task WriteLoopAsync()
    {
        var buffer = new byte[SendBufferSize];
        var reader = _sendQueue.Reader;
        var token = _stop.Token;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                var length = 0;
                while (length + ModbusLimits.MaxTcpAduLength <= buffer.Length && reader.TryRead(out var request))
                {
                    if (request.IsDone)
                    {
                        continue;
                    }

                    if (_rtu)
                    {
                        await WaitQuietTimeAsync(token).ConfigureAwait(false);
                        length += RtuCodec.WriteFrame(buffer.AsSpan(length), request.Info.UnitId, BuildPdu(request));
                        break;
                    }

                    var pduLength = request.WritePdu(buffer.AsSpan(length + ModbusLimits.MbapHeaderLength));
                    MbapCodec.WriteHeader(buffer.AsSpan(length), request.TransactionId, request.Info.UnitId, pduLength);
                    length += ModbusLimits.MbapHeaderLength + pduLength;
                }

                if (length > 0)
                {
                    await _connection.SendAsync(buffer.AsMemory(0, length), token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Closing.
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Close("send failed: " + ex.Message, malformed: false, lost: true);
        }
    }

    private static byte[] BuildPdu(PendingRequest request)
    {
        var pdu = new byte[ModbusLimits.MaxPduLength];
        var length = request.WritePdu(pdu);
        return pdu[..length];
    }

    private async ValueTask WaitQuietTimeAsync(CancellationToken cancellationToken)
    {
        long quietUntil;
        lock (_lock)
        {
            quietUntil = _quietUntil;
        }

        var remaining = quietUntil - _timeProvider.GetTimestamp();
        if (remaining > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)remaining / _timeProvider.TimestampFrequency), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[ReceiveBufferSize];
        var count = 0;
        var token = _stop.Token;
        try
        {
            while (true)
            {
                var received = await _connection.ReceiveAsync(buffer.AsMemory(count), token).ConfigureAwait(false);
                if (received == 0)
                {
                    Close(
                        count > 0
                            ? string.Create(CultureInfo.InvariantCulture, $"truncated frame: the peer closed the connection {count} byte(s) into a frame")
                            : "the peer closed the connection",
                        malformed: count > 0,
                        lost: true);
                    return;
                }

                count += received;
                var offset = 0;
                while (offset < count)
                {
                    var span = buffer.AsSpan(offset, count - offset);
                    string? reason;
                    int frameLength;
                    FrameStatus status;
                    MbapHeader header = default;
                    if (_rtu)
                    {
                        status = RtuCodec.TryDecodeResponse(span, out frameLength, out reason);
                    }
                    else
                    {
                        status = MbapCodec.TryDecode(span, out header, out frameLength, out reason);
                    }

                    if (status == FrameStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status == FrameStatus.Malformed)
                    {
                        Close(reason!, malformed: true, lost: true);
                        return;
                    }

                    var frame = span[..frameLength];
                    var ok = _rtu
                        ? HandleReply(transactionId: 0, frame[0], frame[1..^2])
                        : HandleReply(header.TransactionId, header.UnitId, frame[ModbusLimits.MbapHeaderLength..]);
                    if (!ok)
                    {
                        return;
                    }

                    offset += frameLength;
                }

                if (offset > 0)
                {
                    buffer.AsSpan(offset, count - offset).CopyTo(buffer);
                    count -= offset;
                }

                Volatile.Write(ref _bufferedBytes, count);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Closing.
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Close("receive failed: " + ex.Message, malformed: false, lost: true);
        }
    }

    /// <summary>Hands one frame to its request. Returns false when the connection was reset.</summary>
    private bool HandleReply(ushort transactionId, byte unitId, ReadOnlySpan<byte> pdu)
    {
        PendingRequest? request = null;
        var late = false;
        lock (_lock)
        {
            if (_rtu)
            {
                foreach (var entry in _pending.Values)
                {
                    request = entry;
                }

                if (request is not null)
                {
                    _pending.Remove(0);
                }
                else
                {
                    late = true;
                }
            }
            else if (!_pending.Remove(transactionId, out request))
            {
                late = _abandoned.Remove(transactionId);
            }
        }

        if (request is null)
        {
            if (late)
            {
                _statistics.OnLateReply();
                Log.LateReplyDiscarded(_logger, _endpoint, transactionId);
            }
            else
            {
                _statistics.OnUnmatchedReply();
                Log.UnmatchedReplyDiscarded(_logger, _endpoint, transactionId);
            }

            return true;
        }

        if (unitId != request.Info.UnitId)
        {
            var reason = string.Create(CultureInfo.InvariantCulture, $"unit id {unitId} in the reply does not match the request's {request.Info.UnitId}");
            // Count, log and reset before the caller sees the error, so that what it observes is settled.
            Close(reason, malformed: true, lost: true);
            request.Fail(new ModbusMalformedFrameException($"{_endpoint}: malformed reply to {request.Info}: {reason}."));
            return false;
        }

        switch (ModbusPdu.CheckResponse(request.Info, pdu, out var code, out var why))
        {
            case PduCheck.Ok:
                if (!request.Registers.IsEmpty)
                {
                    ModbusPdu.ReadRegisters(pdu[2..], request.Registers.Span);
                }
                else if (!request.Bits.IsEmpty)
                {
                    ModbusPdu.UnpackBits(pdu[2..], request.Bits.Span);
                }

                _statistics.OnResponse();
                request.Succeed();
                return true;
            case PduCheck.ExceptionResponse:
                _statistics.OnResponse();
                _statistics.OnExceptionResponse();
                request.Fail(new ModbusExceptionResponseException(request.Info.UnitId, request.Info.Function, request.Info.Address, request.Info.Count, code));
                return true;
            default:
                Close(why!, malformed: true, lost: true);
                request.Fail(new ModbusMalformedFrameException($"{_endpoint}: malformed reply to {request.Info}: {why}."));
                return false;
        }
    }

    private void Close(string reason, bool malformed, bool lost)
    {
        List<PendingRequest> failed;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _closeReason = reason;
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        if (malformed)
        {
            _statistics.OnMalformedFrame();
            Log.MalformedFrame(_logger, _endpoint, reason);
        }
        else if (lost)
        {
            Log.ConnectionLost(_logger, _endpoint, reason);
        }

        if (lost)
        {
            _statistics.OnConnectionLost();
        }

        _sendQueue.Writer.TryComplete();
        _stop.Cancel();
        _connection.Abort();
        var error = new ModbusConnectionException($"{_endpoint}: connection reset: {reason}.");
        foreach (var request in failed)
        {
            request.Fail(error);
        }
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "{Endpoint}: {Request} timed out after {TimeoutMs} ms")]
    public static partial void RequestTimedOut(ILogger logger, string endpoint, string request, double timeoutMs);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Debug, Message = "{Endpoint}: late reply (transaction {TransactionId}) discarded; its request had timed out")]
    public static partial void LateReplyDiscarded(ILogger logger, string endpoint, ushort transactionId);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "{Endpoint}: reply with unknown transaction id {TransactionId} discarded")]
    public static partial void UnmatchedReplyDiscarded(ILogger logger, string endpoint, ushort transactionId);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "{Endpoint}: malformed frame rejected ({Reason}); connection reset")]
    public static partial void MalformedFrame(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 3024, Level = LogLevel.Information, Message = "{Endpoint}: connection lost ({Reason})")]
    public static partial void ConnectionLost(ILogger logger, string endpoint, string reason);
}
