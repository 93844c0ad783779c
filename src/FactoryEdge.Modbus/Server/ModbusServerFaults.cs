namespace FactoryEdge.Modbus;

/// <summary>What the server does with one request instead of (or before) answering it normally.</summary>
public enum ModbusFaultKind
{
    None,
    /// <summary>Answer with an exception response.</summary>
    Exception,
    /// <summary>Answer after a delay (the connection serves nothing else meanwhile, like a slow device).</summary>
    Delay,
    /// <summary>Read the request and never answer (the client times out).</summary>
    DropReply,
    /// <summary>Close the connection without answering.</summary>
    CloseConnection,
    /// <summary>Answer with raw bytes instead of a well-formed reply (for malformed-frame tests).</summary>
    Garbage,
}

/// <summary>A fault decision for one request.</summary>
public readonly record struct ModbusFault(ModbusFaultKind Kind, ModbusExceptionCode Code = default, TimeSpan Delay = default, ReadOnlyMemory<byte> Bytes = default)
{
    public static ModbusFault None => default;

    public static ModbusFault Respond(ModbusExceptionCode code) => new(ModbusFaultKind.Exception, code);

    public static ModbusFault Slow(TimeSpan delay) => new(ModbusFaultKind.Delay, Delay: delay);

    public static ModbusFault Drop => new(ModbusFaultKind.DropReply);

    public static ModbusFault Close => new(ModbusFaultKind.CloseConnection);

    public static ModbusFault Raw(ReadOnlyMemory<byte> bytes) => new(ModbusFaultKind.Garbage, Bytes: bytes);
}

/// <summary>
/// Faults injected by a <see cref="ModbusServer"/> on demand. Settings may change while the server runs.
/// <see cref="Rule"/>, when set, decides per request and takes precedence over the simple settings.
/// </summary>
public sealed class ModbusServerFaults
{
    private double _dropReplyProbability;

    /// <summary>Delay before every reply.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>When set, every request is answered with this exception.</summary>
    public ModbusExceptionCode? ForcedException { get; set; }

    /// <summary>Probability (0..1) that a request is read but never answered.</summary>
    public double DropReplyProbability
    {
        get => _dropReplyProbability;
        set => _dropReplyProbability = Math.Clamp(value, 0, 1);
    }

    /// <summary>Per-request decision; returns <see cref="ModbusFault.None"/> to fall back to the settings above.</summary>
    public Func<ModbusRequestInfo, ModbusFault>? Rule { get; set; }

    /// <summary>Random source for <see cref="DropReplyProbability"/> (seed it for reproducible runs).</summary>
    public Random Random { get; set; } = Random.Shared;

    internal ModbusFault Decide(in ModbusRequestInfo request)
    {
        var rule = Rule;
        if (rule is not null)
        {
            var fault = rule(request);
            if (fault.Kind != ModbusFaultKind.None)
            {
                return fault;
            }
        }

        if (ForcedException is { } code)
        {
            return ModbusFault.Respond(code);
        }

        var p = _dropReplyProbability;
        if (p > 0)
        {
            double draw;
            lock (Random)
            {
                draw = Random.NextDouble();
            }

            if (draw < p)
            {
                return ModbusFault.Drop;
            }
        }

        var delay = ResponseDelay;
        return delay > TimeSpan.Zero ? ModbusFault.Slow(delay) : ModbusFault.None;
    }
}
