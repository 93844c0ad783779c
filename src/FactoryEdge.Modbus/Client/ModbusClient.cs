using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Modbus;

/// <summary>
/// A Modbus client on one connection (TCP, RTU over TCP, or RTU on a serial line). Thread-safe:
/// concurrent calls are pipelined on the connection up to <see cref="ModbusClientOptions.MaxInFlight"/>
/// (and <see cref="ModbusClientOptions.MaxInFlightPerUnit"/> per unit). It connects on first use and
/// reconnects on its own after the connection is lost, with capped exponential backoff and jitter
/// between failed attempts; while it waits, calls fail fast with <see cref="ModbusConnectionException"/>.
/// </summary>
/// <remarks>
/// Errors: <see cref="ModbusExceptionResponseException"/> (the device refused),
/// <see cref="ModbusTimeoutException"/>, <see cref="ModbusConnectionException"/>,
/// <see cref="ModbusMalformedFrameException"/> (the connection was reset).
/// </remarks>
public sealed class ModbusClient : IAsyncDisposable
{
    private readonly ModbusClientOptions _options;
    private readonly IModbusConnector _connector;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _inFlight;
    private readonly ConcurrentDictionary<byte, SemaphoreSlim> _unitGates = new();
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private volatile ModbusSession? _session;
    private int _consecutiveFailures;
    private long _nextAttemptTimestamp;
    private bool _everConnected;
    private bool _disposed;

    public ModbusClient(ModbusClientOptions options, ILogger<ModbusClient>? logger = null, TimeProvider? timeProvider = null)
        : this(options, CreateConnector(options), logger, timeProvider)
    {
    }

    internal ModbusClient(ModbusClientOptions options, IModbusConnector connector, ILogger? logger, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid Modbus client options: " + problem, nameof(options));
        }

