using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FactoryEdge.Operations;

/// <summary>Sends service state to the init system (systemd's sd_notify protocol).</summary>
public interface IServiceNotifier
{
    /// <summary>True when a notification socket is configured (running under systemd with Type=notify).</summary>
    bool IsEnabled { get; }

    /// <summary>The watchdog interval the init system expects (null: no watchdog).</summary>
    TimeSpan? WatchdogInterval { get; }

    /// <summary>Sends one datagram of newline-separated assignments (READY=1, WATCHDOG=1, STATUS=…).</summary>
    void Notify(string state);
}

/// <summary>
/// sd_notify over the Unix datagram socket named by <c>NOTIFY_SOCKET</c> (a path, or '@' for the
/// abstract namespace). Watchdog from <c>WATCHDOG_USEC</c> (and <c>WATCHDOG_PID</c> when set).
/// Without <c>NOTIFY_SOCKET</c> it does nothing. Send failures are swallowed: the init system going
/// away must never take the gateway down.
/// </summary>
public sealed class SdNotifier : IServiceNotifier, IDisposable
{
    private readonly Lock _lock = new();
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private Socket? _socket;

    public SdNotifier()
        : this(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId)
    {
    }

    internal SdNotifier(string? notifySocket, string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!string.IsNullOrEmpty(notifySocket) && (OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD() || OperatingSystem.IsMacOS()))
        {
            var path = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
            _endpoint = new UnixDomainSocketEndPoint(path);
        }

        if (_endpoint is not null
            && long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            && (string.IsNullOrEmpty(watchdogPid) || (int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid == processId)))
        {
            WatchdogInterval = TimeSpan.FromMicroseconds(usec);
        }
    }

    public bool IsEnabled => _endpoint is not null;

    public TimeSpan? WatchdogInterval { get; }

    public void Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_endpoint is null)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(state);
        lock (_lock)
        {
            try
            {
                _socket ??= new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                _socket.SendTo(bytes, SocketFlags.None, _endpoint);
            }
            catch (SocketException)
            {
                _socket?.Dispose();
                _socket = null;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }
}
