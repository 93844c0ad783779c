using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Modbus.Tests;

public sealed class ClientTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReadHoldingRegisters_OurServer_ReturnsBankValues()
    {
        await using var server = new TestServer();
        server.Bank.SetRegisters(ModbusTable.HoldingRegisters, 100, [1, 2, 3, 0xFFFF]);
        await using var client = new ModbusClient(server.ClientOptions());
        var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 100, 4);
        Assert.Equal(new ushort[] { 1, 2, 3, 0xFFFF }, values);
    }

    [Fact]
    public async Task ReadInputCoilsDiscrete_OurServer_ReturnEachTable()
    {
        await using var server = new TestServer();
        server.Bank.SetRegisters(ModbusTable.InputRegisters, 0, [42]);
        server.Bank.SetBits(ModbusTable.Coils, 3, [true, false, true]);
        server.Bank.SetBits(ModbusTable.DiscreteInputs, 9, [true]);
        await using var client = new ModbusClient(server.ClientOptions());
        var input = new ushort[1];
        await client.ReadInputRegistersAsync(1, 0, input);
        var coils = new bool[3];
        await client.ReadCoilsAsync(1, 3, coils);
        var discrete = new bool[2];
        await client.ReadDiscreteInputsAsync(1, 9, discrete);
        Assert.Equal(42, input[0]);
        Assert.Equal([true, false, true], coils);
        Assert.Equal([true, false], discrete);
    }

    [Fact]
    public async Task Writes_AllFourFunctions_UpdateTheBank()
    {
        await using var server = new TestServer();
        await using var client = new ModbusClient(server.ClientOptions());
        await client.WriteSingleRegisterAsync(1, 10, 0xBEEF);
        await client.WriteMultipleRegistersAsync(1, 20, new ushort[] { 7, 8, 9 });
        await client.WriteSingleCoilAsync(1, 5, true);
        await client.WriteMultipleCoilsAsync(1, 30, new[] { true, true, false, true });
        var registers = new ushort[3];
        server.Bank.GetRegisters(ModbusTable.HoldingRegisters, 20, registers);
        var coils = new bool[4];
        server.Bank.GetBits(ModbusTable.Coils, 30, coils);
        var single = new bool[1];
        server.Bank.GetBits(ModbusTable.Coils, 5, single);
        Assert.Equal(0xBEEF, server.Bank.GetRegister(ModbusTable.HoldingRegisters, 10));
        Assert.Equal(new ushort[] { 7, 8, 9 }, registers);
        Assert.Equal([true, true, false, true], coils);
        Assert.True(single[0]);
    }

    [Fact]
    public async Task Read_IllegalAddress_ThrowsClearException()
    {
        await using var server = new TestServer();
        server.Bank.SetHole(ModbusTable.HoldingRegisters, 500, 10);
        await using var client = new ModbusClient(server.ClientOptions());
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 7, 495, 10));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        Assert.Equal(ModbusFunction.ReadHoldingRegisters, ex.Function);
        Assert.Equal(495, ex.Address);
        Assert.Contains("exception 02 IllegalDataAddress from unit 7 for ReadHoldingRegisters (function 03) at address 495, count 10", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Statistics.ExceptionResponses);
    }

    [Theory]
    [InlineData(ModbusExceptionCode.GatewayPathUnavailable, "no path")]
    [InlineData(ModbusExceptionCode.GatewayTargetDeviceFailedToRespond, "did not respond")]
    [InlineData(ModbusExceptionCode.ServerDeviceBusy, "busy")]
    public async Task Read_GatewayAndBusyExceptions_NamedAndExplained(ModbusExceptionCode code, string explanation)
    {
        await using var server = new TestServer();
        server.Server.Faults.ForcedException = code;
        await using var client = new ModbusClient(server.ClientOptions());
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.InputRegisters, 3, 0, 1));
        Assert.Equal(code, ex.Code);
        Assert.Contains(code.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(explanation, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipelining_ManyConcurrentReads_EachGetsItsOwnReply()
    {
        await using var server = new TestServer();
        for (var i = 0; i < 1000; i++)
        {
            server.Bank.SetRegister(ModbusTable.HoldingRegisters, (ushort)i, (ushort)(i * 3));
        }

        await using var client = new ModbusClient(server.ClientOptions(maxInFlight: 16));
        var reads = Enumerable.Range(0, 200).Select(async i =>
        {
            var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, (ushort)(i * 4), 4);
            return (i, values);
        }).ToArray();
        foreach (var (i, values) in await Task.WhenAll(reads))
        {
            Assert.Equal(Enumerable.Range(i * 4, 4).Select(a => (ushort)(a * 3)), values);
        }

        Assert.Equal(200, client.Statistics.Responses);
    }

    [Fact]
    public async Task Pipelining_MaxInFlight_IsRespected()
    {
        var connection = new FakeConnection(Frames.EchoAddresses, TimeSpan.FromMilliseconds(20));
        var connector = new FakeConnector(() => connection);
        await using var client = new ModbusClient(new ModbusClientOptions { MaxInFlight = 3, RequestTimeout = TimeSpan.FromSeconds(10) }, connector, null, null);
        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, (ushort)i, 1)));
        Assert.InRange(connection.MaxOutstanding, 1, 3);
    }

    [Fact]
    public async Task Pipelining_BehindGateway_OneRequestPerUnit()
    {
        var connection = new FakeConnection(Frames.EchoAddresses, TimeSpan.FromMilliseconds(10));
        var connector = new FakeConnector(() => connection);
        await using var client = new ModbusClient(new ModbusClientOptions { MaxInFlight = 8, MaxInFlightPerUnit = 1, RequestTimeout = TimeSpan.FromSeconds(10) }, connector, null, null);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 5, (ushort)i, 1)));
        Assert.Equal(1, connection.MaxOutstanding);
    }

    [Fact]
    public async Task Read_NoReply_TimesOutWithClearError()
    {
        await using var server = new TestServer();
        server.Server.Faults.DropReplyProbability = 1;
        await using var client = new ModbusClient(server.ClientOptions(timeoutMs: 100));
        var ex = await Assert.ThrowsAsync<ModbusTimeoutException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 10, 2));
        Assert.Contains("no reply within 100 ms", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Statistics.Timeouts);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task LateReply_AfterTimeout_DiscardedAndCountedNotAnError()
    {
        var time = new FakeTimeProvider();
        var connection = new FakeConnection(_ => null);
        var connector = new FakeConnector(() => connection);
        await using var client = new ModbusClient(new ModbusClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(500) }, connector, null, time);
        var read = client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        await WaitUntil(() => !connection.Sent.IsEmpty);
        time.Advance(TimeSpan.FromMilliseconds(600));
        await Assert.ThrowsAsync<ModbusTimeoutException>(() => read);

        connection.Sent.TryPeek(out var request);
        connection.Feed(Frames.EchoAddresses(request!));
        await WaitUntil(() => client.Statistics.LateReplies == 1);
        Assert.Equal(0, client.Statistics.MalformedFrames);
        Assert.False(connection.Aborted);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task LateReply_RealServerSlowThenFast_NextRequestUnaffected()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 1, 11);
        var slowOnce = 1;
        server.Server.Faults.Rule = r => r.Address == 0 && Interlocked.Exchange(ref slowOnce, 0) == 1 ? ModbusFault.Slow(TimeSpan.FromMilliseconds(300)) : ModbusFault.None;
        await using var client = new ModbusClient(server.ClientOptions(timeoutMs: 100));
        await Assert.ThrowsAsync<ModbusTimeoutException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        await WaitUntil(() => client.Statistics.LateReplies == 1);
        var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 1, 1);
        Assert.Equal(11, values[0]);
        Assert.Equal(0, client.Statistics.ConnectionsLost);
    }

    [Fact]
    public async Task Cancellation_WhileWaiting_ThrowsOperationCanceled()
    {
        var connection = new FakeConnection(_ => null);
        await using var client = new ModbusClient(new ModbusClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) }, new FakeConnector(() => connection), null, null);
        using var cts = new CancellationTokenSource();
        var read = client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1, cts.Token);
        await WaitUntil(() => !connection.Sent.IsEmpty);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task ConnectionDropped_NextRequest_ReconnectsByItself()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 0, 5);
        await using var client = new ModbusClient(server.ClientOptions());
        await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        Assert.Equal(1, server.Server.DropConnections());
        await WaitUntil(() => !client.IsConnected);
        var values = await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        Assert.Equal(5, values[0]);
        Assert.Equal(1, client.Statistics.Reconnects);
        Assert.Equal(1, client.Statistics.ConnectionsLost);
    }

    [Fact]
    public async Task ConnectRefused_SecondCallWithinBackoff_FailsFastWithoutAttempt()
    {
        var time = new FakeTimeProvider();
        var port = FreePort();
        var options = new ModbusClientOptions { Port = port, ReconnectInitialDelay = TimeSpan.FromSeconds(1), ReconnectJitter = 0 };
        await using var client = new ModbusClient(options, null, time);
        await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        var ex = await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Contains("next attempt in 1000 ms", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Statistics.ConnectAttempts);
        time.Advance(TimeSpan.FromMilliseconds(1001));
        await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Equal(2, client.Statistics.ConnectAttempts);
        var third = await Assert.ThrowsAsync<ModbusConnectionException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1));
        Assert.Contains("next attempt in 2000 ms", third.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 0.5, 100)]
    [InlineData(2, 0.5, 200)]
    [InlineData(4, 0.5, 800)]
    [InlineData(20, 0.5, 5000)]
    [InlineData(1, 0.0, 80)]
    [InlineData(1, 1.0, 120)]
    public void ReconnectDelay_ExponentialCappedWithJitter(int failures, double random, double expectedMs)
    {
        var options = new ModbusClientOptions { ReconnectInitialDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromSeconds(5), ReconnectJitter = 0.2 };
        Assert.Equal(expectedMs, ModbusClient.ReconnectDelay(failures, options, random).TotalMilliseconds, 6);
    }

    [Fact]
    public async Task RtuOverTcp_OurServer_ReadsAndReportsExceptions()
    {
        await using var server = new TestServer(new ModbusServerOptions { Framing = ModbusFraming.RtuOverTcp });
        server.Bank.SetRegisters(ModbusTable.InputRegisters, 7, [0x1234, 0x5678]);
        server.Bank.SetHole(ModbusTable.InputRegisters, 100, 1);
        var options = server.ClientOptions();
        options.Framing = ModbusFraming.RtuOverTcp;
        await using var client = new ModbusClient(options);
        var values = await client.ReadRegistersAsync(ModbusTable.InputRegisters, 17, 7, 2);
        Assert.Equal(new ushort[] { 0x1234, 0x5678 }, values);
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.InputRegisters, 17, 100, 1));
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, ex.Code);
        await client.WriteSingleRegisterAsync(17, 3, 99);
        Assert.Equal(99, server.Bank.GetRegister(ModbusTable.HoldingRegisters, 3));
    }

    [Fact]
    public async Task UnknownUnitOnGateway_Exception0B()
    {
        var bank = new ModbusRegisterBank();
        await using var server = new ModbusServer(unit => unit == 1 ? bank : null);
        server.Start();
        await using var client = new ModbusClient(new ModbusClientOptions { Port = server.Port });
        await client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 1, 0, 1);
        var ex = await Assert.ThrowsAsync<ModbusExceptionResponseException>(() => client.ReadRegistersAsync(ModbusTable.HoldingRegisters, 2, 0, 1));
        Assert.Equal(ModbusExceptionCode.GatewayTargetDeviceFailedToRespond, ex.Code);
    }

    [Fact]
    public void Constructor_InvalidOptions_NamesTheProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModbusClient(new ModbusClientOptions { MaxInFlight = 0 }));
        Assert.Contains("MaxInFlight must be 1..256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_CountOver125_Rejected()
    {
        await using var client = new ModbusClient(new ModbusClientOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.ReadHoldingRegistersAsync(1, 0, new ushort[126]); });
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > Guard)
            {
                throw new TimeoutException("Condition not met within the guard time.");
            }

            await Task.Delay(5);
        }
    }
}
