using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Transport;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.OpcUa.Tests;

public sealed class ChannelTests
{
    private static readonly NodeId Plant = new("Waveform", 2);

    [Fact]
    public async Task SendRequest_ResponseLargerThanTheBuffer_ReassembledFromChunks()
    {
        await using var server = new FakeUaServer
        {
            Handler = _ => new ReadResponse { Results = [new DataValue { Value = new Variant(Enumerable.Range(0, 20_000).Select(static i => (float)i).ToArray()) }] },
        };
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity(), new SecureChannelOptions { Limits = new TransportLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 } });

        var response = await channel.SendRequestAsync<ReadResponse>(new ReadRequest { NodesToRead = [new ReadValueId { NodeId = Plant, AttributeId = 13 }] }, null, CancellationToken.None);

        var samples = Assert.IsType<float[]>(response.Results[0].Value.Value);
        Assert.Equal(20_000, samples.Length);
        Assert.Equal(19_999f, samples[^1]);
        Assert.Equal(42u, channel.ChannelId);
        Assert.Equal(8192, channel.RemoteLimits.ReceiveBufferSize);
        Assert.True(channel.BytesReceived > 80_000);
    }

    [Fact]
    public async Task SendRequest_LargerThanPeersMaxMessageSize_BadRequestTooLargeAndChannelStaysOpen()
    {
        await using var server = new FakeUaServer { Limits = new TransportLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192, MaxMessageSize = 2000, MaxChunkCount = 0 }, Handler = _ => new ReadResponse() };
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity());
        var big = new ReadRequest { NodesToRead = [.. Enumerable.Range(0, 300).Select(static i => new ReadValueId { NodeId = new NodeId((uint)i, 2), AttributeId = 13 })] };

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ReadResponse>(big, null, CancellationToken.None));

        Assert.Equal(StatusCodes.BadRequestTooLarge, error.StatusCode);
        Assert.Contains("MaxMessageSize of 2000", error.Message, StringComparison.Ordinal);
        Assert.True(channel.IsOpen);
        await channel.SendRequestAsync<ReadResponse>(new ReadRequest(), null, CancellationToken.None);
    }

    [Fact]
    public async Task Open_ServerAnswersHelloWithError_FailsWithItsStatusAndReason()
    {
        await using var server = new FakeUaServer { RefuseWith = new ErrorMessage(StatusCodes.BadTcpServerTooBusy, "too many clients") };

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity()));

        Assert.Equal(StatusCodes.BadTcpServerTooBusy, error.StatusCode);
        Assert.Contains("too many clients", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_NothingListening_BadNotConnected()
    {
        string url;
        await using (var server = new FakeUaServer())
        {
            url = server.Url;
        }

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => UaSecureChannel.OpenAsync(url, new NoneChannelSecurity()));

        Assert.Equal(StatusCodes.BadNotConnected, error.StatusCode);
    }

    [Fact]
    public async Task SendRequest_NoAnswer_BadTimeout()
    {
        await using var server = new FakeUaServer();
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity());

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ReadResponse>(new ReadRequest(), TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.Equal(StatusCodes.BadTimeout, error.StatusCode);
    }

    [Fact]
    public async Task SendRequest_ServiceFault_ThrowsItsStatus()
    {
        await using var server = new FakeUaServer { Handler = static _ => new ServiceFault { ResponseHeader = new ResponseHeader { ServiceResult = new StatusCode(StatusCodes.BadTooManyOperations) } } };
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity());

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => channel.SendRequestAsync<ReadResponse>(new ReadRequest(), null, CancellationToken.None));

        Assert.Equal(StatusCodes.BadTooManyOperations, error.StatusCode);
        Assert.Contains("BadTooManyOperations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Channel_TokenLifetimePassesThreeQuarters_RenewsWithANewToken()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var server = new FakeUaServer { RevisedLifetimeMs = 10_000, Handler = _ => new ReadResponse() };
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity(), time: time);
        var first = channel.TokenId;

        // The renewal timer starts on its own task: move the clock on in steps until it has fired.
        for (var step = 0; step < 40 && channel.TokenRenewals == 0; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(20);
        }

        await WaitUntil(() => channel.TokenRenewals == 1);

        Assert.NotEqual(first, channel.TokenId);
        Assert.Equal([SecurityTokenRequestType.Issue, SecurityTokenRequestType.Renew], server.Opens.Select(static o => o.RequestType));
        await channel.SendRequestAsync<ReadResponse>(new ReadRequest(), null, CancellationToken.None);
    }

    [Fact]
    public async Task Session_ReadMoreThanMaxNodesPerRead_SplitIntoCalls()
    {
        await using var server = new FakeUaServer();
        server.Handler = FakeUaServer.SessionHandler(10, request => request is ReadRequest read
            ? new ReadResponse { Results = [.. read.NodesToRead.Select(static n => new DataValue { Value = new Variant(n.NodeId.Numeric) })] }
            : null);
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity());
        await using var session = await UaClientSession.CreateAsync(channel);

        var values = await session.ReadAsync([.. Enumerable.Range(0, 25).Select(static i => new ReadValueId { NodeId = new NodeId((uint)i, 2), AttributeId = 13 })]);

        Assert.Equal(25, values.Length);
        Assert.Equal(24u, values[24].Value.Value);
        Assert.Equal([10, 10, 5], server.Requests.OfType<ReadRequest>().Skip(1).Select(static r => r.NodesToRead.Length));
        Assert.Equal(new NodeId("Pump", 2), session.Resolve("nsu=urn:plant;s=Pump"));
        Assert.Throws<ServiceResultException>(() => session.Resolve("nsu=urn:elsewhere;s=Pump"));
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 1500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
