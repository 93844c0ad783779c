using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Security;
using FactoryEdge.OpcUa.Transport;

namespace FactoryEdge.OpcUa.Tests;

public sealed class SecurityPolicyTests
{
    private static readonly TransportLimits Limits = new() { ReceiveBufferSize = 8192, SendBufferSize = 8192, MaxMessageSize = 1 << 22, MaxChunkCount = 1024 };

    public static TheoryData<string, MessageSecurityMode> PolicyModes()
    {
        var data = new TheoryData<string, MessageSecurityMode>();
        foreach (var policy in SecurityPolicy.All)
        {
            data.Add(policy.Name, MessageSecurityMode.Sign);
            data.Add(policy.Name, MessageSecurityMode.SignAndEncrypt);
        }

        return data;
    }

    [Fact]
    public void Derive_Rfc5246TestVector_MatchesPublishedOutput()
    {
        // The TLS 1.2 PRF test vector for SHA-256 (PRF = P_SHA256(secret, label + seed)).
        var secret = Convert.FromHexString("9bbe436ba940f017b17652849a71db35");
        var seed = System.Text.Encoding.ASCII.GetBytes("test label").Concat(Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c")).ToArray();

        var output = PSha256.Derive(secret, seed, 100);

        Assert.Equal("E3F229BA727BE17B8D122620557CD453C2AAB21D07C3D495329B52D4E61EDB5A6B301791E90D35C9C9A46B4E14BAF9AF0FA022F7077DEF17ABFD3797C0564BAB4FBC91666E9DEF9B97FCE34F796789BAA48082D122EE42C5A72E5A5110FFF70187347B66", Convert.ToHexString(output));
    }

    [Fact]
    public void Derive_ShortLength_IsPrefixOfLonger()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var seed = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(PSha256.Derive(secret, seed, 80)[..45], PSha256.Derive(secret, seed, 45));
    }

