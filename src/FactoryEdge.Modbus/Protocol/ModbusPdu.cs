using System.Buffers.Binary;
using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>Outcome of decoding a frame from a byte buffer.</summary>
public enum FrameStatus
{
    /// <summary>The buffer holds the start of a frame: read more bytes.</summary>
    NeedMoreData,
    /// <summary>A complete, well-formed frame is at the start of the buffer.</summary>
    Complete,
    /// <summary>The bytes cannot be a valid frame; the reason says why. The connection should be reset.</summary>
    Malformed,
}

/// <summary>Outcome of checking a response PDU against the request it answers.</summary>
public enum PduCheck
{
    Ok,
    ExceptionResponse,
    Malformed,
}

/// <summary>What a request asked for: enough to check its response and to describe it in errors.</summary>
public readonly record struct ModbusRequestInfo(byte UnitId, ModbusFunction Function, ushort Address, ushort Count, ushort Value = 0)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"unit {UnitId} {Function} address {Address} count {Count}");
}

/// <summary>Builds request PDUs and checks response PDUs (function code, lengths, echoes).</summary>
public static class ModbusPdu
{
    /// <summary>True for the function codes this stack implements.</summary>
    public static bool IsSupported(byte functionCode) => functionCode is 1 or 2 or 3 or 4 or 5 or 6 or 15 or 16;

    public static bool IsRead(ModbusFunction function) => (byte)function is >= 1 and <= 4;

    public static bool IsBitRead(ModbusFunction function) => function is ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs;

    /// <summary>Writes a read request (01–04). Returns the PDU length (5).</summary>
    public static int WriteReadRequest(Span<byte> destination, ModbusFunction function, ushort address, ushort count)
    {
        destination[0] = (byte)function;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], count);
        return 5;
    }

    /// <summary>Writes a write-single-coil request (05): value FF00 for on, 0000 for off.</summary>
    public static int WriteSingleCoilRequest(Span<byte> destination, ushort address, bool value)
    {
        destination[0] = (byte)ModbusFunction.WriteSingleCoil;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], value ? (ushort)0xFF00 : (ushort)0x0000);
        return 5;
    }

    /// <summary>Writes a write-single-register request (06).</summary>
    public static int WriteSingleRegisterRequest(Span<byte> destination, ushort address, ushort value)
    {
        destination[0] = (byte)ModbusFunction.WriteSingleRegister;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], value);
        return 5;
    }

    /// <summary>Writes a write-multiple-registers request (16).</summary>
    public static int WriteMultipleRegistersRequest(Span<byte> destination, ushort address, ReadOnlySpan<ushort> values)
    {
        if (values.Length is < 1 or > ModbusLimits.MaxWriteRegisters)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"1 to {ModbusLimits.MaxWriteRegisters} registers per write.");
        }

        destination[0] = (byte)ModbusFunction.WriteMultipleRegisters;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        destination[5] = (byte)(values.Length * 2);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[(6 + (2 * i))..], values[i]);
        }

        return 6 + (2 * values.Length);
    }

    /// <summary>Writes a write-multiple-coils request (15).</summary>
    public static int WriteMultipleCoilsRequest(Span<byte> destination, ushort address, ReadOnlySpan<bool> values)
    {
        if (values.Length is < 1 or > ModbusLimits.MaxWriteCoils)
        {
            throw new ArgumentOutOfRangeException(nameof(values), values.Length, $"1 to {ModbusLimits.MaxWriteCoils} coils per write.");
        }

        var byteCount = (values.Length + 7) / 8;
        destination[0] = (byte)ModbusFunction.WriteMultipleCoils;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], (ushort)values.Length);
        destination[5] = (byte)byteCount;
        PackBits(values, destination.Slice(6, byteCount));
        return 6 + byteCount;
    }

    /// <summary>Packs bits LSB first (bit 0 of byte 0 is the first value), as Modbus does.</summary>
    public static void PackBits(ReadOnlySpan<bool> values, Span<byte> destination)
    {
        destination[..((values.Length + 7) / 8)].Clear();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i])
            {
                destination[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
    }

    /// <summary>Unpacks bits LSB first.</summary>
    public static void UnpackBits(ReadOnlySpan<byte> source, Span<bool> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (source[i >> 3] & (1 << (i & 7))) != 0;
        }
    }

    /// <summary>Copies big-endian register bytes into registers.</summary>
    public static void ReadRegisters(ReadOnlySpan<byte> source, Span<ushort> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadUInt16BigEndian(source[(2 * i)..]);
        }
    }

    /// <summary>Length of the normal (non-exception) response PDU to a request.</summary>
    public static int ExpectedResponseLength(ModbusFunction function, ushort count) => function switch
    {
        ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs => 2 + ((count + 7) / 8),
        ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters => 2 + (2 * count),
        _ => 5,
    };

    /// <summary>
    /// Checks a response PDU against its request. On <see cref="PduCheck.Ok"/> the data (for reads)
    /// starts at offset 2. A function code that is neither the request's nor its exception form, a
    /// byte count that disagrees with the request or with the PDU length, or a write echo that differs
    /// from the request is <see cref="PduCheck.Malformed"/> with a reason.
    /// </summary>
    public static PduCheck CheckResponse(in ModbusRequestInfo request, ReadOnlySpan<byte> pdu, out ModbusExceptionCode exceptionCode, out string? reason)
    {
        exceptionCode = default;
        reason = null;
        if (pdu.Length < 2)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"response PDU of {pdu.Length} byte(s) is too short");
            return PduCheck.Malformed;
        }

        var fc = pdu[0];
        if (fc == ((byte)request.Function | 0x80))
        {
            if (pdu.Length != 2)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"exception response has {pdu.Length} bytes, 2 expected");
                return PduCheck.Malformed;
            }

            exceptionCode = (ModbusExceptionCode)pdu[1];
            return PduCheck.ExceptionResponse;
        }

        if (fc != (byte)request.Function)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"function code 0x{fc:X2} does not match the request's 0x{(byte)request.Function:X2}");
            return PduCheck.Malformed;
        }

        switch (request.Function)
        {
            case ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs or ModbusFunction.ReadHoldingRegisters or ModbusFunction.ReadInputRegisters:
                {
                    var expectedBytes = ExpectedResponseLength(request.Function, request.Count) - 2;
                    if (pdu[1] != expectedBytes)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"byte count {pdu[1]} but {expectedBytes} expected for count {request.Count}");
                        return PduCheck.Malformed;
                    }

                    if (pdu.Length != 2 + expectedBytes)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"PDU length {pdu.Length} does not match byte count {pdu[1]}");
                        return PduCheck.Malformed;
                    }

                    return PduCheck.Ok;
                }

            default:
                {
                    if (pdu.Length != 5)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"write response has {pdu.Length} bytes, 5 expected");
                        return PduCheck.Malformed;
                    }

                    var address = BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]);
                    var second = BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]);
                    var expectedSecond = request.Function is ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister ? request.Value : request.Count;
                    if (address != request.Address || second != expectedSecond)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"write echo {address}/{second} does not match the request's {request.Address}/{expectedSecond}");
                        return PduCheck.Malformed;
                    }

                    return PduCheck.Ok;
                }
        }
    }
}
