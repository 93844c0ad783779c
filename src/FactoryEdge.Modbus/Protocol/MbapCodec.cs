using System.Buffers.Binary;
using System.Globalization;

namespace FactoryEdge.Modbus;

/// <summary>The 7-byte Modbus Application Protocol header of Modbus TCP.</summary>
public readonly record struct MbapHeader(ushort TransactionId, ushort ProtocolId, ushort Length, byte UnitId);

/// <summary>
/// Modbus TCP framing (Messaging on TCP/IP Implementation Guide V1.0b, §3.1.3): a 7-byte MBAP header
/// (transaction id, protocol id 0, length of unit id + PDU, unit id) followed by the PDU.
/// </summary>
public static class MbapCodec
{
    /// <summary>Smallest legal length field: unit id and a function code.</summary>
    public const int MinLengthField = 2;

    /// <summary>Largest legal length field: unit id and a 253-byte PDU.</summary>
    public const int MaxLengthField = 1 + ModbusLimits.MaxPduLength;

    /// <summary>Writes the header for a PDU of <paramref name="pduLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, ushort transactionId, byte unitId, int pduLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, transactionId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)(pduLength + 1));
        destination[6] = unitId;
    }

    /// <summary>
    /// Finds the frame at the start of <paramref name="buffer"/>. Rejects a protocol id other than 0
    /// and a length field outside 2..254 as soon as those bytes are present (so an oversized or
    /// garbage header never makes the reader wait for bytes that will not come).
    /// </summary>
    /// <param name="buffer">Received bytes, starting at a frame boundary.</param>
    /// <param name="header">The header, when at least 7 bytes are present and valid.</param>
    /// <param name="frameLength">Total frame length (header + PDU) when complete.</param>
    /// <param name="reason">Why the frame is malformed.</param>
    public static FrameStatus TryDecode(ReadOnlySpan<byte> buffer, out MbapHeader header, out int frameLength, out string? reason)
    {
        header = default;
        frameLength = 0;
        reason = null;
        if (buffer.Length >= 4)
        {
            var protocolId = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
            if (protocolId != 0)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"protocol id {protocolId} is not 0 (Modbus)");
                return FrameStatus.Malformed;
            }
        }

        if (buffer.Length >= 6)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(buffer[4..]);
            if (length < MinLengthField)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"length field {length} is below the minimum of {MinLengthField}");
                return FrameStatus.Malformed;
            }

            if (length > MaxLengthField)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"length field {length} exceeds the maximum of {MaxLengthField} (oversized frame)");
                return FrameStatus.Malformed;
            }
        }

        if (buffer.Length < ModbusLimits.MbapHeaderLength)
        {
            return FrameStatus.NeedMoreData;
        }

        header = new MbapHeader(
            BinaryPrimitives.ReadUInt16BigEndian(buffer),
            0,
            BinaryPrimitives.ReadUInt16BigEndian(buffer[4..]),
            buffer[6]);
        frameLength = 6 + header.Length;
        if (buffer.Length < frameLength)
        {
            return FrameStatus.NeedMoreData;
        }

        return FrameStatus.Complete;
    }
}