    [Theory]
    [MemberData(nameof(PolicyModes))]
    public void OpenAndMessages_ClientAndServer_RoundTripEveryChunk(string policyName, MessageSecurityMode mode)
    {
        var policy = SecurityPolicy.Find(policyName)!;
        var (client, server) = Pair(policy, mode, SecurityTestCertificates.Server);

        var open = Random(300);
        Assert.Equal(open, Transfer(MessageTypes.Open, client, server, open, tokenId: 0));
        Assert.Equal(SecurityTestCertificates.Client.Thumbprint, server.RemoteCertificate!.Thumbprint);
        Assert.Equal(open, Transfer(MessageTypes.Open, server, client, open, tokenId: 0));

        Issue(client, server, 1);
        foreach (var size in new[] { 1, 15, 16, 17, 8000, 50_000 })
        {
            var body = Random(size);
            Assert.Equal(body, Transfer(MessageTypes.Message, client, server, body, 1));
            Assert.Equal(body, Transfer(MessageTypes.Message, server, client, body, 1));
        }
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public void Open_Receiver4096BitKey_UsesExtraPaddingAndRoundTrips(MessageSecurityMode mode)
    {
        var (client, server) = Pair(SecurityPolicy.Aes256Sha256RsaPss, mode, SecurityTestCertificates.Server4096);

        foreach (var size in new[] { 10, 600, 3000 })
        {
            var body = Random(size);
            Assert.Equal(body, Transfer(MessageTypes.Open, client, server, body, 0));
            Assert.Equal(body, Transfer(MessageTypes.Open, server, client, body, 0));
        }
    }

    [Fact]
    public void Open_Encrypted_BodyIsNotInTheClear()
    {
        var (client, _) = Pair(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, SecurityTestCertificates.Server);
        var body = System.Text.Encoding.ASCII.GetBytes(new string('Z', 200));

        var chunk = Build(MessageTypes.Open, client, body, 0).Single().ToArray();

        Assert.DoesNotContain("ZZZZZZZZ", System.Text.Encoding.ASCII.GetString(chunk), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PolicyModes))]
    public void Message_TamperedByte_RejectedWithSecurityChecksFailed(string policyName, MessageSecurityMode mode)
    {
        var (client, server) = Pair(SecurityPolicy.Find(policyName)!, mode, SecurityTestCertificates.Server);
        Issue(client, server, 7);
        var chunk = Build(MessageTypes.Message, server, Random(1000), 7).Single().ToArray();
        chunk[^1] ^= 0x01; // the signature (in SignAndEncrypt: its last encrypted block)

        var error = Assert.Throws<ServiceResultException>(() => Receive(client, chunk));

        Assert.Equal(StatusCodes.BadSecurityChecksFailed, error.StatusCode);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void Message_TruncatedEncryptedChunk_Rejected(int cut)
    {
        var (client, server) = Pair(SecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt, SecurityTestCertificates.Server);
        Issue(client, server, 3);
        var chunk = Build(MessageTypes.Message, server, Random(1000), 3).Single().ToArray()[..^cut];
        BinaryPrimitives.WriteInt32LittleEndian(chunk.AsSpan(4), chunk.Length);

        var error = Assert.Throws<ServiceResultException>(() => Receive(client, chunk));

        Assert.Equal(StatusCodes.BadSecurityChecksFailed, error.StatusCode);
    }

    [Fact]
    public void Open_TamperedCiphertext_Rejected()
    {
        var (client, server) = Pair(SecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt, SecurityTestCertificates.Server);
        var chunk = Build(MessageTypes.Open, client, Random(100), 0).Single().ToArray();
        chunk[^10] ^= 0x80;

        var error = Assert.Throws<ServiceResultException>(() => Receive(server, chunk));

        Assert.Equal(StatusCodes.BadSecurityChecksFailed, error.StatusCode);
    }

    [Fact]
    public void Open_MeantForAnotherCertificate_RejectedNamingThumbprints()
    {
        var policy = SecurityPolicy.Basic256Sha256;
        var client = new PolicyChannelSecurity(policy, MessageSecurityMode.Sign, ChannelRole.Client, SecurityTestCertificates.Client, SecurityTestCertificates.Server4096);
        var server = new PolicyChannelSecurity(policy, MessageSecurityMode.Sign, ChannelRole.Server, SecurityTestCertificates.Server, null);
        var chunk = Build(MessageTypes.Open, client, Random(100), 0).Single().ToArray();

        var error = Assert.Throws<ServiceResultException>(() => Receive(server, chunk));

        Assert.Equal(StatusCodes.BadCertificateInvalid, error.StatusCode);
        Assert.Contains(SecurityTestCertificates.Server.Thumbprint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ServerRefusesClientCertificate_CallbackDecides()
    {
        var client = new PolicyChannelSecurity(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, ChannelRole.Client, SecurityTestCertificates.Client, SecurityTestCertificates.Server);
        var server = new PolicyChannelSecurity(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, ChannelRole.Server, SecurityTestCertificates.Server, null,
            _ => throw new ServiceResultException(StatusCodes.BadCertificateUntrusted, "not in the trust list"));
        var chunk = Build(MessageTypes.Open, client, Random(100), 0).Single().ToArray();

        var error = Assert.Throws<ServiceResultException>(() => Receive(server, chunk));

        Assert.Equal(StatusCodes.BadCertificateUntrusted, error.StatusCode);
    }

    [Fact]
    public void Renewal_PreviousTokenAcceptedUntilTwoNewerExist()
    {
        var (client, server) = Pair(SecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, SecurityTestCertificates.Server);
        Issue(client, server, 1);
        var underOne = Build(MessageTypes.Message, server, Random(100), 1).Single().ToArray();
        Issue(client, server, 2);

        Assert.Equal(100, Receive(client, underOne.ToArray()));
        Assert.Equal(new uint[] { 1, 2 }, client.TokenIds);

        Issue(client, server, 3);
        Issue(client, server, 4);
        var error = Assert.Throws<ServiceResultException>(() => Receive(client, underOne.ToArray()));
        Assert.Equal(StatusCodes.BadSecureChannelTokenUnknown, error.StatusCode);
    }

    [Fact]
    public void Keys_EachSideDerivesItsOwnAndThePeers()
    {
        // A client's message checked as if the client had sent it to itself fails: the directions use different keys.
        var (client, server) = Pair(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, SecurityTestCertificates.Server);
        Issue(client, server, 1);
        var fromClient = Build(MessageTypes.Message, client, Random(64), 1).Single().ToArray();

        Assert.Throws<ServiceResultException>(() => Receive(client, fromClient.ToArray()));
        Assert.Equal(64, Receive(server, fromClient));
    }

    [Fact]
    public void Server_PeeksPolicyThenSelectsModeFromTheRequest_MessagesRoundTrip()
    {
        var client = new PolicyChannelSecurity(SecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.Sign, ChannelRole.Client, SecurityTestCertificates.Client, SecurityTestCertificates.Server);
        var first = Build(MessageTypes.Open, client, Random(50), 0).Single();

        var (policyUri, sender, thumbprint) = PolicyChannelSecurity.PeekAsymmetricHeader(first);
        Assert.Equal(SecurityPolicy.Aes128Sha256RsaOaep.Uri, policyUri);
        Assert.Equal(SecurityTestCertificates.Client.RawData, sender);
        Assert.Equal(SecurityTestCertificates.Server.GetCertHash(), thumbprint);

        var server = new PolicyChannelSecurity(SecurityPolicy.Find(policyUri)!, MessageSecurityMode.SignAndEncrypt, ChannelRole.Server, SecurityTestCertificates.Server, null);
        Assert.Equal(50, Receive(server, first.ToArray()));
        server.SelectMode(MessageSecurityMode.Sign);
        Issue(client, server, 1);

        var body = Random(5000);
        Assert.Equal(body, Transfer(MessageTypes.Message, client, server, body, 1));
        Assert.Equal(body, Transfer(MessageTypes.Message, server, client, body, 1));
        Assert.Equal(StatusCodes.BadSecurityModeRejected, Assert.Throws<ServiceResultException>(() => server.SelectMode(MessageSecurityMode.SignAndEncrypt)).StatusCode);
    }

    [Fact]
    public void OnTokenIssued_WrongNonceLength_BadNonceInvalid()
    {
        var (client, _) = Pair(SecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign, SecurityTestCertificates.Server);

        var error = Assert.Throws<ServiceResultException>(() => client.OnTokenIssued(1, new byte[32], new byte[16]));

        Assert.Equal(StatusCodes.BadNonceInvalid, error.StatusCode);
    }

    [Theory]
    [InlineData("Basic256Sha256")]
    [InlineData("Aes256_Sha256_RsaPss")]
    public void SessionCrypto_SignVerifyAndSecretRoundTrip(string name)
    {
        var policy = SecurityPolicy.Find(name)!;
        var nonce = RandomNumberGenerator.GetBytes(32);
        var signature = SessionCrypto.Sign(policy, SecurityTestCertificates.Client, SecurityTestCertificates.Server.RawData, nonce);

        Assert.True(SessionCrypto.Verify(policy, SecurityTestCertificates.Client, signature, SecurityTestCertificates.Server.RawData, nonce));
        Assert.False(SessionCrypto.Verify(policy, SecurityTestCertificates.Client, signature, SecurityTestCertificates.Server.RawData, RandomNumberGenerator.GetBytes(32)));

        var secret = SessionCrypto.EncryptSecret(policy, SecurityTestCertificates.Server, "p4ssw0rd"u8, nonce);
        Assert.Equal("p4ssw0rd"u8.ToArray(), SessionCrypto.DecryptSecret(policy, SecurityTestCertificates.Server, secret, nonce));
        Assert.Throws<ServiceResultException>(() => SessionCrypto.DecryptSecret(policy, SecurityTestCertificates.Server, secret, RandomNumberGenerator.GetBytes(32)));
    }

    private static (PolicyChannelSecurity Client, PolicyChannelSecurity Server) Pair(SecurityPolicy policy, MessageSecurityMode mode, X509Certificate2 serverCertificate)
    {
        var client = new PolicyChannelSecurity(policy, mode, ChannelRole.Client, SecurityTestCertificates.Client, X509CertificateLoader.LoadCertificate(serverCertificate.RawData));
        var server = new PolicyChannelSecurity(policy, mode, ChannelRole.Server, serverCertificate, null);

        // The server learns the client's certificate from the first OPN.
        Transfer(MessageTypes.Open, client, server, [1, 2, 3], 0);
        return (client, server);
    }

    private static void Issue(PolicyChannelSecurity client, PolicyChannelSecurity server, uint tokenId)
    {
        var clientNonce = client.CreateNonce();
        var serverNonce = server.CreateNonce();
        client.OnTokenIssued(tokenId, clientNonce, serverNonce);
        server.OnTokenIssued(tokenId, clientNonce, serverNonce);
    }

    private static byte[] Random(int size) => RandomNumberGenerator.GetBytes(size);

    private static List<ReadOnlyMemory<byte>> Build(int type, IChannelSecurity sender, byte[] body, uint tokenId) =>
        MessageChunker.Build(type, 5, tokenId, MessageChunker.AsymmetricHeader(sender), body, 9, new SequenceNumbers(), sender, Limits);

    private static byte[] Transfer(int type, IChannelSecurity sender, IChannelSecurity receiver, byte[] body, uint tokenId)
    {
        var assembler = new ChunkAssembler(receiver, Limits);
        ReceivedMessage? message = null;
        foreach (var chunk in Build(type, sender, body, tokenId))
        {
            Assert.True(chunk.Length <= Limits.ReceiveBufferSize);
            message = assembler.Add(Chunk(chunk.ToArray()), 0);
        }

        return message!.Body.ToArray();
    }

    private static int Receive(IChannelSecurity receiver, byte[] chunk) =>
        new ChunkAssembler(receiver, Limits).Add(Chunk(chunk), 0)!.Body.Length;

    private static UaChunk Chunk(byte[] data) => new(BinaryPrimitives.ReadInt32LittleEndian(data) & 0xFFFFFF, data[3], data);
}
