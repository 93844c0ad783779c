using System.Buffers.Binary;
using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial value 0xFFFF, sent low byte first.</summary>
public static class ModbusCrc
{
    private static readonly ushort[] Table = BuildTable();

    public static ushort Compute(ReadOnlySpan<byte> data)
    {
        ushort crc = 0xFFFF;
        foreach (var b in data)
        {
            crc = (ushort)((crc >> 8) ^ Table[(crc ^ b) & 0xFF]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (ushort)((crc >> 1) ^ 0xA001) : (ushort)(crc >> 1);
            }

            table[i] = crc;
        }

        return table;
    }
}

/// <summary>
/// Modbus RTU framing: unit id, PDU, CRC-16 (low byte first). RTU has no length field, so the frame
/// length is derived from the function code (and byte count), as the serial-line spec describes.
/// </summary>
public static class RtuCodec
{
    /// <summary>Writes unit, PDU and CRC. Returns the frame length.</summary>
    public static int WriteFrame(Span<byte> destination, byte unitId, ReadOnlySpan<byte> pdu)
    {
        destination[0] = unitId;
        pdu.CopyTo(destination[1..]);
        var crc = ModbusCrc.Compute(destination[..(1 + pdu.Length)]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(1 + pdu.Length)..], crc);
        return 3 + pdu.Length;
    }

    /// <summary>Finds a response frame (server → client) at the start of the buffer and checks its CRC.</summary>
    public static FrameStatus TryDecodeResponse(ReadOnlySpan<byte> buffer, out int frameLength, out string? reason)
    {
        frameLength = 0;
        reason = null;
        if (buffer.Length < 2)
        {
            return FrameStatus.NeedMoreData;
        }

        var fc = buffer[1];
        if ((fc & 0x80) != 0)
        {
            if (!ModbusPdu.IsSupported((byte)(fc & 0x7F)))
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"exception response for unsupported function 0x{fc & 0x7F:X2}");
                return FrameStatus.Malformed;
            }

            frameLength = 5;
        }
        else
        {
            switch (fc)
            {
                case 1 or 2 or 3 or 4:
                    if (buffer.Length < 3)
                    {
                        return FrameStatus.NeedMoreData;
                    }

                    frameLength = 5 + buffer[2];
                    if (frameLength > ModbusLimits.MaxRtuAduLength)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"byte count {buffer[2]} makes the frame longer than {ModbusLimits.MaxRtuAduLength} bytes (oversized frame)");
                        return FrameStatus.Malformed;
                    }

                    break;
                case 5 or 6 or 15 or 16:
                    frameLength = 8;
                    break;
                default:
                    reason = string.Create(CultureInfo.InvariantCulture, $"unsupported function code 0x{fc:X2} in response");
                    return FrameStatus.Malformed;
            }
        }

        return CheckCrc(buffer, frameLength, out reason);
    }

    /// <summary>Finds a request frame (client → server) at the start of the buffer and checks its CRC.</summary>
    public static FrameStatus TryDecodeRequest(ReadOnlySpan<byte> buffer, out int frameLength, out string? reason)
    {
        frameLength = 0;
        reason = null;
        if (buffer.Length < 2)
        {
            return FrameStatus.NeedMoreData;
        }

        switch (buffer[1])
        {
            case 1 or 2 or 3 or 4 or 5 or 6:
                frameLength = 8;
                break;
            case 15 or 16:
                if (buffer.Length < 7)
                {
                    return FrameStatus.NeedMoreData;
                }

                frameLength = 9 + buffer[6];
                if (frameLength > ModbusLimits.MaxRtuAduLength)
                {
                    reason = string.Create(CultureInfo.InvariantCulture, $"byte count {buffer[6]} makes the frame longer than {ModbusLimits.MaxRtuAduLength} bytes (oversized frame)");
                    return FrameStatus.Malformed;
                }

                break;
            default:
                reason = string.Create(CultureInfo.InvariantCulture, $"unsupported function code 0x{buffer[1]:X2} in request (frame length unknown)");
                return FrameStatus.Malformed;
        }

        return CheckCrc(buffer, frameLength, out reason);
    }

    private static FrameStatus CheckCrc(ReadOnlySpan<byte> buffer, int frameLength, out string? reason)
    {
        reason = null;
        if (buffer.Length < frameLength)
        {
            return FrameStatus.NeedMoreData;
        }

        var expected = ModbusCrc.Compute(buffer[..(frameLength - 2)]);
        var actual = BinaryPrimitives.ReadUInt16LittleEndian(buffer[(frameLength - 2)..]);
        if (expected != actual)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"CRC mismatch: frame carries 0x{actual:X4}, computed 0x{expected:X4}");
            return FrameStatus.Malformed;
        }

        return FrameStatus.Complete;
    }
}
