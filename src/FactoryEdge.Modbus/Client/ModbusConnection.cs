using System.IO.Ports;
using System.Net.Sockets;

namespace FactoryEdge.Modbus;

/// <summary>A byte pipe to a device: a TCP socket or a serial port. Kept small so tests can fake it.</summary>
internal interface IModbusConnection : IDisposable
{
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Closes at once, failing pending receives.</summary>
    void Abort();
}

/// <summary>Opens connections to one endpoint.</summary>
internal interface IModbusConnector
{
    string Endpoint { get; }

    ValueTask<IModbusConnection> ConnectAsync(CancellationToken cancellationToken);
}

internal sealed class SocketConnection : IModbusConnection
{
    private readonly Socket _socket;

    public SocketConnection(Socket socket)
    {
        _socket = socket;
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the peer.
        }
        catch (ObjectDisposedException)
        {
            // Already disposed.
        }

        _socket.Close(0);
    }

    public void Dispose() => _socket.Dispose();
}

internal sealed class TcpConnector : IModbusConnector
{
    private readonly string _host;
    private readonly int _port;

    public TcpConnector(string host, int port, string endpoint)
    {
        _host = host;
        _port = port;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public async ValueTask<IModbusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_host, _port, cancellationToken).ConfigureAwait(false);
            return new SocketConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

internal sealed class StreamConnection : IModbusConnection
{
    private readonly Stream _stream;
    private readonly IDisposable? _owner;

    public StreamConnection(Stream stream, IDisposable? owner)
    {
        _stream = stream;
        _owner = owner;
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _stream.ReadAsync(buffer, cancellationToken);

    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _stream.WriteAsync(data, cancellationToken);

    public void Abort() => Dispose();

    public void Dispose()
    {
        _stream.Dispose();
        _owner?.Dispose();
    }
}

internal sealed class SerialConnector : IModbusConnector
{
    private readonly ModbusClientOptions _options;

    public SerialConnector(ModbusClientOptions options)
    {
        _options = options;
        Endpoint = options.Endpoint;
    }

    public string Endpoint { get; }

    public ValueTask<IModbusConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var port = new SerialPort(_options.SerialPort!, _options.BaudRate, ToParity(_options.Parity), _options.DataBits, _options.StopBits == 2 ? StopBits.Two : StopBits.One)
        {
            Handshake = Handshake.None,
        };
        try
        {
            port.Open();
            return ValueTask.FromResult<IModbusConnection>(new StreamConnection(port.BaseStream, port));
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    private static Parity ToParity(ModbusParity parity) => parity switch
    {
        ModbusParity.Even => Parity.Even,
        ModbusParity.Odd => Parity.Odd,
        _ => Parity.None,
    };
}
