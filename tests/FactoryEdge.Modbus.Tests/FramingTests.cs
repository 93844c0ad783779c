namespace FactoryEdge.Modbus.Tests;

public sealed class FramingTests
{
    [Fact]
    public void Crc_StandardCheckString_Is4B37()
    {
        Assert.Equal(0x4B37, ModbusCrc.Compute("123456789"u8));
    }

    [Fact]
    public void Crc_ReadHoldingRequest_MatchesSpecExample()
    {
        // 01 03 00 00 00 0A is sent with C5 CD (CRC low byte first).
        Assert.Equal(0xCDC5, ModbusCrc.Compute([0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]));
    }

    [Fact]
    public void RtuWriteFrame_ReadRequest_AppendsCrcLowByteFirst()
    {
        var frame = new byte[8];
        var pdu = new byte[5];
        ModbusPdu.WriteReadRequest(pdu, ModbusFunction.ReadHoldingRegisters, 0, 10);
        var length = RtuCodec.WriteFrame(frame, 1, pdu);
        Assert.Equal(8, length);
        Assert.Equal(new byte[] { 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD }, frame);
    }

    [Fact]
    public void RtuDecodeRequest_ValidFrame_Complete()
    {
        byte[] frame = [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD];
        Assert.Equal(FrameStatus.Complete, RtuCodec.TryDecodeRequest(frame, out var length, out _));
        Assert.Equal(8, length);
    }

    [Fact]
    public void RtuDecodeResponse_ReadReply_Complete()
    {
        var frame = RtuFrame(0x11, 0x03, 0x04, 0x00, 0x2A, 0x01, 0x02);
        Assert.Equal(FrameStatus.Complete, RtuCodec.TryDecodeResponse(frame, out var length, out _));
        Assert.Equal(9, length);
    }

    [Fact]
    public void RtuDecodeResponse_PartialFrame_NeedsMoreData()
    {
        var frame = RtuFrame(0x11, 0x03, 0x04, 0x00, 0x2A, 0x01, 0x02);
        for (var n = 0; n < frame.Length; n++)
        {
            Assert.Equal(FrameStatus.NeedMoreData, RtuCodec.TryDecodeResponse(frame.AsSpan(0, n), out _, out _));
        }
    }

    [Fact]
    public void RtuDecodeResponse_ExceptionReply_FiveBytes()
    {
        var frame = RtuFrame(0x01, 0x83, 0x02);
        Assert.Equal(FrameStatus.Complete, RtuCodec.TryDecodeResponse(frame, out var length, out _));
        Assert.Equal(5, length);
    }

    [Fact]
    public void RtuDecodeResponse_WriteReply_EightBytes()
    {
        var frame = RtuFrame(0x01, 0x10, 0x00, 0x01, 0x00, 0x02);
        Assert.Equal(FrameStatus.Complete, RtuCodec.TryDecodeResponse(frame, out var length, out _));
        Assert.Equal(8, length);
    }

