using System.Globalization;
using System.Text;
using FactoryEdge.Modbus;

namespace FactoryEdge.Simulator.Modbus;

/// <summary>An injected exception response: every request, or only those whose range covers <see cref="Address"/>.</summary>
internal readonly record struct ExceptionRule(ModbusExceptionCode Code, int? Address)
{
    public override string ToString() => Address is { } a
        ? string.Create(CultureInfo.InvariantCulture, $"{(byte)Code}@{a}")
        : ((byte)Code).ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>CODE[@ADDRESS]</c>; numbers decimal or 0x-hex; code 1–255, address 0–65535.</summary>
    public static bool TryParse(string? text, out ExceptionRule rule, out string? problem)
    {
        rule = default;
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "expected CODE[@ADDRESS], e.g. 4 or 2@1000";
            return false;
        }

        var parts = text.Trim().Split('@');
        if (parts.Length > 2)
        {
            problem = $"'{text}' is not CODE[@ADDRESS]";
            return false;
        }

        if (!TryParseNumber(parts[0], out var code) || code is < 1 or > 255)
        {
            problem = $"'{parts[0]}' is not an exception code (1–255, decimal or 0x-hex: 1 illegal function, 2 illegal address, 3 illegal value, 4 device failure, 6 busy, 10 (0x0A) gateway path, 11 (0x0B) gateway target)";
            return false;
        }

        int? address = null;
        if (parts.Length == 2)
        {
            if (!TryParseNumber(parts[1], out var a) || a is < 0 or > 65535)
            {
                problem = $"'{parts[1]}' is not a register address (0–65535, protocol numbering)";
                return false;
            }

            address = a;
        }

        rule = new ExceptionRule((ModbusExceptionCode)code, address);
        return true;
    }

    public bool Matches(in ModbusRequestInfo request)
    {
        if (Address is not { } address)
        {
            return true;
        }

        // Single writes carry a value, not a count, in the second word.
        var count = request.Function is ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister ? 1 : Math.Max(1, (int)request.Count);
        return address >= request.Address && address < request.Address + count;
    }

    internal static bool TryParseNumber(string text, out int value)
    {
        text = text.Trim();
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>How often a connection is dropped (or a reply swallowed): never, at the next request only, or every Nth request.</summary>
internal readonly record struct FaultSchedule(int Every, bool Next)
{
    public static FaultSchedule Off => default;

    public bool IsOff => Every == 0 && !Next;

    public override string ToString() => Next
        ? "next"
        : Every > 0 ? string.Create(CultureInfo.InvariantCulture, $"every {Every}") : "off";
}

/// <summary>Counters of the faults applied.</summary>
internal readonly record struct FaultCounters(long Requests, long Exceptions, long Slowed, long Dropped, long Muted);

/// <summary>
/// The transport faults of the Modbus simulator, changeable while it runs (command line at start,
/// stdin commands later). One decision per request, in this order: drop (close the connection
/// without a reply), mute (read the request, never answer), exception, slow (answer after a delay).
/// Every-Nth schedules count all requests the server receives.
/// </summary>
internal sealed class ModbusFaultInjector
{
    public const int MaxSlowMilliseconds = 600_000;

    private readonly Lock _gate = new();
    private readonly List<ExceptionRule> _exceptions = [];
    private TimeSpan _slow;
    private FaultSchedule _drop;
    private FaultSchedule _mute;
    private long _requests;
    private long _exceptionCount;
    private long _slowed;
    private long _dropped;
    private long _muted;

    public FaultCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new FaultCounters(_requests, _exceptionCount, _slowed, _dropped, _muted);
            }
        }
    }

    public ModbusFault Decide(in ModbusRequestInfo request)
    {
        lock (_gate)
        {
            _requests++;
            if (Due(ref _drop))
            {
                _dropped++;
                return ModbusFault.Close;
            }

            if (Due(ref _mute))
            {
                _muted++;
                return ModbusFault.Drop;
            }

            foreach (var rule in _exceptions)
            {
                if (rule.Matches(request))
                {
                    _exceptionCount++;
                    return ModbusFault.Respond(rule.Code);
                }
            }

            if (_slow > TimeSpan.Zero)
            {
                _slowed++;
                return ModbusFault.Slow(_slow);
            }

            return ModbusFault.None;
        }
    }

    public void AddException(ExceptionRule rule)
    {
        lock (_gate)
        {
            _exceptions.Remove(rule);
            _exceptions.Add(rule);
        }
    }

    public void ClearExceptions()
    {
        lock (_gate)
        {
            _exceptions.Clear();
        }
    }

    public void SetSlow(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        lock (_gate)
        {
            _slow = delay;
        }
    }

    public void SetDrop(FaultSchedule schedule)
    {
        lock (_gate)
        {
            _drop = schedule;
        }
    }

    public void SetMute(FaultSchedule schedule)
    {
        lock (_gate)
        {
            _mute = schedule;
        }
    }

    /// <summary>Removes every fault (the counters stay).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _exceptions.Clear();
            _slow = TimeSpan.Zero;
            _drop = FaultSchedule.Off;
            _mute = FaultSchedule.Off;
        }
    }

    /// <summary>E.g. <c>exception=4,2@1000 slow=200 drop=every 5 mute=off</c>.</summary>
    public string Describe()
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            text.Append("exception=").Append(_exceptions.Count == 0 ? "off" : string.Join(',', _exceptions));
            text.Append(CultureInfo.InvariantCulture, $" slow={_slow.TotalMilliseconds:0}");
            text.Append(" drop=").Append(_drop.ToString().Replace(' ', '-'));
            text.Append(" mute=").Append(_mute.ToString().Replace(' ', '-'));
            return text.ToString();
        }
    }

    private bool Due(ref FaultSchedule schedule)
    {
        if (schedule.Next)
        {
            schedule = FaultSchedule.Off;
            return true;
        }

        return schedule.Every > 0 && _requests % schedule.Every == 0;
    }
}
