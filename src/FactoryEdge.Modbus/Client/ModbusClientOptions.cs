using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>Serial parity for RTU lines.</summary>
public enum ModbusParity
{
    None,
    Even,
    Odd,
}

/// <summary>Where and how one client connection talks to a device (or to a TCP→RTU gateway).</summary>
public sealed class ModbusClientOptions
{
    /// <summary>Host name or address for <see cref="ModbusFraming.Tcp"/> and <see cref="ModbusFraming.RtuOverTcp"/>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 502;

    public ModbusFraming Framing { get; set; } = ModbusFraming.Tcp;

    /// <summary>Serial device for <see cref="ModbusFraming.RtuSerial"/>, e.g. /dev/ttyUSB0 or COM3.</summary>
    public string? SerialPort { get; set; }

    public int BaudRate { get; set; } = 19200;

    public ModbusParity Parity { get; set; } = ModbusParity.Even;

    public int DataBits { get; set; } = 8;

    public int StopBits { get; set; } = 1;

    /// <summary>Time a request may wait for its reply (sending included).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Requests in flight on the connection at once (pipelining depth, matched by transaction id).
    /// 1 disables pipelining. RTU framings always use 1.
    /// </summary>
    public int MaxInFlight { get; set; } = 8;

    /// <summary>
    /// Requests in flight per unit id; 0 means no per-unit limit. Set 1 for units behind a TCP→RTU
    /// gateway that serves one request at a time.
    /// </summary>
    public int MaxInFlightPerUnit { get; set; }

    /// <summary>First reconnect delay after a failed connect; doubles per failure up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Relative jitter applied to each reconnect delay (0.2 = ±20 %), so that many gateways do not reconnect in step.</summary>
    public double ReconnectJitter { get; set; } = 0.2;

    /// <summary>RTU only: quiet time after a timeout before the next request, so a late reply is not taken for the next one.</summary>
    public TimeSpan RtuTurnaroundDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Effective pipelining depth for the framing.</summary>
    public int EffectiveMaxInFlight => Framing == ModbusFraming.Tcp ? Math.Max(1, MaxInFlight) : 1;

    /// <summary>The endpoint as text for logs and errors.</summary>
    public string Endpoint => Framing switch
    {
        ModbusFraming.RtuSerial => string.Create(CultureInfo.InvariantCulture, $"rtu:{SerialPort}@{BaudRate}"),
        ModbusFraming.RtuOverTcp => string.Create(CultureInfo.InvariantCulture, $"rtu+tcp://{Host}:{Port}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"tcp://{Host}:{Port}"),
    };

    /// <summary>Checks the settings; returns the first problem or null.</summary>
    public string? Validate()
    {
        if (Framing != ModbusFraming.RtuSerial && string.IsNullOrWhiteSpace(Host))
        {
            return "Host is required";
        }

        if (Framing != ModbusFraming.RtuSerial && Port is < 1 or > 65535)
        {
            return string.Create(CultureInfo.InvariantCulture, $"Port must be 1..65535 (was {Port})");
        }

        if (Framing == ModbusFraming.RtuSerial && string.IsNullOrWhiteSpace(SerialPort))
        {
            return "SerialPort is required for RTU on a serial line";
        }

        if (RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            return "RequestTimeout and ConnectTimeout must be positive";
        }

        if (MaxInFlight is < 1 or > 256)
        {
            return string.Create(CultureInfo.InvariantCulture, $"MaxInFlight must be 1..256 (was {MaxInFlight})");
        }

        if (MaxInFlightPerUnit is < 0 or > 256)
        {
            return string.Create(CultureInfo.InvariantCulture, $"MaxInFlightPerUnit must be 0..256 (was {MaxInFlightPerUnit})");
        }

        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay)
        {
            return "need 0 < ReconnectInitialDelay <= ReconnectMaxDelay";
        }

        if (ReconnectJitter is < 0 or > 1)
        {
            return "ReconnectJitter must be in [0, 1]";
        }

        return null;
    }

    internal ModbusClientOptions Clone() => (ModbusClientOptions)MemberwiseClone();
}

/// <summary>Counters of one client. Read at any time; updated without locks.</summary>
public sealed class ModbusClientStatistics
{
    private long _requests;
    private long _responses;
    private long _timeouts;
    private long _lateReplies;
    private long _unmatchedReplies;
    private long _malformedFrames;
    private long _exceptionResponses;
    private long _connectAttempts;
    private long _connectFailures;
    private long _reconnects;
    private long _connectionsLost;

    public long Requests => Interlocked.Read(ref _requests);

    public long Responses => Interlocked.Read(ref _responses);

    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Replies that arrived after their request had timed out: discarded, not a protocol error.</summary>
    public long LateReplies => Interlocked.Read(ref _lateReplies);

    /// <summary>Replies whose transaction id matched no request ever sent on the connection: discarded.</summary>
    public long UnmatchedReplies => Interlocked.Read(ref _unmatchedReplies);

    /// <summary>Frames rejected as malformed (each reset the connection).</summary>
    public long MalformedFrames => Interlocked.Read(ref _malformedFrames);

    public long ExceptionResponses => Interlocked.Read(ref _exceptionResponses);

    public long ConnectAttempts => Interlocked.Read(ref _connectAttempts);

    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    /// <summary>Successful connects after the first one.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Connections that ended while in use (peer closed, reset, send/receive error).</summary>
    public long ConnectionsLost => Interlocked.Read(ref _connectionsLost);

    internal void OnRequest() => Interlocked.Increment(ref _requests);

    internal void OnResponse() => Interlocked.Increment(ref _responses);

    internal void OnTimeout() => Interlocked.Increment(ref _timeouts);

    internal void OnLateReply() => Interlocked.Increment(ref _lateReplies);

    internal void OnUnmatchedReply() => Interlocked.Increment(ref _unmatchedReplies);

    internal void OnMalformedFrame() => Interlocked.Increment(ref _malformedFrames);

    internal void OnExceptionResponse() => Interlocked.Increment(ref _exceptionResponses);

    internal void OnConnectAttempt() => Interlocked.Increment(ref _connectAttempts);

    internal void OnConnectFailure() => Interlocked.Increment(ref _connectFailures);

    internal void OnReconnect() => Interlocked.Increment(ref _reconnects);

    internal void OnConnectionLost() => Interlocked.Increment(ref _connectionsLost);
}
