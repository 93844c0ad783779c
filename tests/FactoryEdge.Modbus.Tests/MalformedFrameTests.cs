using FsCheck.Xunit;

namespace FactoryEdge.Modbus.Tests;

public sealed class MalformedFrameTests
{
    public static TheoryData<string, byte[], string> BadReplies => new()
    {
        { "protocol id", [0, 0, 0, 7, 0, 5, 1, 3, 2, 0, 1], "protocol id 7 is not 0" },
        { "oversized", [0, 0, 0, 0, 0x03, 0xE8, 1, 3], "oversized" },
        { "length too short", [0, 0, 0, 0, 0, 1, 1], "below the minimum" },
        { "wrong length", [0, 0, 0, 0, 0, 4, 1, 3, 2, 0], "PDU length 3 does not match byte count 2" },
        { "function mismatch", [0, 0, 0, 0, 0, 5, 1, 4, 2, 0, 1], "function code 0x04 does not match the request's 0x03" },
        { "unit mismatch", [0, 0, 0, 0, 0, 5, 9, 3, 2, 0, 1], "unit id 9 in the reply does not match the request's 1" },
    };

    [Theory]
    [MemberData(nameof(BadReplies))]
    public async Task MalformedReply_EachKind_RejectedLoggedAndConnectionReset(string name, byte[] reply, string reason)
    {
        Assert.NotEmpty(name);
        var log = new CollectingLogger();
        var garbageOnce = 1;

        // The transaction id of the first request is random: answer with the id the client used.
        var connection = new FakeConnection(request => Interlocked.Exchange(ref garbageOnce, 0) == 1 ? WithTransactionId(reply, Frames.TransactionId(request)) : Frames.EchoAddresses(request));
        var connector = new FakeConnector(() => connection);
        await using var client = new ModbusClient(new ModbusClientOptions(), connector, log, null);
        var error = await Assert.ThrowsAnyAsync<ModbusException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.True(error is ModbusMalformedFrameException or ModbusConnectionException, error.GetType().Name);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Statistics.MalformedFrames);
        Assert.True(connection.Aborted);
        Assert.True(log.Contains(reason), "reason logged");
    }

    [Fact]
    public async Task MalformedReply_RealSocket_ClientResetsAndRecovers()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 0, 77);
        var garbageOnce = 1;
        server.Server.Faults.Rule = _ => Interlocked.Exchange(ref garbageOnce, 0) == 1 ? ModbusFault.Raw(new byte[] { 0, 1, 0, 9, 0, 3, 1, 3, 0 }) : ModbusFault.None;
        await using var client = new ModbusClient(server.ClientOptions());
        await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        Assert.Equal(77, values[0]);
        Assert.Equal(1, client.Statistics.MalformedFrames);
        Assert.Equal(1, client.Statistics.Reconnects);
    }

    [Fact]
    public async Task TruncatedReply_PeerCloses_ConnectionResetWithReason()
    {
        var connection = new FakeConnection(_ => null);
        var log = new CollectingLogger();
        await using var client = new ModbusClient(new ModbusClientOptions(), new FakeConnector(() => connection), log, null);
        var read = client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        await ClientTests.WaitUntil(() => !connection.Sent.IsEmpty);
        connection.Sent.TryPeek(out var request);
        connection.Feed(Frames.EchoAddresses(request!)[..8]);
        connection.CloseFromPeer();
        var error = await Assert.ThrowsAsync<ModbusConnectionException>(() => read);
        Assert.Contains("truncated frame", error.Message, StringComparison.Ordinal);
        Assert.True(log.Contains("truncated frame"));
    }

    [Fact]
    public async Task TruncatedReply_ThenTimeout_ConnectionReset()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var connection = new FakeConnection(_ => null);
        await using var client = new ModbusClient(new ModbusClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(200) }, new FakeConnector(() => connection), null, time);
        var read = client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        await ClientTests.WaitUntil(() => !connection.Sent.IsEmpty);
        connection.Sent.TryPeek(out var request);
        connection.Feed(Frames.EchoAddresses(request!)[..9]);
        await Task.Delay(50);
        time.Advance(TimeSpan.FromMilliseconds(250));
        await Assert.ThrowsAsync<ModbusTimeoutException>(() => read);
        await ClientTests.WaitUntil(() => connection.Aborted);
        Assert.Equal(1, client.Statistics.MalformedFrames);
    }

    [Property(MaxTest = 200)]
    public bool MbapDecode_ArbitraryBytes_NeverThrowsAndStaysInBounds(byte[] bytes)
    {
        bytes ??= [];
        var status = MbapCodec.TryDecode(bytes, out var header, out var length, out var reason);
        return status switch
        {
            FrameStatus.Complete => length >= 8 && length <= bytes.Length && length == 6 + header.Length && length <= ModbusLimits.MaxTcpAduLength,
            FrameStatus.Malformed => !string.IsNullOrEmpty(reason),
            _ => bytes.Length < ModbusLimits.MaxTcpAduLength,
        };
    }

    [Property(MaxTest = 200)]
    public bool RtuDecode_ArbitraryBytes_NeverThrowsAndStaysInBounds(byte[] bytes)
    {
        bytes ??= [];
        var response = RtuCodec.TryDecodeResponse(bytes, out var responseLength, out var responseReason);
        var request = RtuCodec.TryDecodeRequest(bytes, out var requestLength, out var requestReason);
        return Check(response, responseLength, responseReason, bytes.Length) && Check(request, requestLength, requestReason, bytes.Length);

        static bool Check(FrameStatus status, int length, string? reason, int available) => status switch
        {
            FrameStatus.Complete => length >= 5 && length <= available && length <= ModbusLimits.MaxRtuAduLength,
            FrameStatus.Malformed => !string.IsNullOrEmpty(reason),
            _ => available < ModbusLimits.MaxRtuAduLength,
        };
    }

    [Property(MaxTest = 200)]
    public bool RtuDecode_ValidFrameWithOneFlippedBit_NeverComplete(ushort value, byte flipAt, byte bit)
    {
        var frame = new byte[7];
        RtuCodec.WriteFrame(frame, 1, [0x03, 0x02, (byte)(value >> 8), (byte)value]);
        frame[flipAt % frame.Length] ^= (byte)(1 << (bit % 8));
        var status = RtuCodec.TryDecodeResponse(frame, out var length, out _);

        // CRC-16 detects every single-bit error; a flipped byte count may instead ask for more bytes.
        return status != FrameStatus.Complete || length != 7;
    }

    [Property(MaxTest = 300)]
    public bool CheckResponse_ArbitraryPdu_NeverThrows(byte function, ushort address, ushort count, byte[] pdu)
    {
        pdu ??= [];
        var request = new ModbusRequestInfo(1, (ModbusFunction)((function % 4) + 1), address, (ushort)((count % 125) + 1));
        var result = ModbusPdu.CheckResponse(request, pdu, out _, out var reason);
        return result != PduCheck.Malformed || reason is not null;
    }

    /// <summary>
    /// Fuzz of the whole receive path (seeded, so a failure reproduces): valid replies mutated by bit
    /// flips, truncation, extension and random bytes. Every read must end with success or a
    /// <see cref="ModbusException"/> — never hang, never another exception type.
    /// </summary>
    [Fact]
    public async Task Client_FuzzedReplies_AlwaysCompleteWithModbusOutcome()
    {
        var random = new Random(20240603);
        for (var round = 0; round < 300; round++)
        {
            var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
            var connection = new FakeConnection(_ => null);
            await using var client = new ModbusClient(new ModbusClientOptions { RequestTimeout = TimeSpan.FromSeconds(1) }, new FakeConnector(() => connection), null, time);
            var read = client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 2);
            await ClientTests.WaitUntil(() => !connection.Sent.IsEmpty);
            connection.Sent.TryPeek(out var request);
            connection.Feed(Mutate(Frames.EchoAddresses(request!), random));
            if (random.Next(2) == 0)
            {
                connection.CloseFromPeer();
            }
            else
            {
                await Task.Delay(1);
                time.Advance(TimeSpan.FromSeconds(2));
            }

            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5)));
            Assert.Same(read, finished);
            Assert.True(read.Exception is null || read.Exception.InnerException is ModbusException, $"round {round}: {read.Exception?.InnerException}");
        }
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                var flipped = (byte[])valid.Clone();
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }

                return flipped;
            case 1:
                return valid[..random.Next(valid.Length)];
            case 2:
                var longer = new byte[valid.Length + random.Next(1, 300)];
                valid.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(valid.Length));
                return longer;
            default:
                var noise = new byte[random.Next(1, 600)];
                random.NextBytes(noise);
                return noise;
        }
    }

    private static byte[] WithTransactionId(byte[] reply, ushort transactionId)
    {
        var copy = (byte[])reply.Clone();
        copy[0] = (byte)(transactionId >> 8);
        copy[1] = (byte)transactionId;
        return copy;
    }
}
