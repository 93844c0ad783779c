using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Modbus.Tests;

/// <summary>A logger that keeps what it is told, for asserting that a reason was logged.</summary>
internal sealed class CollectingLogger : ILogger, ILoggerProvider, ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public bool Contains(string text) => Entries.Any(e => e.Message.Contains(text, StringComparison.Ordinal));
}

/// <summary>
/// An in-memory connection: requests go to a responder that returns the bytes to send back (or
/// null for no reply); the connection can also be fed raw bytes and closed.
/// </summary>
internal sealed class FakeConnection : IModbusConnection
{
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>();
    private readonly Func<byte[], byte[]?> _responder;
    private readonly TimeSpan _replyDelay;
    private byte[]? _pending;
    private int _pendingOffset;
    private int _outstanding;
    private int _maxOutstanding;

    public FakeConnection(Func<byte[], byte[]?> responder, TimeSpan replyDelay = default)
    {
        _responder = responder;
        _replyDelay = replyDelay;
    }

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public int MaxOutstanding => Volatile.Read(ref _maxOutstanding);

    public bool Aborted { get; private set; }

    public void Feed(byte[] bytes) => _incoming.Writer.TryWrite(bytes);

    public void CloseFromPeer() => _incoming.Writer.TryComplete();

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_pending is null)
        {
            if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !_incoming.Reader.TryRead(out _pending))
            {
                return 0;
            }

            _pendingOffset = 0;
        }

        var n = Math.Min(buffer.Length, _pending.Length - _pendingOffset);
        _pending.AsSpan(_pendingOffset, n).CopyTo(buffer.Span);
        _pendingOffset += n;
        if (_pendingOffset == _pending.Length)
        {
            _pending = null;
        }

        return n;
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Split the batch into frames (MBAP length field) so the responder sees one request at a time.
        var bytes = data.ToArray();
        var offset = 0;
        while (offset + 6 <= bytes.Length)
        {
            var length = 6 + ((bytes[offset + 4] << 8) | bytes[offset + 5]);
            var frame = bytes.AsSpan(offset, Math.Min(length, bytes.Length - offset)).ToArray();
            offset += length;
            Sent.Enqueue(frame);
            var now = Interlocked.Increment(ref _outstanding);
            InterlockedMax(ref _maxOutstanding, now);
            var reply = _responder(frame);
            if (reply is null)
            {
                Interlocked.Decrement(ref _outstanding);
                continue;
            }

            if (_replyDelay > TimeSpan.Zero)
            {
                _ = Task.Delay(_replyDelay, CancellationToken.None).ContinueWith(
                    _ =>
                    {
                        Interlocked.Decrement(ref _outstanding);
                        _incoming.Writer.TryWrite(reply);
                    },
                    TaskScheduler.Default);
            }
            else
            {
                Interlocked.Decrement(ref _outstanding);
                _incoming.Writer.TryWrite(reply);
            }
        }

        return ValueTask.CompletedTask;
    }

    public void Abort()
    {
        Aborted = true;
        _incoming.Writer.TryComplete();
    }

    public void Dispose() => Abort();

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

internal sealed class FakeConnector : IModbusConnector
{
    private readonly Func<FakeConnection> _create;

    public FakeConnector(Func<FakeConnection> create)
    {
        _create = create;
    }

    public string Endpoint => "fake://device";

    public List<FakeConnection> Connections { get; } = [];

    public ValueTask<IModbusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = _create();
        lock (Connections)
        {
            Connections.Add(connection);
        }

        return ValueTask.FromResult<IModbusConnection>(connection);
    }
}

/// <summary>Builds MBAP replies for tests.</summary>
internal static class Frames
{
    public static ushort TransactionId(byte[] request) => (ushort)((request[0] << 8) | request[1]);

    public static byte[] Mbap(ushort transactionId, byte unitId, params byte[] pdu)
    {
        var frame = new byte[7 + pdu.Length];
        MbapCodec.WriteHeader(frame, transactionId, unitId, pdu.Length);
        pdu.CopyTo(frame, 7);
        return frame;
    }

    /// <summary>A well-formed reply to a read-registers request whose register i holds address + i.</summary>
    public static byte[] EchoAddresses(byte[] request)
    {
        var address = (request[8] << 8) | request[9];
        var count = (request[10] << 8) | request[11];
        var pdu = new byte[2 + (2 * count)];
        pdu[0] = request[7];
        pdu[1] = (byte)(2 * count);
        for (var i = 0; i < count; i++)
        {
            pdu[2 + (2 * i)] = (byte)((address + i) >> 8);
            pdu[3 + (2 * i)] = (byte)(address + i);
        }

        return Mbap(TransactionId(request), request[6], pdu);
    }
}

/// <summary>Our server on a free loopback port with a fresh bank, for tests.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public TestServer(ModbusServerOptions? options = null)
    {
        Server = new ModbusServer(Bank, options);
        Server.Start();
    }

    public ModbusRegisterBank Bank { get; } = new();

    public ModbusServer Server { get; }

    public int Port => Server.Port;

    public ModbusClientOptions ClientOptions(int maxInFlight = 8, int timeoutMs = 5000) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        MaxInFlight = maxInFlight,
        RequestTimeout = TimeSpan.FromMilliseconds(timeoutMs),
    };

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
