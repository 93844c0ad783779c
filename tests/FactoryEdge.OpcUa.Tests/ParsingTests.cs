using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Core;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;

namespace FactoryEdge.OpcUa.Tests;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("i=85", null, "i=85")]
    [InlineData("ns=2;s=Machine1.Waveform", null, "ns=2;s=Machine1.Waveform")]
    [InlineData("nsu=urn:factoryedge:test;s=Machine1.Waveform", "urn:factoryedge:test", "s=Machine1.Waveform")]
    [InlineData("nsu=http://vendor.com/UA;i=1001", "http://vendor.com/UA", "i=1001")]
    [InlineData("ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63", null, "ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63")]
    [InlineData("ns=3;b=AQID", null, "ns=3;b=AQID")]
    [InlineData("ns=2;s=a;s=b", null, "ns=2;s=a;s=b")]
    public void NodeIdText_ValidForms_Parse(string text, string? uri, string id)
    {
        var parsed = NodeIdText.Parse(text);

        Assert.Equal(uri, parsed.NamespaceUri);
        Assert.Equal(id, parsed.NodeId.ToString());
        Assert.Equal(text, parsed.ToString());
    }

    [Theory]
    [InlineData("", "must have the form")]
    [InlineData("x=5", "identifier type 'x' is unknown")]
    [InlineData("i=abc", "is not a number")]
    [InlineData("ns=70000;i=1", "namespace index 0..65535")]
    [InlineData("nsu=;s=A", "empty namespace URI")]
    [InlineData("nsu=urn:x", "must be followed by i=, s=, g= or b=")]
    [InlineData("g=not-a-guid", "is not a GUID")]
    public void NodeIdText_Invalid_SaysWhatIsWrong(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => NodeIdText.Parse(text));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeIdParse_NamespaceUri_RequiresResolution()
    {
        var error = Assert.Throws<FormatException>(() => NodeId.Parse("nsu=urn:x;s=A"));

        Assert.Contains("NamespaceArray", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5", 5, 5)]
    [InlineData("2:9", 2, 9)]
    public void NumericRange_Valid_ParsesAndSlices(string text, int low, int high)
    {
        var range = NumericRange.Parse(text);
        var slice = (int[])range.Apply(Enumerable.Range(0, 20).ToArray(), out var status);

        Assert.Equal((low, high), range.Dimensions[0]);
        Assert.Equal(StatusCodes.Good, status);
        Assert.Equal(Enumerable.Range(low, high - low + 1), slice);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9:2")]
    [InlineData("a:b")]
    [InlineData("-1")]
    public void NumericRange_Invalid_Rejected(string text)
    {
        Assert.False(NumericRange.TryParse(text, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void NumericRange_StartPastTheEnd_BadIndexRangeNoData()
    {
        NumericRange.Parse("30:40").Apply(new float[10], out var status);

        Assert.Equal(StatusCodes.BadIndexRangeNoData, status);
    }

    [Theory]
    [InlineData("opc.tcp://plc.local:4841", "plc.local", 4841)]
    [InlineData("opc.tcp://10.1.2.3", "10.1.2.3", 4840)]
    [InlineData("opc.tcp://[::1]:4842/UA/Server", "::1", 4842)]
    public void EndpointUrls_Valid_HostAndPort(string url, string host, int port)
    {
        Assert.Equal((host, port), EndpointUrls.Parse(url));
    }

    [Theory]
    [InlineData("http://x:80")]
    [InlineData("opc.tcp://")]
    [InlineData("plc:4840")]
    public void EndpointUrls_Invalid_BadTcpEndpointUrlInvalid(string url)
    {
        var error = Assert.Throws<ServiceResultException>(() => EndpointUrls.Parse(url));

        Assert.Equal(StatusCodes.BadTcpEndpointUrlInvalid, error.StatusCode);
    }

    [Fact]
    public void KeepConfiguredHost_ServerAdvertisesUnreachableName_UsesTheConfiguredHostAndPort()
    {
        var url = EndpointUrls.KeepConfiguredHost("opc.tcp://192.0.2.7:14840", "opc.tcp://container-7f3a:4840/UA/Server");

        Assert.Equal("opc.tcp://192.0.2.7:14840/UA/Server", url);
    }

    [Fact]
    public void MapUnit_DisplayNameOrUneceCode_MapsToPipelineUnits()
    {
        Assert.Equal(SignalUnit.DegreesCelsius, OpcUaSensorSource.MapUnit(new EUInformation { DisplayName = new LocalizedText(null, "°C"), UnitId = 4408652 }));
        Assert.Equal(SignalUnit.Rpm, OpcUaSensorSource.MapUnit(new EUInformation { DisplayName = new LocalizedText(null, "r/min") }));
        Assert.Equal(SignalUnit.Hertz, OpcUaSensorSource.MapUnit(new EUInformation { DisplayName = new LocalizedText(null, "Hertz"), UnitId = ('H' << 16) | ('T' << 8) | 'Z' }));
        Assert.Equal(SignalUnit.G, OpcUaSensorSource.MapUnit(new EUInformation { DisplayName = new LocalizedText(null, "g") }));
        Assert.Null(OpcUaSensorSource.MapUnit(new EUInformation { DisplayName = new LocalizedText(null, "bar") }));
    }

    [Fact]
    public void UserIdentity_AnonymousAndClearPassword_UseTheServersPolicyIds()
    {
        UserTokenPolicy[] policies =
        [
            new() { PolicyId = "anon-1", TokenType = UserTokenType.Anonymous },
            new() { PolicyId = "user-clear", TokenType = UserTokenType.UserName },
        ];

        var anonymous = Assert.IsType<AnonymousIdentityToken>(UserIdentity.Anonymous.CreateToken(policies, null, null).Body);
        var user = Assert.IsType<UserNameIdentityToken>(UserIdentity.FromUserName("op", "pw").CreateToken(policies, null, null).Body);

        Assert.Equal("anon-1", anonymous.PolicyId);
        Assert.Equal("user-clear", user.PolicyId);
        Assert.Equal("pw"u8.ToArray(), user.Password);
        Assert.Null(user.EncryptionAlgorithm);
        Assert.Equal("user op", UserIdentity.FromUserName("op", "pw").ToString());
    }

    [Fact]
    public void UserIdentity_PolicyWithBasic256Sha256_EncryptsPasswordAndNonceForTheServerKey()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
        UserTokenPolicy[] policies = [new() { PolicyId = "user-b256", TokenType = UserTokenType.UserName, SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" }];
        var nonce = Enumerable.Range(1, 32).Select(static i => (byte)i).ToArray();

        var token = Assert.IsType<UserNameIdentityToken>(UserIdentity.FromUserName("op", "secret").CreateToken(policies, certificate.RawData, nonce).Body);
        var plain = key.Decrypt(token.Password!, RSAEncryptionPadding.OaepSHA1);

        Assert.Equal("http://www.w3.org/2001/04/xmlenc#rsa-oaep", token.EncryptionAlgorithm);
        Assert.Equal(6 + 32, BitConverter.ToInt32(plain, 0));
        Assert.Equal("secret"u8.ToArray(), plain[4..10]);
        Assert.Equal(nonce, plain[10..]);
    }
}
