namespace FactoryEdge.Modbus.Tests;

public sealed class ServerTests
{
    [Fact]
    public void Serve_UnsupportedFunction_IllegalFunction()
    {
        var response = new byte[8];
        var n = new ModbusRegisterBank().Serve([0x2B, 0x0E, 0x01, 0x00, 0x00], response);
        Assert.Equal(new byte[] { 0xAB, 0x01 }, response[..n]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(126)]
    public void Serve_QuantityOutOfRange_IllegalDataValue(int quantity)
    {
        var response = new byte[8];
        var n = new ModbusRegisterBank().Serve([0x03, 0, 0, 0, (byte)quantity], response);
        Assert.Equal(new byte[] { 0x83, 0x03 }, response[..n]);
    }

    [Fact]
    public void Serve_ReadTouchingHole_IllegalDataAddress()
    {
        var bank = new ModbusRegisterBank();
        bank.SetHole(ModbusTable.InputRegisters, 10, 2);
        var response = new byte[256];
        Assert.Equal(2, bank.Serve([0x04, 0, 8, 0, 3], response));
        Assert.Equal(0x02, response[1]);
        Assert.Equal(2 + 4, bank.Serve([0x04, 0, 8, 0, 2], response));
        bank.SetHole(ModbusTable.InputRegisters, 10, 2, absent: false);
        Assert.Equal(2 + 6, bank.Serve([0x04, 0, 8, 0, 3], response));
    }

    [Fact]
    public void Serve_ReadPastEnd_IllegalDataAddress()
    {
        var response = new byte[256];
        new ModbusRegisterBank().Serve([0x03, 0xFF, 0xFF, 0, 2], response);
        Assert.Equal(0x83, response[0]);
        Assert.Equal(0x02, response[1]);
    }

    [Fact]
    public void Serve_WriteMultipleWithWrongByteCount_IllegalDataValue()
    {
        var response = new byte[8];
        new ModbusRegisterBank().Serve([0x10, 0, 0, 0, 2, 3, 0, 1, 0, 2], response);
        Assert.Equal(new byte[] { 0x90, 0x03 }, response[..2]);
    }

    [Fact]
    public void Serve_ClientWrite_RaisesWrittenHook()
    {
        var bank = new ModbusRegisterBank();
        (ModbusTable, ushort, int)? seen = null;
        bank.Written = (table, address, count) => seen = (table, address, count);
        bank.Serve([0x10, 0, 4, 0, 2, 4, 0, 1, 0, 2], new byte[8]);
        Assert.Equal((ModbusTable.HoldingRegisters, (ushort)4, 2), seen);
    }

    [Fact]
    public async Task MaxConnections_Exceeded_ExtraConnectionClosed()
    {
        await using var server = new TestServer(new ModbusServerOptions { MaxConnections = 1 });
        await using var first = new ModbusClient(server.ClientOptions());
        await first.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        await using var second = new ModbusClient(server.ClientOptions());
        await Assert.ThrowsAsync<ModbusConnectionException>(() => second.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Equal(1, server.Server.Statistics.RejectedConnections);
        await first.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
    }

    [Fact]
    public async Task Fault_CloseConnection_ClientSeesConnectionLost()
    {
        await using var server = new TestServer();
        server.Server.Faults.Rule = _ => ModbusFault.Close;
        await using var client = new ModbusClient(server.ClientOptions());
        await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Equal(1, client.Statistics.ConnectionsLost);
    }

    [Fact]
    public async Task MalformedRequest_ServerClosesConnection()
    {
        await using var server = new TestServer();
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, server.Port);
        await socket.SendAsync(new byte[] { 0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1 });
        var buffer = new byte[16];
        int received;
        try
        {
            received = await socket.ReceiveAsync(buffer);
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            received = 0;
        }

        Assert.Equal(0, received);
        Assert.Equal(1, server.Server.Statistics.MalformedRequests);
    }

    [Fact]
    public void WaveformPublisher_Publish_WritesDocumentedLayout()
    {
        var bank = new ModbusRegisterBank();
        var layout = new ModbusWaveformLayout(1000, 3);
        var publisher = new ModbusWaveformPublisher(bank, ModbusTable.InputRegisters, layout);
        var sequence = publisher.Publish([1.5f, -2f, 3.25f], 25600f);
        var registers = new ushort[layout.TotalRegisters];
        bank.GetRegisters(ModbusTable.InputRegisters, 1000, registers);
        Assert.Equal(1, sequence);
        Assert.Equal(11, layout.TotalRegisters);
        Assert.Equal(1, registers[0]);
        Assert.Equal(3, registers[1]);
        Assert.Equal(25600f, RegisterCodec.DecodeSingle(registers.AsSpan(2, 2), ModbusByteOrder.BigEndian, ModbusWordOrder.HighWordFirst));
        Assert.Equal(-2f, RegisterCodec.DecodeSingle(registers.AsSpan(6, 2), ModbusByteOrder.BigEndian, ModbusWordOrder.HighWordFirst));
        Assert.Equal(1, registers[10]);
    }

    [Fact]
    public void WaveformPublisher_BeginWithoutEnd_HeadAheadOfTail()
    {
        var bank = new ModbusRegisterBank();
        var publisher = new ModbusWaveformPublisher(bank, ModbusTable.HoldingRegisters, new ModbusWaveformLayout(0, 2), initialSequence: 65535);
        publisher.BeginUpdate(100f);
        Assert.Equal(0, bank.GetRegister(ModbusTable.HoldingRegisters, 0));
        Assert.Equal(65535, bank.GetRegister(ModbusTable.HoldingRegisters, publisher.Layout.TailAddress));
        publisher.EndUpdate();
        Assert.Equal(0, bank.GetRegister(ModbusTable.HoldingRegisters, publisher.Layout.TailAddress));
    }

    [Fact]
    public void WaveformLayout_TooLarge_Rejected()
    {
        Assert.NotNull(new ModbusWaveformLayout(60000, 4000).Validate());
        Assert.Null(new ModbusWaveformLayout(0, 4000).Validate());
    }
}
