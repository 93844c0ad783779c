using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.OpcUa;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;

namespace FactoryEdge.IntegrationTests.OpcUa;

/// <summary>Our stack against node-opcua's server (tests/peers/opcua/server.js) on loopback.</summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaInteropTests : IClassFixture<NodeOpcUaServerFixture>
{
    private readonly NodeOpcUaServerFixture _fixture;

    public NodeOpcUaInteropTests(NodeOpcUaServerFixture fixture)
    {
        _fixture = fixture;
    }

    private async Task<(UaSecureChannel Channel, UaClientSession Session)> ConnectAsync(UserIdentity? identity = null)
    {
        var server = await _fixture.GetAsync();
        var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity());
        var session = await UaClientSession.CreateAsync(channel, new SessionOptions { Identity = identity ?? UserIdentity.Anonymous });
        return (channel, session);
    }

    private static async Task<(int Code, string Output, string Error)> Probe(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await new OpcUaProbe().RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    [OpcUaPeerFact]
    public async Task Probe_FloatWaveform_PrintsTypeLengthMinMaxRms()
    {
        var server = await _fixture.GetAsync();

        var (code, output, error) = await Probe(server.Url, "--browse", "--read", OpcUaPeers.Node("Machine1.Waveform"));

        Assert.True(code == 0, error);
        Assert.Contains("None/None", output, StringComparison.Ordinal);
        Assert.Contains("nsu=urn:factoryedge:test;s=Machine1", output, StringComparison.Ordinal);
        var line = output.Split('\n').Single(l => l.StartsWith("read ", StringComparison.Ordinal));
        Assert.Contains("Float[4096] length 4096 min ", line, StringComparison.Ordinal);
        Assert.Contains(" rms ", line, StringComparison.Ordinal);
    }

    [OpcUaPeerFact]
    public async Task Probe_UnknownNode_ExitsWithNodeErrorAndSaysWhy()
    {
        var server = await _fixture.GetAsync();

        var (code, _, error) = await Probe(server.Url, "--read", OpcUaPeers.Node("No.Such.Node"), "--read", "nsu=urn:not:there;s=X");

        Assert.Equal(OpcUaProbe.ExitNode, code);
        Assert.Contains("BadNodeIdUnknown", error, StringComparison.Ordinal);
        Assert.Contains("urn:not:there", error, StringComparison.Ordinal);
    }

    [OpcUaPeerFact]
    public async Task Session_NamespaceUri_ResolvesToIndexAboveOne()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var node = session.Resolve(OpcUaPeers.Node("Machine1.Double"));

            Assert.True(node.NamespaceIndex > 1);
            Assert.Equal(OpcUaPeers.TestNamespace, session.NamespaceUris[node.NamespaceIndex]);
            var value = await session.ReadValueAsync(node);
            Assert.True(value.StatusCode.IsGood);
            Assert.Equal(BuiltInType.Double, value.Value.Type);
            Assert.Equal(1000u, session.Limits.MaxNodesPerRead);
            Assert.Equal(1000u, session.Limits.MaxMonitoredItemsPerCall);
        }
    }

    [OpcUaPeerFact]
    public async Task Read_IndexRange_ReturnsTheSliceOfTheWaveform()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var value = await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Waveform")), "10:19");

            var slice = Assert.IsType<float[]>(value.Value.Value);
            Assert.Equal(10, slice.Length);
            Assert.Equal(0, (slice[0] - 10) % 10000);
            for (var k = 1; k < slice.Length; k++)
            {
                Assert.Equal(slice[0] + k, slice[k]);
            }
        }
    }

    [OpcUaPeerFact]
    public async Task Read_TenThousandScalars_SplitByMaxNodesPerRead()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var nodes = Enumerable.Range(0, 10_000)
                .Select(i => new ReadValueId { NodeId = session.Resolve(OpcUaPeers.Node("Scalar." + i.ToString("D5", CultureInfo.InvariantCulture))), AttributeId = AttributeIds.Value })
                .ToArray();
            var before = channel.MessagesReceived;

            var values = await session.ReadAsync(nodes);

            Assert.Equal(10_000, values.Length);
            Assert.All(values, v => Assert.True(v.StatusCode.IsGood));
            Assert.Equal(9_999.0, values[9_999].Value.ToDouble());
            Assert.Equal(10, channel.MessagesReceived - before);
        }
    }

    [OpcUaPeerFact]
    public async Task Browse_TenThousandChildrenInPagesOf1000_FollowsBrowseNext()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var folder = session.Resolve(OpcUaPeers.Node("Scalars"));

            var references = (await session.BrowseAsync([folder], BrowseDirection.Forward, WellKnownNodes.HierarchicalReferences, maxReferencesPerNode: 1000))[0];

            Assert.Equal(10_000, references.Count(r => r.BrowseName.Name!.StartsWith("Scalar.", StringComparison.Ordinal)));
        }
    }

    [OpcUaPeerFact]
    public async Task Translate_MachinePath_FindsTheWaveformNode()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var ns = (ushort)session.NamespaceUris.ToList().IndexOf(OpcUaPeers.TestNamespace);

            var results = await session.TranslateAsync([UaClientSession.Path(new NodeId(WellKnownNodes.ObjectsFolder), new QualifiedName(ns, "Machine1"), new QualifiedName(ns, "Waveform"))], CancellationToken.None);

            Assert.True(results[0].StatusCode.IsGood);
            Assert.Equal(session.Resolve(OpcUaPeers.Node("Machine1.Waveform")), results[0].Targets[0].TargetId.NodeId);
        }
    }

    [OpcUaPeerFact]
    public async Task Read_Float65536_ArrivesInManyChunks()
    {
        var (channel, session) = await ConnectAsync();
        await using (channel)
        await using (session)
        {
            var before = channel.BytesReceived;

            var value = await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.BigWaveform")));

            var samples = Assert.IsType<float[]>(value.Value.Value);
            Assert.Equal(65_536, samples.Length);
            for (var k = 1; k < samples.Length; k++)
            {
                Assert.Equal(samples[0] + k, samples[k]);
            }

            Assert.True(channel.BytesReceived - before > 4 * channel.RemoteLimits.ReceiveBufferSize, "the response must span several chunks");
        }
    }

    [OpcUaPeerFact]
    public async Task Session_UserNameWithEncryptedPassword_ActivatesAndWrongPasswordIsRefused()
    {
        var (channel, session) = await ConnectAsync(UserIdentity.FromUserName("operator", "secret"));
        await using (channel)
        await using (session)
        {
            Assert.True((await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Speed")))).StatusCode.IsGood);
        }

        var error = await Assert.ThrowsAsync<ServiceResultException>(() => ConnectAsync(UserIdentity.FromUserName("operator", "wrong")));
        Assert.Equal(StatusCodes.BadUserAccessDenied, error.StatusCode & 0xFFFF0000);
    }

    [OpcUaPeerFact]
    public async Task Channel_ShortTokenLifetime_RenewedBeforeExpiryAndSessionKeepsWorking()
    {
        var server = await _fixture.GetAsync();
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity(), new SecureChannelOptions { TokenLifetime = TimeSpan.FromSeconds(10) });
        await using var session = await UaClientSession.CreateAsync(channel);
        var first = channel.TokenId;

        await OpcUaPeers.WaitUntil(() => channel.TokenRenewals >= 1, TimeSpan.FromSeconds(20), "the token to be renewed");
        var value = await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Double")));

        Assert.NotEqual(first, channel.TokenId);
        Assert.True(value.StatusCode.IsGood);
        Assert.True(channel.IsOpen);
    }

    [OpcUaPeerFact]
    public async Task Source_SubscribedWaveform_DeliversTwentyContiguousBlocksWithUnitAndRateFromServer()
    {
        var server = await _fixture.GetAsync();
        var options = new OpcUaOptions
        {
            Servers =
            [
                SourceHarness.Server(
                    server.Url,
                    [new OpcUaWaveformOptions { Channel = "plant/line1/pump1/de/x", NodeId = OpcUaPeers.Node("Machine1.Waveform"), SampleRateNodeId = "../SampleRate", Contiguous = true }],
                    [
                        new OpcUaScalarOptions { Channel = "plant/line1/pump1/speed/z", NodeId = OpcUaPeers.Node("Machine1.Speed"), SamplingIntervalMs = 0 },
                        new OpcUaScalarOptions { Channel = "plant/line1/pump1/temp/z", NodeId = OpcUaPeers.Node("Machine1.Temperature"), Mode = "Polling", PollIntervalMs = 200 },
                    ]),
            ],
        };
        var (source, writers) = SourceHarness.Create(options);

        Assert.Equal(40_960, source.Channels[0].SampleRateHz);
        Assert.Equal(SignalUnit.G, source.Channels[0].Unit);
        Assert.Equal(SignalUnit.Rpm, source.Channels[1].Unit);
        Assert.Equal(ChannelKind.Scalar, source.Channels[1].Kind);
        Assert.Equal(SignalUnit.DegreesCelsius, source.Channels[2].Unit);

        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await OpcUaPeers.WaitUntil(() => writers[0].Count >= 21 && writers[2].Count >= 2, TimeSpan.FromSeconds(30), "21 waveform blocks and 2 polls");
        await cts.CancelAsync();
        await run;

        var blocks = writers[0].Blocks;
        for (var b = 1; b < blocks.Count; b++)
        {
            var (samples, index, quality, clock) = blocks[b];
            Assert.Equal(4096, samples.Length);
            Assert.Equal(SampleQuality.Good, quality);
            Assert.Equal(ClockQuality.Synchronized, clock);
            Assert.Equal(0, samples[0] % 10000);
            for (var k = 1; k < samples.Length; k++)
            {
                Assert.Equal(samples[0] + k, samples[k]);
            }

            // Consecutive server blocks are consecutive in index; a skipped block shows as a jump of 4096.
            var step = (((int)(samples[0] / 10000) - (int)(blocks[b - 1].Samples[0] / 10000)) + 1000) % 1000;
            Assert.Equal(blocks[b - 1].Index + (step * 4096L), index);
        }

        Assert.True(writers[1].Count >= 1);
        Assert.InRange(writers[1].Blocks[^1].Samples[0], 1480, 1500);
        Assert.Equal(42.5f, writers[2].Blocks[^1].Samples[0]);
    }

    [OpcUaPeerFact]
    public async Task Subscription_TenThousandItems_CreatedInCallsWithinTheServersLimit()
    {
        var server = await _fixture.GetAsync();
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = server.Url });
        var handler = new CountingHandler(10_000);
        var items = Enumerable.Range(0, 10_000).Select(i => new MonitoredItemSpec { Node = NodeIdText.Parse(OpcUaPeers.Node("Scalar." + i.ToString("D5", CultureInfo.InvariantCulture))), SamplingIntervalMs = 1000 }).ToArray();
        var subscription = connection.AddSubscription(new SubscriptionSettings { PublishingIntervalMs = 100 }, items, handler);
        using var cts = new CancellationTokenSource();

        var run = connection.RunAsync(cts.Token);
        await OpcUaPeers.WaitUntil(() => handler.Distinct >= 10_000, TimeSpan.FromSeconds(60), "an initial value of every item");
        await cts.CancelAsync();
        await run;

        Assert.All(subscription.ItemStatus, s => Assert.True(s.IsGood, s.ToString()));
        Assert.Equal(0, handler.Errors);
        Assert.Equal(9_999.0, handler.Last(9_999));
    }

    internal sealed class CountingHandler(int items) : ISubscriptionHandler
    {
        private readonly double[] _last = Enumerable.Repeat(double.NaN, items).ToArray();
        private int _distinct;

        public int Distinct => Volatile.Read(ref _distinct);

        public int Errors { get; private set; }

        public int Gaps { get; private set; }

        public long Values { get; private set; }

        public double Last(int item) => _last[item];

        public void OnDataChange(int itemIndex, DataValue value)
        {
            if (double.IsNaN(_last[itemIndex]))
            {
                Interlocked.Increment(ref _distinct);
            }

            _last[itemIndex] = value.Value.ToDouble();
            Values++;
        }

        public void OnGap(string reason) => Gaps++;

        public void OnItemError(int itemIndex, StatusCode status, string message) => Errors++;
    }
}

