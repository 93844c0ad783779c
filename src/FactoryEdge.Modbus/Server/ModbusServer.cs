using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Modbus;

/// <summary>Settings of a <see cref="ModbusServer"/>.</summary>
public sealed class ModbusServerOptions
{
    /// <summary>Address to listen on; loopback by default.</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>Port; 0 picks a free one (read <see cref="ModbusServer.Port"/> after start).</summary>
    public int Port { get; set; }

    /// <summary><see cref="ModbusFraming.Tcp"/> or <see cref="ModbusFraming.RtuOverTcp"/>.</summary>
    public ModbusFraming Framing { get; set; } = ModbusFraming.Tcp;

    /// <summary>Connections served at once; further ones are accepted and closed, like devices with a connection limit.</summary>
    public int MaxConnections { get; set; } = 16;
}

/// <summary>Counters of a server.</summary>
public sealed class ModbusServerStatistics
{
    private long _requests;
    private long _connections;
    private long _rejectedConnections;
    private long _malformedRequests;

    public long Requests => Interlocked.Read(ref _requests);

    public long Connections => Interlocked.Read(ref _connections);

    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    public long MalformedRequests => Interlocked.Read(ref _malformedRequests);

    internal void OnRequest() => Interlocked.Increment(ref _requests);

    internal void OnConnection() => Interlocked.Increment(ref _connections);

    internal void OnRejected() => Interlocked.Increment(ref _rejectedConnections);

    internal void OnMalformed() => Interlocked.Increment(ref _malformedRequests);
}

/// <summary>
/// A Modbus TCP (or RTU-over-TCP) server on our stack that serves a <see cref="ModbusRegisterBank"/>
/// per unit id, with faults injected on demand (<see cref="Faults"/>, <see cref="DropConnections"/>).
/// Each connection serves its requests in order; replies to pipelined requests that arrive together
/// go out in one send. Used by simulators, tests and the benchmark.
/// </summary>
public sealed class ModbusServer : IAsyncDisposable
{
    private readonly ModbusServerOptions _options;
    private readonly Func<byte, ModbusRegisterBank?> _resolveUnit;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<long, Socket> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connectionTasks = [];
    private Socket? _listener;
    private Task? _acceptTask;
    private long _connectionIds;

    /// <summary>A server that answers every unit id from one bank.</summary>
    public ModbusServer(ModbusRegisterBank bank, ModbusServerOptions? options = null, ILogger<ModbusServer>? logger = null, TimeProvider? timeProvider = null)
        : this(_ => bank, options, logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(bank);
    }

    /// <summary>A server with a bank per unit; units that resolve to null answer exception 0B (as a gateway does).</summary>
    public ModbusServer(Func<byte, ModbusRegisterBank?> resolveUnit, ModbusServerOptions? options = null, ILogger<ModbusServer>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(resolveUnit);
        _resolveUnit = resolveUnit;
        _options = options ?? new ModbusServerOptions();
        _logger = logger ?? NullLogger<ModbusServer>.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public ModbusServerFaults Faults { get; } = new();

    public ModbusServerStatistics Statistics { get; } = new();

    /// <summary>The bound port (valid after <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    public int ActiveConnections => _connections.Count;

    /// <summary>Binds and starts accepting. Returns the bound port.</summary>
    public int Start()
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("Already started.");
        }

