using FactoryEdge.Core;
using FactoryEdge.OpcUa.Encoding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.OpcUa.Tests;

public sealed class SourceTests
{
    private static readonly DateTime T0 = new(2024, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static OpcUaServerOptions Server(params OpcUaWaveformOptions[] waveforms) => new()
    {
        Name = "s1",
        EndpointUrl = "opc.tcp://127.0.0.1:4840",
        Waveforms = [.. waveforms],
    };

    private static OpcUaWaveformOptions Waveform(bool contiguous = true) => new()
    {
        Channel = "p/l/m/s/x",
        NodeId = "nsu=urn:test;s=W",
        SampleRateHz = 1000,
        Unit = "g",
        Contiguous = contiguous,
    };

    private static (OpcUaSensorSource.PointState State, RecordingWriter Writer) State(OpcUaWaveformOptions? waveform = null, OpcUaScalarOptions? scalar = null)
    {
        var server = Server();
        if (scalar is null)
        {
            server.Waveforms.Add(waveform ?? Waveform());
        }
        else
        {
            server.Scalars.Add(scalar);
        }

        var source = new OpcUaSensorSource(new OpcUaOptions { Servers = [server] });
        var writer = new RecordingWriter(source.Channels[0]);
        var state = new OpcUaSensorSource.PointState(source.Servers[0].Points[0], writer, source.Channels[0], source.Statistics, new FakeTimeProvider());
        return (state, writer);
    }

    private static DataValue Block(int block, int length = 100, uint status = 0) => new()
    {
        Value = new Variant(Enumerable.Range(0, length).Select(k => (float)((block * 1000) + k)).ToArray()),
        SourceTimestamp = T0.AddSeconds(block * length / 1000.0),
        StatusCode = new StatusCode(status),
    };

    [Fact]
    public void Waveform_ConsecutiveBlocks_ContiguousIndicesSourceTimeNoGap()
    {
        var (state, writer) = State();

        for (var b = 0; b < 4; b++)
        {
            state.OnValue(Block(b));
        }

        Assert.Equal([0L, 100, 200, 300], writer.Blocks.Select(static b => b.Index));
        Assert.Empty(writer.GapsBefore);
        Assert.Equal(T0.AddSeconds(0.3).Ticks, writer.Blocks[3].Ticks);
        Assert.All(writer.Blocks, b => Assert.Equal(ClockQuality.Synchronized, b.Clock));
    }

    [Fact]
    public void Waveform_TwoBlocksMissing_IndexJumpsAndGapFlagged()
    {
        var (state, writer) = State();

        state.OnValue(Block(0));
        state.OnValue(Block(1));
        state.OnValue(Block(4));

        Assert.Equal([0L, 100, 400], writer.Blocks.Select(static b => b.Index));
        Assert.Equal([2], writer.GapsBefore);
    }

    [Fact]
    public void Waveform_Snapshots_EveryBlockAfterAGap()
    {
        var (state, writer) = State(Waveform(contiguous: false));

        state.OnValue(Block(0));
        state.OnValue(Block(7));
        state.OnValue(Block(9));

        Assert.Equal([0L, 100, 200], writer.Blocks.Select(static b => b.Index));
        Assert.Equal([1, 2], writer.GapsBefore);
    }

    [Fact]
    public void Waveform_ReconnectGapAndQueueOverflow_FlagGapsBeforeTheNextBlock()
    {
        var (state, writer) = State();

        state.OnValue(Block(0));
        state.OnGap();
        state.OnValue(Block(1));
        state.OnValue(Block(2, status: 0x00000480));

        Assert.Equal([1, 2], writer.GapsBefore);
    }

    [Fact]
    public void Waveform_DoubleArrayAndBadStatus_ConvertedAndMarkedBad()
    {
        var (state, writer) = State();

        state.OnValue(new DataValue { Value = new Variant(new double[] { 1.5, -2.5 }), StatusCode = new StatusCode(0x80000000), SourceTimestamp = T0 });

        Assert.Equal([1.5f, -2.5f], writer.Blocks[0].Samples);
        Assert.Equal(SampleQuality.Bad, writer.Blocks[0].Quality);
    }

    [Fact]
    public void Waveform_NotAnArray_NothingWrittenAndGapPending()
    {
        var (state, writer) = State();

        state.OnValue(Block(0));
        state.OnValue(new DataValue { Value = new Variant(3.0), SourceTimestamp = T0.AddSeconds(0.1) });
        state.OnValue(Block(2));

        Assert.Equal(2, writer.Blocks.Count);
        Assert.Equal([1], writer.GapsBefore);
    }

    [Fact]
    public void Scalar_Values_OneSampleBlocksWithUncertainQualityAndReceiptTimeWhenUntimed()
    {
        var (state, writer) = State(scalar: new OpcUaScalarOptions { Channel = "p/l/m/speed/z", NodeId = "i=2258", Unit = "rpm" });

        state.OnValue(new DataValue { Value = new Variant(1480.0), SourceTimestamp = T0 });
        state.OnValue(new DataValue { Value = new Variant(1490), StatusCode = new StatusCode(0x40000000) });

        Assert.Equal([0L, 1], writer.Blocks.Select(static b => b.Index));
        Assert.Equal(1480f, writer.Blocks[0].Samples[0]);
        Assert.Equal(SampleQuality.Uncertain, writer.Blocks[1].Quality);
        Assert.NotEqual(ClockQuality.Synchronized, writer.Blocks[1].Clock);
    }

    [Fact]
    public void Channels_ConfiguredUnitsAndRates_NoServerNeeded()
    {
        var server = Server(Waveform());
        server.Scalars.Add(new OpcUaScalarOptions { Channel = "p/l/m/temp/z", NodeId = "i=1", Unit = "degC", Mode = "Polling", PollIntervalMs = 500 });

        var source = new OpcUaSensorSource(new OpcUaOptions { Servers = [server] });

        Assert.Equal(2, source.Channels.Count);
        Assert.Equal((ChannelKind.Waveform, 1000.0, SignalUnit.G), (source.Channels[0].Kind, source.Channels[0].SampleRateHz, source.Channels[0].Unit));
        Assert.Equal((ChannelKind.Scalar, 2.0, SignalUnit.DegreesCelsius), (source.Channels[1].Kind, source.Channels[1].SampleRateHz, source.Channels[1].Unit));
    }

    [Fact]
    public void Channels_SampleRateNodeOnUnreachableServer_StopsWithChannelAndNode()
    {
        var waveform = Waveform();
        waveform.SampleRateHz = null;
        waveform.SampleRateNodeId = "../SampleRate";
        var server = Server(waveform);
        server.EndpointUrl = "opc.tcp://127.0.0.1:1";
        server.ConnectTimeoutMs = 200;

        var source = new OpcUaSensorSource(new OpcUaOptions { Servers = [server], DiscoveryTimeoutMs = 2000 });
        var error = Assert.Throws<InvalidOperationException>(() => source.Channels);

        Assert.Contains("p/l/m/s/x", error.Message, StringComparison.Ordinal);
        Assert.Contains("../SampleRate", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Servers:0:EndpointUrl", "http://x", "FactoryEdge:OpcUa:Servers:0:EndpointUrl: Endpoint URL 'http://x' must have the form opc.tcp://HOST:PORT[/PATH]" },
        { "Servers:0:SecurityPolicy", "Basic128Rsa15", "FactoryEdge:OpcUa:Servers:0:SecurityPolicy: 'Basic128Rsa15' is not allowed; allowed: Auto, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, None" },
        { "Servers:0:SecurityPolicy", "None", "FactoryEdge:OpcUa:Servers:0:SecurityPolicy: 'None' needs FactoryEdge:OpcUa:Servers:0:AllowSecurityPolicyNone: true" },
        { "Servers:0:SecurityMode", "Encrypt", "FactoryEdge:OpcUa:Servers:0:SecurityMode: 'Encrypt' is not allowed; allowed: Auto, Sign, SignAndEncrypt" },
        { "Servers:0:Waveforms:0:NodeId", "q=1", "FactoryEdge:OpcUa:Servers:0:Waveforms:0:NodeId: Node id 'q=1'" },
        { "Servers:0:Waveforms:0:Mode", "Push", "FactoryEdge:OpcUa:Servers:0:Waveforms:0:Mode: 'Push' is not allowed; allowed: Subscription, Polling" },
        { "Servers:0:Waveforms:0:Unit", "rpm", "FactoryEdge:OpcUa:Servers:0:Waveforms:0:Unit: 'rpm' is not allowed for a waveform; allowed: g, m/s2, mm/s, um" },
        { "Servers:0:Waveforms:0:SampleRateHz", "-5", "FactoryEdge:OpcUa:Servers:0:Waveforms:0:SampleRateHz: -5 is not allowed" },
        { "Servers:0:PublishingIntervalMs", "1", "FactoryEdge:OpcUa:Servers:0:PublishingIntervalMs: 1 is not allowed; allowed: 10..3600000" },
        { "Servers:0:Scalars:0:DeadbandType", "Relative", "FactoryEdge:OpcUa:Servers:0:Scalars:0:DeadbandType: 'Relative' is not allowed; allowed: None, Absolute, Percent" },
        { "Servers:0:Scalars:0:Channel", "a/b", "FactoryEdge:OpcUa:Servers:0:Scalars:0:Channel: Channel id 'a/b' must have the form" },
        { "Servers:0:UserName", "op", "FactoryEdge:OpcUa:Servers:0:PasswordFile: required with UserName" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void AddFactoryEdgeOpcUa_BadSetting_StartFailsNamingKeyAndAllowedValues(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FactoryEdge:OpcUa:Servers:0:Name"] = "s1",
            ["FactoryEdge:OpcUa:Servers:0:EndpointUrl"] = "opc.tcp://127.0.0.1:4840",
            ["FactoryEdge:OpcUa:Servers:0:Waveforms:0:Channel"] = "p/l/m/s/x",
            ["FactoryEdge:OpcUa:Servers:0:Waveforms:0:NodeId"] = "ns=2;s=W",
            ["FactoryEdge:OpcUa:Servers:0:Waveforms:0:SampleRateHz"] = "1000",
            ["FactoryEdge:OpcUa:Servers:0:Scalars:0:Channel"] = "p/l/m/t/z",
            ["FactoryEdge:OpcUa:Servers:0:Scalars:0:NodeId"] = "ns=2;s=T",
        };
        settings["FactoryEdge:OpcUa:" + key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddFactoryEdgeOpcUa(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OpcUaOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AddFactoryEdgeOpcUa_ExampleConfiguration_RegistersASensorSourceWithItsChannels()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "opcua.example.json")).Build();
        using var provider = new ServiceCollection().AddFactoryEdgeOpcUa(configuration).AddFactoryEdgeOpcUa(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<OpcUaOptions>>().Value;
        var sources = provider.GetServices<ISensorSource>().ToArray();

        Assert.Single(options.Servers);
        Assert.Equal(2, options.Servers[0].Waveforms.Count);
        Assert.IsType<OpcUaSensorSource>(Assert.Single(sources));
        Assert.Empty(OpcUaChannelMap.Build(options, out var servers));
        Assert.Equal(4, servers[0].Points.Count);
        Assert.Equal("../SampleRate", servers[0].Points[0].SampleRateNode);
    }
}