/// <summary>Self-healing against a node-opcua server that is restarted or stalled (each test has its own server).</summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaRecoveryTests
{
    [OpcUaPeerFact]
    public async Task Source_ServerRestartedWithMovedNamespaces_DataResumesWithinFiveSecondsAndGapIsFlagged()
    {
        using var server = await NodeOpcUaServer.StartAsync("--scalars", "10");
        var options = new OpcUaOptions
        {
            Servers =
            [
                SourceHarness.Server(
                    server.Url,
                    [new OpcUaWaveformOptions { Channel = "plant/line1/pump1/de/x", NodeId = OpcUaPeers.Node("Machine1.Waveform"), SampleRateHz = 40_960, Unit = "g", Contiguous = true }],
                    []),
            ],
        };
        var (source, writers) = SourceHarness.Create(options);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await OpcUaPeers.WaitUntil(() => writers[0].Count >= 5, TimeSpan.FromSeconds(30), "5 blocks before the restart");

        server.Stop();
        await Task.Delay(1500);
        var before = writers[0].Count;
        await server.StartAgainAsync("--swap-namespaces");
        var back = Stopwatch.StartNew();
        await OpcUaPeers.WaitUntil(() => writers[0].Count >= before + 3, TimeSpan.FromSeconds(20), "blocks after the restart");
        var resumedAfter = back.Elapsed;
        await cts.CancelAsync();
        await run;

        Assert.True(resumedAfter < TimeSpan.FromSeconds(5), $"data resumed {resumedAfter.TotalSeconds:0.0} s after the server's return");
        Assert.Contains(writers[0].GapsBefore, g => g >= before - 1);
        Assert.True(source.Statistics.Gaps >= 1);
        var after = writers[0].Blocks[^1];
        Assert.Equal(4096, after.Samples.Length);
        Assert.Equal(after.Samples[0] + 4095, after.Samples[4095]);
        var blocks = writers[0].Blocks;
        for (var b = 1; b < blocks.Count; b++)
        {
            Assert.True(blocks[b].Index > blocks[b - 1].Index, "indices keep rising across the restart");
        }
    }

    [OpcUaPeerFact]
    public async Task Connection_ServerStalledWithTcpOpen_WatchdogReconnectsAndDataResumes()
    {
        using var server = await NodeOpcUaServer.StartAsync("--scalars", "10");
        var connection = new OpcUaConnection(new OpcUaConnectionOptions
        {
            EndpointUrl = server.Url,
            Channel = new SecureChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromSeconds(3) },
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        });
        var handler = new NodeOpcUaInteropTests.CountingHandler(1);
        connection.AddSubscription(new SubscriptionSettings { PublishingIntervalMs = 100, MaxKeepAliveCount = 5 }, [new MonitoredItemSpec { Node = NodeIdText.Parse(OpcUaPeers.Node("Machine1.Double")), SamplingIntervalMs = 0 }], handler);
        using var cts = new CancellationTokenSource();
        var run = connection.RunAsync(cts.Token);
        await OpcUaPeers.WaitUntil(() => handler.Values >= 5, TimeSpan.FromSeconds(30), "values before the stall");

        OpcUaPeers.Signal(server.ProcessId, stop: true);
        try
        {
            await OpcUaPeers.WaitUntil(() => connection.Statistics.WatchdogTrips >= 1, TimeSpan.FromSeconds(15), "the watchdog to notice the stall");
        }
        finally
        {
            OpcUaPeers.Signal(server.ProcessId, stop: false);
        }

        var resumedFrom = handler.Values;
        await OpcUaPeers.WaitUntil(() => handler.Values >= resumedFrom + 5 && connection.IsConnected, TimeSpan.FromSeconds(30), "values after the stall");
        await cts.CancelAsync();
        await run;

        Assert.True(connection.Statistics.Reconnects >= 1);
        Assert.True(handler.Gaps >= 1);
    }
}