        var listener = new Socket(_options.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(_options.Address, _options.Port));
        listener.Listen(128);
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _acceptTask = Task.Run(AcceptLoopAsync);
        Log.ServerStarted(_logger, _options.Address.ToString(), Port, _options.Framing.ToString());
        return Port;
    }

    /// <summary>Closes every open connection at once (a device restart as clients see it); keeps listening.</summary>
    public int DropConnections()
    {
        var dropped = 0;
        foreach (var (id, socket) in _connections)
        {
            if (_connections.TryRemove(id, out _))
            {
                Abort(socket);
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Serves RTU frames on a stream (a serial port or one end of a pseudo-terminal pair) until cancelled or the stream ends.</summary>
    public async Task ServeRtuAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await ServeAsync(
            (memory, token) => stream.ReadAsync(memory, token),
            (memory, token) => stream.WriteAsync(memory, token),
            rtu: true,
            closeOnMalformed: false,
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        DropConnections();
        if (_acceptTask is not null)
        {
            await _acceptTask.ConfigureAwait(false);
        }

        Task[] tasks;
        lock (_connectionTasks)
        {
            tasks = [.. _connectionTasks];
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (_connections.Count >= _options.MaxConnections)
            {
                Statistics.OnRejected();
                Log.ConnectionRejected(_logger, Port, _options.MaxConnections);
                Abort(socket);
                continue;
            }

            socket.NoDelay = true;
            var id = Interlocked.Increment(ref _connectionIds);
            _connections[id] = socket;
            Statistics.OnConnection();
            var task = Task.Run(() => ServeConnectionAsync(id, socket, token), CancellationToken.None);
            lock (_connectionTasks)
            {
                _connectionTasks.RemoveAll(t => t.IsCompleted);
                _connectionTasks.Add(task);
            }
        }
    }

    private async Task ServeConnectionAsync(long id, Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(
                (memory, token) => socket.ReceiveAsync(memory, SocketFlags.None, token),
                async (memory, token) =>
                {
                    while (!memory.IsEmpty)
                    {
                        var sent = await socket.SendAsync(memory, SocketFlags.None, token).ConfigureAwait(false);
                        memory = memory[sent..];
                    }
                },
                _options.Framing != ModbusFraming.Tcp,
                closeOnMalformed: true,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // Connection ended (dropped, closed by the client, server stopping).
        }
        finally
        {
            _connections.TryRemove(id, out _);
            Abort(socket);
        }
    }

    private async Task ServeAsync(
        Func<Memory<byte>, CancellationToken, ValueTask<int>> receive,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> send,
        bool rtu,
        bool closeOnMalformed,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var output = new byte[16 * 1024];
        var count = 0;
        var outLength = 0;
        while (true)
        {
            var received = await receive(buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                return;
            }

            count += received;
            var offset = 0;
            while (offset < count)
            {
                var frame = buffer.AsMemory(offset, count - offset);
                var status = rtu
                    ? RtuCodec.TryDecodeRequest(frame.Span, out var frameLength, out var reason)
                    : MbapCodec.TryDecode(frame.Span, out _, out frameLength, out reason);
                if (status == FrameStatus.NeedMoreData)
                {
                    break;
                }

                if (status == FrameStatus.Malformed)
                {
                    Statistics.OnMalformed();
                    Log.MalformedRequest(_logger, Port, reason!);
                    if (closeOnMalformed)
                    {
                        return;
                    }

                    // On a serial line: drop what is buffered and resynchronise on the next frame.
                    offset = count;
                    break;
                }

                var action = Handle(frame.Span[..frameLength], rtu, output.AsSpan(outLength), out var written);
                offset += frameLength;
                switch (action.Kind)
                {
                    case ModbusFaultKind.Delay:
                        if (outLength > 0)
                        {
                            // Replies before the slow one go out now; the slow one moves to the front.
                            await send(output.AsMemory(0, outLength), cancellationToken).ConfigureAwait(false);
                            output.AsSpan(outLength, written).CopyTo(output);
                            outLength = 0;
                        }

                        await Task.Delay(action.Delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                        outLength += written;
                        break;
                    case ModbusFaultKind.CloseConnection:
                        return;
                    case ModbusFaultKind.DropReply:
                        break;
                    default:
                        outLength += written;
                        break;
                }

                if (outLength > output.Length - ModbusLimits.MaxTcpAduLength)
                {
                    await send(output.AsMemory(0, outLength), cancellationToken).ConfigureAwait(false);
                    outLength = 0;
                }
            }

            if (outLength > 0)
            {
                await send(output.AsMemory(0, outLength), cancellationToken).ConfigureAwait(false);
                outLength = 0;
            }

            if (offset > 0)
            {
                buffer.AsSpan(offset, count - offset).CopyTo(buffer);
                count -= offset;
            }
        }
    }

    /// <summary>Serves one request frame into <paramref name="output"/>; returns the fault applied.</summary>
    private ModbusFault Handle(ReadOnlySpan<byte> frame, bool rtu, Span<byte> output, out int written)
    {
        ushort transactionId = 0;
        byte unitId;
        ReadOnlySpan<byte> pdu;
        if (rtu)
        {
            unitId = frame[0];
            pdu = frame[1..^2];
        }
        else
        {
            transactionId = BinaryPrimitives.ReadUInt16BigEndian(frame);
            unitId = frame[6];
            pdu = frame[ModbusLimits.MbapHeaderLength..];
        }

        Statistics.OnRequest();

        var info = pdu.Length >= 5
            ? new ModbusRequestInfo(unitId, (ModbusFunction)pdu[0], BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]), BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]))
            : new ModbusRequestInfo(unitId, pdu.Length > 0 ? (ModbusFunction)pdu[0] : 0, 0, 0);
        var fault = Faults.Decide(info);
        if (fault.Kind is ModbusFaultKind.DropReply or ModbusFaultKind.CloseConnection)
        {
            written = 0;
            return fault;
        }

        if (fault.Kind == ModbusFaultKind.Garbage)
        {
            fault.Bytes.Span.CopyTo(output);
            written = fault.Bytes.Length;
            return fault;
        }

        var headerLength = rtu ? 1 : ModbusLimits.MbapHeaderLength;
        Span<byte> response = output[headerLength..];
        int pduLength;
        var bank = _resolveUnit(unitId);
        if (fault.Kind == ModbusFaultKind.Exception)
        {
            pduLength = ModbusRegisterBank.Exception(response, pdu.Length > 0 ? pdu[0] : (byte)0, fault.Code);
        }
        else if (bank is null)
        {
            pduLength = ModbusRegisterBank.Exception(response, pdu.Length > 0 ? pdu[0] : (byte)0, ModbusExceptionCode.GatewayTargetDeviceFailedToRespond);
        }
        else
        {
            pduLength = bank.Serve(pdu, response);
        }

        if (rtu)
        {
            output[0] = unitId;
            var crc = ModbusCrc.Compute(output[..(1 + pduLength)]);
            BinaryPrimitives.WriteUInt16LittleEndian(output[(1 + pduLength)..], crc);
            written = 3 + pduLength;
        }
        else
        {
            MbapCodec.WriteHeader(output, transactionId, unitId, pduLength);
            written = ModbusLimits.MbapHeaderLength + pduLength;
        }

        return fault;
    }

    private static void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 3040, Level = LogLevel.Information, Message = "Modbus server listening on {Address}:{Port} ({Framing})")]
    public static partial void ServerStarted(ILogger logger, string address, int port, string framing);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Warning, Message = "Modbus server {Port}: connection refused, limit of {MaxConnections} reached")]
    public static partial void ConnectionRejected(ILogger logger, int port, int maxConnections);

    [LoggerMessage(EventId = 3042, Level = LogLevel.Warning, Message = "Modbus server {Port}: malformed request ({Reason})")]
    public static partial void MalformedRequest(ILogger logger, int port, string reason);
}