        _options = options.Clone();
        _connector = connector;
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _inFlight = new SemaphoreSlim(_options.EffectiveMaxInFlight, _options.EffectiveMaxInFlight);
    }

    public string Endpoint => _options.Endpoint;

    public ModbusClientOptions Options => _options.Clone();

    public ModbusClientStatistics Statistics { get; } = new();

    /// <summary>True while a connection is open.</summary>
    public bool IsConnected => _session is { IsOpen: true };

    /// <summary>Opens the connection now (otherwise the first request does). Honours the backoff.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default) =>
        await GetSessionAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Drops the connection (the next request reconnects at once).</summary>
    public void Disconnect(string reason = "disconnected by the caller") => _session?.Reset(reason);

    public ValueTask ReadHoldingRegistersAsync(byte unitId, ushort address, Memory<ushort> destination, CancellationToken cancellationToken = default) =>
        ReadRegistersAsync(ModbusTable.HoldingRegisters, unitId, address, destination, cancellationToken);

    public ValueTask ReadInputRegistersAsync(byte unitId, ushort address, Memory<ushort> destination, CancellationToken cancellationToken = default) =>
        ReadRegistersAsync(ModbusTable.InputRegisters, unitId, address, destination, cancellationToken);

    public ValueTask ReadCoilsAsync(byte unitId, ushort address, Memory<bool> destination, CancellationToken cancellationToken = default) =>
        ReadBitsAsync(ModbusTable.Coils, unitId, address, destination, cancellationToken);

    public ValueTask ReadDiscreteInputsAsync(byte unitId, ushort address, Memory<bool> destination, CancellationToken cancellationToken = default) =>
        ReadBitsAsync(ModbusTable.DiscreteInputs, unitId, address, destination, cancellationToken);

    /// <summary>Reads <paramref name="destination"/>.Length registers (1..125) of a register table.</summary>
    public ValueTask ReadRegistersAsync(ModbusTable table, byte unitId, ushort address, Memory<ushort> destination, CancellationToken cancellationToken = default)
    {
        if (table.IsBitTable())
        {
            throw new ArgumentException($"{table} holds bits: use ReadBitsAsync.", nameof(table));
        }

        CheckRange(address, destination.Length, ModbusLimits.MaxReadRegisters, nameof(destination));
        var request = new PendingRequest(new ModbusRequestInfo(unitId, table.ReadFunction(), address, (ushort)destination.Length)) { Registers = destination };
        return new ValueTask(ExecuteAsync(request, cancellationToken));
    }

    /// <summary>Reads <paramref name="destination"/>.Length bits (1..2000) of a bit table.</summary>
    public ValueTask ReadBitsAsync(ModbusTable table, byte unitId, ushort address, Memory<bool> destination, CancellationToken cancellationToken = default)
    {
        if (!table.IsBitTable())
        {
            throw new ArgumentException($"{table} holds registers: use ReadRegistersAsync.", nameof(table));
        }

        CheckRange(address, destination.Length, ModbusLimits.MaxReadBits, nameof(destination));
        var request = new PendingRequest(new ModbusRequestInfo(unitId, table.ReadFunction(), address, (ushort)destination.Length)) { Bits = destination };
        return new ValueTask(ExecuteAsync(request, cancellationToken));
    }

    /// <summary>Reads registers into a new array.</summary>
    public async Task<ushort[]> ReadRegistersAsync(ModbusTable table, byte unitId, ushort address, int count, CancellationToken cancellationToken = default)
    {
        var values = new ushort[count];
        await ReadRegistersAsync(table, unitId, address, values, cancellationToken).ConfigureAwait(false);
        return values;
    }

    public ValueTask WriteSingleCoilAsync(byte unitId, ushort address, bool value, CancellationToken cancellationToken = default) =>
        new(ExecuteAsync(new PendingRequest(new ModbusRequestInfo(unitId, ModbusFunction.WriteSingleCoil, address, 1, value ? (ushort)0xFF00 : (ushort)0)), cancellationToken));

    public ValueTask WriteSingleRegisterAsync(byte unitId, ushort address, ushort value, CancellationToken cancellationToken = default) =>
        new(ExecuteAsync(new PendingRequest(new ModbusRequestInfo(unitId, ModbusFunction.WriteSingleRegister, address, 1, value)), cancellationToken));

    public ValueTask WriteMultipleRegistersAsync(byte unitId, ushort address, ReadOnlyMemory<ushort> values, CancellationToken cancellationToken = default)
    {
        CheckRange(address, values.Length, ModbusLimits.MaxWriteRegisters, nameof(values));
        var request = new PendingRequest(new ModbusRequestInfo(unitId, ModbusFunction.WriteMultipleRegisters, address, (ushort)values.Length)) { WriteRegisters = values };
        return new ValueTask(ExecuteAsync(request, cancellationToken));
    }

    public ValueTask WriteMultipleCoilsAsync(byte unitId, ushort address, ReadOnlyMemory<bool> values, CancellationToken cancellationToken = default)
    {
        CheckRange(address, values.Length, ModbusLimits.MaxWriteCoils, nameof(values));
        var request = new PendingRequest(new ModbusRequestInfo(unitId, ModbusFunction.WriteMultipleCoils, address, (ushort)values.Length)) { WriteBits = values };
        return new ValueTask(ExecuteAsync(request, cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var session = _session;
        _session = null;
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void CheckRange(ushort address, int count, int max, string name)
    {
        if (count < 1 || count > max)
        {
            throw new ArgumentOutOfRangeException(name, count, string.Create(CultureInfo.InvariantCulture, $"1 to {max} values per request."));
        }

        if (address + count > 65536)
        {
            throw new ArgumentOutOfRangeException(name, count, string.Create(CultureInfo.InvariantCulture, $"address {address} + count {count} runs past 65535."));
        }
    }

    private async Task ExecuteAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var unitGate = _options.MaxInFlightPerUnit > 0
            ? _unitGates.GetOrAdd(request.Info.UnitId, static (_, max) => new SemaphoreSlim(max, max), _options.MaxInFlightPerUnit)
            : null;
        if (unitGate is not null)
        {
            await unitGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var session = await GetSessionAsync(cancellationToken).ConfigureAwait(false);
                await session.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _inFlight.Release();
            }
        }
        finally
        {
            unitGate?.Release();
        }
    }

    private async ValueTask<ModbusSession> GetSessionAsync(CancellationToken cancellationToken)
    {
        var session = _session;
        if (session is { IsOpen: true })
        {
            return session;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            session = _session;
            if (session is { IsOpen: true })
            {
                return session;
            }

            if (session is not null)
            {
                _session = null;
                await session.DisposeAsync().ConfigureAwait(false);
            }

            var now = _timeProvider.GetTimestamp();
            if (_consecutiveFailures > 0 && now < _nextAttemptTimestamp)
            {
                var wait = _timeProvider.GetElapsedTime(now, _nextAttemptTimestamp);
                throw new ModbusConnectionException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Endpoint}: not connected after {_consecutiveFailures} failed attempt(s); next attempt in {wait.TotalMilliseconds:0} ms."));
            }

            Statistics.OnConnectAttempt();
            IModbusConnection connection;
            try
            {
                using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
                try
                {
                    connection = await _connector.ConnectAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"connect timed out after {_options.ConnectTimeout.TotalMilliseconds:0} ms"));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _consecutiveFailures++;
                var delay = ReconnectDelay(_consecutiveFailures, _options, Random.Shared.NextDouble());
                _nextAttemptTimestamp = _timeProvider.GetTimestamp() + (long)(delay.TotalSeconds * _timeProvider.TimestampFrequency);
                Statistics.OnConnectFailure();
                Log.ConnectFailed(_logger, Endpoint, _consecutiveFailures, delay.TotalMilliseconds, ex.Message);
                throw new ModbusConnectionException($"{Endpoint}: connect failed: {ex.Message}", ex);
            }

            if (_everConnected)
            {
                Statistics.OnReconnect();
                Log.Reconnected(_logger, Endpoint, _consecutiveFailures);
            }
            else
            {
                Log.Connected(_logger, Endpoint);
            }

            _everConnected = true;
            _consecutiveFailures = 0;
            session = new ModbusSession(connection, _options, Statistics, _logger, _timeProvider);
            _session = session;
            return session;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>
    /// Delay before connect attempt number <paramref name="failures"/>+1: initial × 2^(failures−1),
    /// capped at the maximum, then scaled by 1 ± jitter (<paramref name="random01"/> in [0, 1)).
    /// </summary>
    internal static TimeSpan ReconnectDelay(int failures, ModbusClientOptions options, double random01)
    {
        var exponent = Math.Min(failures - 1, 30);
        var baseMs = Math.Min(options.ReconnectMaxDelay.TotalMilliseconds, options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, exponent));
        var factor = 1 + (options.ReconnectJitter * ((2 * random01) - 1));
        return TimeSpan.FromMilliseconds(Math.Min(options.ReconnectMaxDelay.TotalMilliseconds * (1 + options.ReconnectJitter), baseMs * factor));
    }

    private static IModbusConnector CreateConnector(ModbusClientOptions options) => options.Framing switch
    {
        ModbusFraming.RtuSerial => new SerialConnector(options),
        _ => new TcpConnector(options.Host, options.Port, options.Endpoint),
    };
}

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "{Endpoint}: connected")]
    public static partial void Connected(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "{Endpoint}: reconnected after {Failures} failed attempt(s)")]
    public static partial void Reconnected(ILogger logger, string endpoint, int failures);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "{Endpoint}: connect attempt {Failures} failed ({Error}); next attempt in {DelayMs:0} ms")]
    public static partial void ConnectFailed(ILogger logger, string endpoint, int failures, double delayMs, string error);
}