    [Fact]
    public void RtuDecodeResponse_CorruptedByte_MalformedWithCrcReason()
    {
        var frame = RtuFrame(0x11, 0x03, 0x02, 0x12, 0x34);
        frame[3] ^= 0x01;
        Assert.Equal(FrameStatus.Malformed, RtuCodec.TryDecodeResponse(frame, out _, out var reason));
        Assert.Contains("CRC mismatch", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RtuDecodeResponse_UnknownFunction_Malformed()
    {
        Assert.Equal(FrameStatus.Malformed, RtuCodec.TryDecodeResponse([0x01, 0x2B, 0x00], out _, out var reason));
        Assert.Contains("unsupported function code 0x2B", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RtuDecodeResponse_ByteCountTooLarge_MalformedOversized()
    {
        Assert.Equal(FrameStatus.Malformed, RtuCodec.TryDecodeResponse([0x01, 0x03, 0xFF], out _, out var reason));
        Assert.Contains("oversized", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RtuDecodeRequest_WriteMultiple_UsesByteCount()
    {
        var pdu = new byte[16];
        var n = ModbusPdu.WriteMultipleRegistersRequest(pdu, 5, [1, 2, 3]);
        var frame = new byte[n + 3];
        RtuCodec.WriteFrame(frame, 7, pdu.AsSpan(0, n));
        Assert.Equal(FrameStatus.Complete, RtuCodec.TryDecodeRequest(frame, out var length, out _));
        Assert.Equal(9 + 6, length);
    }

    [Fact]
    public void MbapDecode_ValidFrame_ReturnsHeaderAndLength()
    {
        var frame = Frames.Mbap(0x1234, 9, 0x03, 0x02, 0x00, 0x07);
        Assert.Equal(FrameStatus.Complete, MbapCodec.TryDecode(frame, out var header, out var length, out _));
        Assert.Equal(new MbapHeader(0x1234, 0, 5, 9), header);
        Assert.Equal(11, length);
    }

    [Fact]
    public void MbapDecode_TruncatedFrame_NeedsMoreData()
    {
        var frame = Frames.Mbap(1, 1, 0x03, 0x02, 0x00, 0x07);
        Assert.Equal(FrameStatus.NeedMoreData, MbapCodec.TryDecode(frame.AsSpan(0, 10), out _, out _, out _));
        Assert.Equal(FrameStatus.NeedMoreData, MbapCodec.TryDecode(frame.AsSpan(0, 3), out _, out _, out _));
    }

    [Fact]
    public void MbapDecode_ProtocolIdNotZero_MalformedAsSoonAsVisible()
    {
        byte[] start = [0x00, 0x01, 0x00, 0x05];
        Assert.Equal(FrameStatus.Malformed, MbapCodec.TryDecode(start, out _, out _, out var reason));
        Assert.Contains("protocol id 5", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void MbapDecode_LengthBelowTwo_Malformed(int lengthField)
    {
        byte[] frame = [0, 1, 0, 0, 0, (byte)lengthField, 1, 3];
        Assert.Equal(FrameStatus.Malformed, MbapCodec.TryDecode(frame, out _, out _, out var reason));
        Assert.Contains("below the minimum", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MbapDecode_LengthOver254_MalformedOversized()
    {
        byte[] frame = [0, 1, 0, 0, 0x01, 0x00];
        Assert.Equal(FrameStatus.Malformed, MbapCodec.TryDecode(frame, out _, out _, out var reason));
        Assert.Contains("oversized", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckResponse_ReadReply_Ok()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.ReadHoldingRegisters, 0, 2);
        Assert.Equal(PduCheck.Ok, ModbusPdu.CheckResponse(request, [0x03, 0x04, 0, 1, 0, 2], out _, out _));
    }

    [Fact]
    public void CheckResponse_ExceptionReply_ReturnsCode()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.ReadInputRegisters, 0, 2);
        Assert.Equal(PduCheck.ExceptionResponse, ModbusPdu.CheckResponse(request, [0x84, 0x0B], out var code, out _));
        Assert.Equal(ModbusExceptionCode.GatewayTargetDeviceFailedToRespond, code);
    }

    [Fact]
    public void CheckResponse_OtherFunction_MalformedMismatch()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.ReadHoldingRegisters, 0, 1);
        Assert.Equal(PduCheck.Malformed, ModbusPdu.CheckResponse(request, [0x04, 0x02, 0, 1], out _, out var reason));
        Assert.Contains("does not match the request's 0x03", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckResponse_ByteCountDisagreesWithRequest_Malformed()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.ReadHoldingRegisters, 0, 2);
        Assert.Equal(PduCheck.Malformed, ModbusPdu.CheckResponse(request, [0x03, 0x02, 0, 1], out _, out var reason));
        Assert.Contains("byte count 2 but 4 expected", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckResponse_LengthDisagreesWithByteCount_Malformed()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.ReadHoldingRegisters, 0, 1);
        Assert.Equal(PduCheck.Malformed, ModbusPdu.CheckResponse(request, [0x03, 0x02, 0, 1, 9], out _, out var reason));
        Assert.Contains("PDU length 5", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckResponse_WriteEchoDiffers_Malformed()
    {
        var request = new ModbusRequestInfo(1, ModbusFunction.WriteSingleRegister, 10, 1, 0x1234);
        Assert.Equal(PduCheck.Malformed, ModbusPdu.CheckResponse(request, [0x06, 0, 10, 0x12, 0x35], out _, out var reason));
        Assert.Contains("write echo", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PackBits_ThenUnpack_RoundTrips()
    {
        bool[] bits = [true, false, true, true, false, false, false, true, true, false, true];
        var packed = new byte[2];
        ModbusPdu.PackBits(bits, packed);
        Assert.Equal(0x8D, packed[0]);
        Assert.Equal(0x05, packed[1]);
        var unpacked = new bool[bits.Length];
        ModbusPdu.UnpackBits(packed, unpacked);
        Assert.Equal(bits, unpacked);
    }

    private static byte[] RtuFrame(params byte[] unitAndPdu)
    {
        var frame = new byte[unitAndPdu.Length + 2];
        RtuCodec.WriteFrame(frame, unitAndPdu[0], unitAndPdu.AsSpan(1));
        return frame;
    }
}
