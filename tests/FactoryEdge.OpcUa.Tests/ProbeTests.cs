using System.Globalization;
using FactoryEdge.OpcUa.Encoding;

namespace FactoryEdge.OpcUa.Tests;

public sealed class ProbeTests
{
    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await new OpcUaProbe().RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Parse_FullCommand_AllParts()
    {
        var request = OpcUaProbeRequest.Parse(["opc.tcp://h:4840", "--browse", "--read", "ns=2;s=A@0:9", "--read", "i=2258", "--timeout", "750"]);

        Assert.Equal("opc.tcp://h:4840", request.EndpointUrl);
        Assert.Equal("i=85", request.Browse);
        Assert.Equal(["ns=2;s=A@0:9", "i=2258"], request.Reads);
        Assert.Equal(TimeSpan.FromMilliseconds(750), request.Timeout);
        Assert.Equal(("ns=2;s=A", "0:9"), OpcUaProbeRequest.SplitRange("ns=2;s=A@0:9"));
        Assert.Equal(("ns=2;s=mail@host", null), OpcUaProbeRequest.SplitRange("ns=2;s=mail@host"));
    }

    [Fact]
    public void Parse_BrowseWithNode_TakesIt()
    {
        Assert.Equal("nsu=urn:x;s=Folder", OpcUaProbeRequest.Parse(["opc.tcp://h", "--browse", "nsu=urn:x;s=Folder"]).Browse);
    }

    [Theory]
    [InlineData(new[] { "--browse" }, "Missing the server's endpoint")]
    [InlineData(new[] { "modbus://h:502" }, "must have the form opc.tcp://")]
    [InlineData(new[] { "opc.tcp://h", "--read" }, "--read needs a value")]
    [InlineData(new[] { "opc.tcp://h", "--read", "q=1" }, "identifier type 'q' is unknown")]
    [InlineData(new[] { "opc.tcp://h", "--read", "i=1@5:2" }, "index range '5:2' is invalid")]
    [InlineData(new[] { "opc.tcp://h", "--timeout", "5" }, "--timeout '5' must be milliseconds")]
    [InlineData(new[] { "opc.tcp://h", "--user", "u" }, "--user and --password-file go together")]
    [InlineData(new[] { "opc.tcp://h", "--secure" }, "Unknown option '--secure'")]
    public async Task Run_BadArguments_ExitCode2WithReasonAndUsage(string[] args, string reason)
    {
        var (code, _, error) = await Run(args);

        Assert.Equal(OpcUaProbe.ExitUsage, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains("usage: probe opc.tcp://", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NothingListening_ExitCode3ConnectionRefused()
    {
        var (code, _, error) = await Run("opc.tcp://127.0.0.1:1", "--timeout", "1000");

        Assert.Equal(OpcUaProbe.ExitConnection, code);
        Assert.Contains("connection refused or unreachable", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ServerNeverAnswers_ExitCode3Timeout()
    {
        await using var server = new FakeUaServer { Limits = new Transport.TransportLimits() };
        server.Handler = static _ => null;

        var (code, _, error) = await Run(server.Url, "--timeout", "300");

        Assert.Equal(OpcUaProbe.ExitConnection, code);
        Assert.Contains("timeout", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_FloatArray_TypeLengthMinMaxRms()
    {
        var text = OpcUaProbe.Describe(new Variant(new float[] { 3, -4, 0, 0 }));

        Assert.Equal("Float[4] length 4 min -4 max 3 rms 2.5", text);
    }

    [Fact]
    public void Describe_ScalarsAndMatrices_Readable()
    {
        Assert.Equal("Double 1.25", OpcUaProbe.Describe(new Variant(1.25)));
        Assert.Equal("String \"pump\"", OpcUaProbe.Describe(new Variant("pump")));
        Assert.Equal("Int32[2×2] length 4 min 1 max 4 rms 2.738613", OpcUaProbe.Describe(new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4 }, true, [2, 2])));
        Assert.Equal("null", OpcUaProbe.Describe(Variant.Null));
        Assert.Equal("UInt32 0", OpcUaProbe.Describe(new Variant(StatusCodes.Good)));
    }
}
