using System.Buffers.Binary;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace FactoryEdge.OpcUa.Tests;

/// <summary>Malformed and hostile input: the decoders enforce their limits and fail only with UaDecodingException.</summary>
public sealed class DecoderLimitTests
{
    private static UaDecodingException Reject(byte[] bytes, Action<BinaryDecoder> read, EncodingLimits? limits = null) =>
        Assert.Throws<UaDecodingException>(() => read(new BinaryDecoder(bytes, limits)));

    private static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    [Fact]
    public void ReadString_LongerThanLimit_BadEncodingLimitsExceeded()
    {
        byte[] bytes = [.. Int32(100), .. new byte[100]];

        var error = Reject(bytes, d => d.ReadString(), EncodingLimits.Default with { MaxStringLength = 99 });

        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, error.StatusCode);
    }

    [Fact]
    public void ReadString_LengthPastTheEnd_BadDecodingError()
    {
        var error = Reject([.. Int32(10), 1, 2], d => d.ReadString());

        Assert.Equal(StatusCodes.BadDecodingError, error.StatusCode);
        Assert.Contains("ends early", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadString_InvalidUtf8_Rejected()
    {
        Reject([.. Int32(2), 0xC3, 0x28], d => d.ReadString());
    }

    [Fact]
    public void ReadVariant_HugeArrayLength_RejectedBeforeAllocating()
    {
        // A Double array claiming 200 million elements in a 9-byte message.
        byte[] bytes = [0x80 | (int)BuiltInType.Double, .. Int32(200_000_000), 0, 0, 0, 0];

        var error = Reject(bytes, d => d.ReadVariant());

        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, error.StatusCode);
    }

    [Fact]
    public void ReadVariant_ArrayLongerThanTheMessage_BadDecodingError()
    {
        byte[] bytes = [0x80 | (int)BuiltInType.Float, .. Int32(1000), 0, 0, 0, 0];

        var error = Reject(bytes, d => d.ReadVariant());

        Assert.Equal(StatusCodes.BadDecodingError, error.StatusCode);
    }

    [Fact]
    public void ReadVariant_ArrayAboveMaxArrayLength_BadEncodingLimitsExceeded()
    {
        var encoder = new BinaryEncoder();
        encoder.WriteVariant(new Variant(new float[5000]));

        var error = Reject(encoder.ToArray(), d => d.ReadVariant(), EncodingLimits.Default with { MaxArrayLength = 4096 });

        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, error.StatusCode);
    }

    [Fact]
    public void ReadVariant_NestedBeyondDepth_BadEncodingLimitsExceeded()
    {
        // Variant[1] containing Variant[1] containing ... 100 levels.
        var bytes = new List<byte>();
        for (var i = 0; i < 100; i++)
        {
            bytes.Add(0x80 | (int)BuiltInType.Variant);
            bytes.AddRange(Int32(1));
        }

        bytes.Add(0);

        var error = Reject([.. bytes], d => d.ReadVariant(), EncodingLimits.Default with { MaxNestingDepth = 32 });

        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, error.StatusCode);
    }

    [Fact]
    public void ReadDiagnosticInfo_InnerChainBeyondDepth_Rejected()
    {
        var bytes = Enumerable.Repeat((byte)0x40, 200).Append((byte)0).ToArray();

        var error = Reject(bytes, d => d.ReadDiagnosticInfo(), EncodingLimits.Default with { MaxNestingDepth = 50 });

        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, error.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 26 }, "not a built-in type")]
    [InlineData(new byte[] { 0x40 | 6, 0, 0, 0, 0 }, "not an array")]
    [InlineData(new byte[] { 24 }, "scalar Variant")]
    public void ReadVariant_MalformedMask_Rejected(byte[] bytes, string reason)
    {
        var error = Reject(bytes, d => d.ReadVariant());

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadVariant_MatrixDimensionsDisagreeWithLength_Rejected()
    {
        byte[] bytes = [0xC0 | (int)BuiltInType.Byte, .. Int32(2), 1, 2, .. Int32(2), .. Int32(2), .. Int32(2)];

        var error = Reject(bytes, d => d.ReadVariant());

        Assert.Contains("dimensions give 4 elements but 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadNodeId_UnknownEncoding_Rejected()
    {
        Reject([0x06, 0, 0], d => d.ReadNodeId());
    }

    [Fact]
    public void ReadMessage_UnknownType_Rejected()
    {
        var error = Reject([0x01, 0x00, 0x39, 0x30], d => d.ReadMessage());

        Assert.Contains("Unknown message type", error.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 500)]
    public bool ReadMessage_ArbitraryBytes_FailsOnlyWithDecodingError(byte[] bytes)
    {
        return OnlyDecodingErrors(() => new BinaryDecoder(bytes ?? []).ReadMessage());
    }

    [Property(MaxTest = 500)]
    public bool ReadVariantAndDataValue_ArbitraryBytes_FailOnlyWithDecodingError(byte[] bytes)
    {
        bytes ??= [];
        return OnlyDecodingErrors(() => new BinaryDecoder(bytes).ReadVariant())
            && OnlyDecodingErrors(() => new BinaryDecoder(bytes).ReadDataValue())
            && OnlyDecodingErrors(() => new BinaryDecoder(bytes).ReadDiagnosticInfo())
            && OnlyDecodingErrors(() => new BinaryDecoder(bytes).ReadExpandedNodeId());
    }

    /// <summary>Valid publish responses with bytes flipped: each decode ends in a result or a UaDecodingException.</summary>
    [Property(MaxTest = 300)]
    public Property ReadMessage_MutatedPublishResponse_FailsOnlyWithDecodingError()
    {
        var encoder = new BinaryEncoder();
        encoder.WriteMessage(new PublishResponse
        {
            SubscriptionId = 1,
            NotificationMessage = new NotificationMessage
            {
                SequenceNumber = 2,
                NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue { Value = new Variant(new float[] { 1, 2, 3 }), SourceTimestamp = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc) } }] })],
            },
        });
        var valid = encoder.ToArray();
        var mutations = Gen.Choose(0, valid.Length - 1).Zip(Gen.Choose(0, 255)).ListOf();
        return Prop.ForAll(mutations.ToArbitrary(), list =>
        {
            var bytes = (byte[])valid.Clone();
            foreach (var (at, value) in list)
            {
                bytes[at] = (byte)value;
            }

            return OnlyDecodingErrors(() => new BinaryDecoder(bytes).ReadMessage());
        });
    }

    [Property(MaxTest = 300)]
    public bool Variant_DoubleArrays_RoundTrip(double[] values)
    {
        values ??= [];
        var encoder = new BinaryEncoder();
        encoder.WriteVariant(new Variant(values));
        var back = (double[])new BinaryDecoder(encoder.ToArray()).ReadVariant().Value!;
        return back.AsSpan().SequenceEqual(values);
    }

    [Property(MaxTest = 300)]
    public bool Variant_Strings_RoundTrip(string[] values)
    {
        values ??= [];
        // Lone surrogates are not UTF-8 encodable: the encoder replaces them, so compare what UTF-8 keeps.
        var expected = values.Select(static v => v is null ? null : System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(v))).ToArray();
        var encoder = new BinaryEncoder();
        encoder.WriteVariant(new Variant(BuiltInType.String, values, true));
        var back = (string?[])new BinaryDecoder(encoder.ToArray()).ReadVariant().Value!;
        return back.SequenceEqual(expected);
    }

    [Property(MaxTest = 300)]
    public bool NodeId_NumericAndString_RoundTrip(ushort ns, uint id, string text)
    {
        var encoder = new BinaryEncoder();
        var numeric = new NodeId(id, ns);
        var named = new NodeId(text ?? "", ns);
        encoder.WriteNodeId(numeric);
        encoder.WriteNodeId(named);
        var decoder = new BinaryDecoder(encoder.ToArray());
        return decoder.ReadNodeId().Equals(numeric) && (text is null || text.Any(char.IsSurrogate) || decoder.ReadNodeId().Equals(named));
    }

    private static bool OnlyDecodingErrors(Action decode)
    {
        try
        {
            decode();
            return true;
        }
        catch (UaDecodingException)
        {
            return true;
        }
    }
}
