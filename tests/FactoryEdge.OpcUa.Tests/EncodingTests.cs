using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Tests;

public sealed class EncodingTests
{
    private static byte[] Encode(Action<BinaryEncoder> write)
    {
        var encoder = new BinaryEncoder(8);
        write(encoder);
        return encoder.ToArray();
    }

    private static BinaryDecoder Decoder(byte[] bytes, EncodingLimits? limits = null) => new(bytes, limits);

    public static TheoryData<string, byte[]> NodeIdVectors => new()
    {
        { "i=85", [0x00, 0x55] },
        { "ns=2;i=1025", [0x01, 0x02, 0x01, 0x04] },
        { "ns=300;i=7", [0x02, 0x2C, 0x01, 0x07, 0x00, 0x00, 0x00] },
        { "i=70000", [0x02, 0x00, 0x00, 0x70, 0x11, 0x01, 0x00] },
        { "ns=1;s=Hot", [0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, (byte)'H', (byte)'o', (byte)'t'] },
    };

    [Theory]
    [MemberData(nameof(NodeIdVectors))]
    public void NodeId_KnownForms_EncodeToSpecBytesAndBack(string text, byte[] expected)
    {
        var id = NodeId.Parse(text);

        var bytes = Encode(e => e.WriteNodeId(id));

        Assert.Equal(expected, bytes);
        Assert.Equal(id, Decoder(bytes).ReadNodeId());
        Assert.Equal(text, id.ToString());
    }

    [Fact]
    public void NodeId_GuidAndOpaque_RoundTrip()
    {
        var guid = new NodeId(Guid.Parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63"), 5);
        var opaque = new NodeId([1, 2, 3, 250], 7);

        var bytes = Encode(e =>
        {
            e.WriteNodeId(guid);
            e.WriteNodeId(opaque);
        });
        var decoder = Decoder(bytes);

        Assert.Equal(0x04, bytes[0]);
        Assert.Equal(guid, decoder.ReadNodeId());
        Assert.Equal(opaque, decoder.ReadNodeId());
        Assert.Equal(0, decoder.Remaining);
        // The Guid's first field is little-endian on the wire (OPC 10000-6 §5.2.2.7).
        Assert.Equal(0x91, bytes[3]);
    }

    [Fact]
    public void ExpandedNodeId_UriAndServerIndex_SetFlagsAndRoundTrip()
    {
        var id = new ExpandedNodeId(new NodeId("Pump", 0), "urn:plant", 3);

        var bytes = Encode(e => e.WriteExpandedNodeId(id));
        var back = Decoder(bytes).ReadExpandedNodeId();

        Assert.Equal(0xC3, bytes[0]);
        Assert.Equal(id, back);
        Assert.Equal("svr=3;nsu=urn:plant;s=Pump", back.ToString());
    }

    [Fact]
    public void DateTime_Limits_MapToZeroAndMaxAndBack()
    {
        var t = new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc).AddTicks(4567);

        Assert.Equal(new byte[8], Encode(e => e.WriteDateTime(DateTime.MinValue)));
        Assert.Equal(new byte[8], Encode(e => e.WriteDateTime(new DateTime(1500, 1, 1, 0, 0, 0, DateTimeKind.Utc))));
        Assert.Equal(BitConverter.GetBytes(long.MaxValue), Encode(e => e.WriteDateTime(DateTime.MaxValue)));
        Assert.Equal(t, Decoder(Encode(e => e.WriteDateTime(t))).ReadDateTime());
        Assert.Equal(DateTime.MinValue, Decoder(BitConverter.GetBytes(-5L)).ReadDateTime());
        Assert.Equal(DateTime.MaxValue, Decoder(BitConverter.GetBytes(long.MaxValue)).ReadDateTime());
        Assert.Equal(t.ToFileTimeUtc(), BitConverter.ToInt64(Encode(e => e.WriteDateTime(t))));
    }

