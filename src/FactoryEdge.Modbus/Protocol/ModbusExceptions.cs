using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>Base of every error the Modbus stack raises.</summary>
public class ModbusException : Exception
{
    public ModbusException()
    {
    }

    public ModbusException(string message)
        : base(message)
    {
    }

    public ModbusException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The device answered with an exception response: the request reached it and it refused.</summary>
public sealed class ModbusExceptionResponseException : ModbusException
{
    public ModbusExceptionResponseException(byte unitId, ModbusFunction function, ushort address, ushort count, ModbusExceptionCode code)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"Modbus exception {(byte)code:X2} {code} from unit {unitId} for {function} (function {(byte)function:X2}) at address {address}, count {count}: {code.Describe()}."))
    {
        UnitId = unitId;
        Function = function;
        Address = address;
        Count = count;
        Code = code;
    }

    public ModbusExceptionResponseException()
    {
    }

    public ModbusExceptionResponseException(string message)
        : base(message)
    {
    }

    public ModbusExceptionResponseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public byte UnitId { get; }

    public ModbusFunction Function { get; }

    /// <summary>Protocol (0-based) start address of the request.</summary>
    public ushort Address { get; }

    public ushort Count { get; }

    public ModbusExceptionCode Code { get; }
}

/// <summary>No reply came within the request timeout.</summary>
public sealed class ModbusTimeoutException : ModbusException
{
    public ModbusTimeoutException()
    {
    }

    public ModbusTimeoutException(string message)
        : base(message)
    {
    }

    public ModbusTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The connection is not available: connect failed, the peer closed it, or it was reset after a
/// malformed frame. The client reconnects on its own (with backoff) on a later request.
/// </summary>
public sealed class ModbusConnectionException : ModbusException
{
    public ModbusConnectionException()
    {
    }

    public ModbusConnectionException(string message)
        : base(message)
    {
    }

    public ModbusConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A reply violated the protocol (wrong length, protocol id, function, CRC...). The connection was reset.</summary>
public sealed class ModbusMalformedFrameException : ModbusException
{
    public ModbusMalformedFrameException()
    {
    }

    public ModbusMalformedFrameException(string message)
        : base(message)
    {
    }

    public ModbusMalformedFrameException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