    [Fact]
    public void String_NullEmptyAndUnicode_RoundTrip()
    {
        var bytes = Encode(e =>
        {
            e.WriteString(null);
            e.WriteString("");
            e.WriteString("水 °C");
        });
        var decoder = Decoder(bytes);

        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], bytes[..4]);
        Assert.Null(decoder.ReadString());
        Assert.Equal("", decoder.ReadString());
        Assert.Equal("水 °C", decoder.ReadString());
    }

    [Fact]
    public void LocalizedTextAndQualifiedName_RoundTrip()
    {
        var bytes = Encode(e =>
        {
            e.WriteLocalizedText(new LocalizedText("en", "Speed"));
            e.WriteLocalizedText(new LocalizedText(null, "x"));
            e.WriteLocalizedText(default);
            e.WriteQualifiedName(new QualifiedName(3, "Waveform"));
        });
        var decoder = Decoder(bytes);

        Assert.Equal(new LocalizedText("en", "Speed"), decoder.ReadLocalizedText());
        Assert.Equal(new LocalizedText(null, "x"), decoder.ReadLocalizedText());
        Assert.Equal(default, decoder.ReadLocalizedText());
        Assert.Equal(new QualifiedName(3, "Waveform"), decoder.ReadQualifiedName());
    }

    [Fact]
    public void DataValue_AllFields_RoundTripInSpecOrder()
    {
        var value = new DataValue
        {
            Value = new Variant(2.5),
            StatusCode = new StatusCode(StatusCodes.UncertainInitialValue),
            SourceTimestamp = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            SourcePicoseconds = 7,
            ServerTimestamp = new DateTime(2024, 1, 1, 0, 0, 1, DateTimeKind.Utc),
            ServerPicoseconds = 9,
        };

        var bytes = Encode(e => e.WriteDataValue(value));
        var back = Decoder(bytes).ReadDataValue();

        Assert.Equal(0x3F, bytes[0]);
        Assert.Equal(2.5, back.Value.ToDouble());
        Assert.Equal(value.StatusCode, back.StatusCode);
        Assert.Equal(value.SourceTimestamp, back.SourceTimestamp);
        Assert.Equal(7, back.SourcePicoseconds);
        Assert.Equal(value.ServerTimestamp, back.ServerTimestamp);
        Assert.Equal(9, back.ServerPicoseconds);
    }

    [Fact]
    public void Variant_FloatArray_EncodesLengthThenLittleEndianElements()
    {
        var samples = new[] { 1f, -2.5f, 3e9f };

        var bytes = Encode(e => e.WriteVariant(new Variant(samples)));
        var back = Decoder(bytes).ReadVariant();

        Assert.Equal(0x80 | (int)BuiltInType.Float, bytes[0]);
        Assert.Equal(3, BitConverter.ToInt32(bytes, 1));
        Assert.Equal(-2.5f, BitConverter.ToSingle(bytes, 9));
        Assert.Equal(samples, Assert.IsType<float[]>(back.Value));
        Assert.True(back.IsArray);
    }

    [Fact]
    public void Variant_Matrix_KeepsDimensions()
    {
        var matrix = new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4, 5, 6 }, true, [2, 3]);

        var bytes = Encode(e => e.WriteVariant(matrix));
        var back = Decoder(bytes).ReadVariant();

        Assert.Equal(0xC0 | (int)BuiltInType.Int32, bytes[0]);
        Assert.Equal([2, 3], back.Dimensions!);
        Assert.Equal([1, 2, 3, 4, 5, 6], Assert.IsType<int[]>(back.Value));
    }

    [Fact]
    public void Variant_EveryScalarType_RoundTrips()
    {
        object?[] values =
        [
            true, (sbyte)-3, (byte)200, (short)-300, (ushort)60000, -70000, 4000000000u, -5L, 6UL, 1.5f, 2.25, "text",
            new DateTime(2020, 2, 2, 0, 0, 0, DateTimeKind.Utc), Guid.NewGuid(), new byte[] { 1, 2 }, "<x/>", new NodeId(9u, 2),
            new ExpandedNodeId(new NodeId("a", 1)), new StatusCode(StatusCodes.BadTimeout), new QualifiedName(1, "n"), new LocalizedText("de", "t"),
        ];
        for (var type = BuiltInType.Boolean; type <= BuiltInType.LocalizedText; type++)
        {
            var value = values[(int)type - 1];
            var bytes = Encode(e => e.WriteVariant(new Variant(type, value)));
            var back = Decoder(bytes).ReadVariant();

            Assert.Equal(type, back.Type);
            if (value is byte[] raw)
            {
                Assert.Equal(raw, Assert.IsType<byte[]>(back.Value));
            }
            else
            {
                Assert.Equal(value, back.Value);
            }
        }
    }

    [Fact]
    public void ExtensionObject_KnownType_DecodesIntoItsClass()
    {
        var eu = new EUInformation { NamespaceUri = "http://www.opcfoundation.org/UA/units/un/cefact", UnitId = 4408652, DisplayName = new LocalizedText(null, "°C") };

        var bytes = Encode(e => e.WriteVariant(new Variant(BuiltInType.ExtensionObject, new ExtensionObject(eu))));
        var back = Decoder(bytes).ReadVariant();

        var decoded = Assert.IsType<EUInformation>(Assert.IsType<ExtensionObject>(back.Value).Body);
        Assert.Equal(4408652, decoded.UnitId);
        Assert.Equal("°C", decoded.DisplayName.Text);
    }

    [Fact]
    public void ExtensionObject_UnknownType_KeepsRawBody()
    {
        var bytes = Encode(e =>
        {
            e.WriteNodeId(new NodeId(99999u, 4));
            e.WriteByte(1);
            e.WriteByteString([9, 8, 7]);
        });

        var back = Decoder(bytes).ReadExtensionObject();

        Assert.Null(back.Body);
        Assert.Equal([9, 8, 7], back.Raw);
        Assert.Equal(new NodeId(99999u, 4), back.TypeId);
    }

    [Fact]
    public void DiagnosticInfo_Nested_RoundTrips()
    {
        var info = new DiagnosticInfo { SymbolicId = 1, NamespaceUri = 2, Locale = 3, LocalizedText = 4, AdditionalInfo = "more", InnerStatusCode = new StatusCode(StatusCodes.BadNodeIdUnknown), InnerDiagnosticInfo = new DiagnosticInfo { SymbolicId = 5 } };

        var back = Decoder(Encode(e => e.WriteDiagnosticInfo(info))).ReadDiagnosticInfo();

        Assert.Equal((1, 2, 3, 4, "more"), (back.SymbolicId, back.NamespaceUri, back.Locale, back.LocalizedText, back.AdditionalInfo));
        Assert.Equal(StatusCodes.BadNodeIdUnknown, back.InnerStatusCode!.Value.Code);
        Assert.Equal(5, back.InnerDiagnosticInfo!.SymbolicId);
    }

    [Fact]
    public void PublishResponse_WithDataChange_RoundTripsThroughTheMessageFactory()
    {
        var response = new PublishResponse
        {
            SubscriptionId = 7,
            AvailableSequenceNumbers = [3, 4],
            NotificationMessage = new NotificationMessage
            {
                SequenceNumber = 4,
                PublishTime = new DateTime(2024, 3, 3, 0, 0, 0, DateTimeKind.Utc),
                NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 2, Value = new DataValue { Value = new Variant(new float[4096]) } }] })],
            },
        };

        var bytes = Encode(e => e.WriteMessage(response));
        var back = Assert.IsType<PublishResponse>(Decoder(bytes).ReadMessage());

        Assert.Equal(7u, back.SubscriptionId);
        Assert.Equal([3u, 4u], back.AvailableSequenceNumbers);
        var change = Assert.IsType<DataChangeNotification>(back.NotificationMessage.NotificationData[0].Body);
        Assert.Equal(2u, change.MonitoredItems[0].ClientHandle);
        Assert.Equal(4096, change.MonitoredItems[0].Value.Value.ArrayLength);
    }

    [Fact]
    public void StatusCode_SeverityAndOverflowBits_AreRead()
    {
        Assert.True(new StatusCode(0).IsGood);
        Assert.True(new StatusCode(StatusCodes.UncertainInitialValue).IsUncertain);
        Assert.True(new StatusCode(StatusCodes.BadTimeout).IsBad);
        Assert.True(new StatusCode(0x00000480).Overflow);
        Assert.False(new StatusCode(0x00000080).Overflow);
        Assert.Equal("BadNodeIdUnknown", StatusCodes.Name(0x80340000));
        Assert.Equal("Bad(0x80FF0000)", StatusCodes.Name(0x80FF0000));
    }
}
