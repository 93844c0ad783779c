using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Core;
using FactoryEdge.OpcUa;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.IntegrationTests.OpcUa;

/// <summary>node-opcua's server with every security policy in Sign and SignAndEncrypt (secure-server.js options).</summary>
public sealed class SecureNodeOpcUaFixture : IAsyncLifetime
{
    private readonly string _serverPki = Path.Combine(Path.GetTempPath(), "factoryedge-node-pki-" + Guid.NewGuid().ToString("N"));
    private NodeOpcUaServer? _server;

    internal async Task<NodeOpcUaServer> GetAsync() => _server ??= await NodeOpcUaServer.StartAsync("--secure", "--pki", _serverPki, "--scalars", "10");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _server?.Dispose();
        SecurityInteropTests.DeleteDirectory(_serverPki);
        return Task.CompletedTask;
    }
}

/// <summary>Sign and SignAndEncrypt against node-opcua: every policy × mode, trust flows, user tokens, tampering.</summary>
[Trait("Category", "Integration")]
public sealed class SecurityInteropTests : IClassFixture<SecureNodeOpcUaFixture>, IDisposable
{
    private readonly SecureNodeOpcUaFixture _fixture;
    private readonly string _pki = Path.Combine(Path.GetTempPath(), "factoryedge-pki-" + Guid.NewGuid().ToString("N"));

    public SecurityInteropTests(SecureNodeOpcUaFixture fixture)
    {
        _fixture = fixture;
    }

    public static TheoryData<string, string> PolicyModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var policy in SecurityPolicy.All)
        {
            data.Add(policy.Name, "Sign");
            data.Add(policy.Name, "SignAndEncrypt");
        }

        return data;
    }

    public void Dispose() => DeleteDirectory(_pki);

    internal static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static async Task<(int Code, string Output, string Error)> Probe(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await new OpcUaProbe().RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<X509Certificate2> TrustServerAsync(string url)
    {
        var endpoints = await SecureEndpoints.DiscoverAsync(url, null, null, null, CancellationToken.None);
        var certificate = X509CertificateLoader.LoadCertificate(CertificateBlob.FirstCertificate(endpoints.First(e => e.ServerCertificate is { Length: > 0 }).ServerCertificate));
        var store = new PkiStore(_pki);
        store.AddTrusted(certificate);
        return certificate;
    }

    [OpcUaPeerTheory]
    [MemberData(nameof(PolicyModes))]
    public async Task Source_EveryPolicyAndMode_ReadsAndSubscribesFloat4096(string policy, string mode)
    {
        var server = await _fixture.GetAsync();
        await TrustServerAsync(server.Url);
        var options = new OpcUaOptions
        {
            PkiDirectory = _pki,
            Servers =
            [
                new OpcUaServerOptions
                {
                    Name = "secure",
                    EndpointUrl = server.Url,
                    SecurityPolicy = policy,
                    SecurityMode = mode,
                    UserName = "operator",
                    Password = "secret",
                    PublishingIntervalMs = 50,
                    ConnectTimeoutMs = 5000,
                    RequestTimeoutMs = 5000,
                    Waveforms =
                    [
                        new OpcUaWaveformOptions { Channel = "plant/line1/pump1/de/x", NodeId = OpcUaPeers.Node("Machine1.Waveform"), SampleRateNodeId = "../SampleRate", Contiguous = true },
                        new OpcUaWaveformOptions { Channel = "plant/line1/pump1/de/y", NodeId = OpcUaPeers.Node("Machine1.Waveform"), SampleRateHz = 40960, Unit = "g", Mode = "Polling", PollIntervalMs = 200 },
                    ],
                },
            ],
        };

        // The sample rate is read from the server (over the secure channel) before the channels exist.
        var (source, writers) = SourceHarness.Create(options);
        Assert.Equal(40_960, source.Channels[0].SampleRateHz);

        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await OpcUaPeers.WaitUntil(() => writers[0].Count >= 5 && writers[1].Count >= 2, TimeSpan.FromSeconds(30), "5 subscribed blocks and 2 reads");
        await cts.CancelAsync();
        await run;

        foreach (var writer in writers)
        {
            var (samples, _, quality, _) = writer.Blocks[^1];
            Assert.Equal(4096, samples.Length);
            Assert.Equal(SampleQuality.Good, quality);
            for (var k = 1; k < samples.Length; k++)
            {
                Assert.Equal(samples[0] + k, samples[k]);
            }
        }
    }

    [OpcUaPeerFact]
    public async Task Source_UntrustedServer_NoDataAndRejectedUntilTrustedThenDataWithoutRestart()
    {
        var server = await _fixture.GetAsync();
        var options = new OpcUaOptions
        {
            PkiDirectory = _pki,
            Servers =
            [
                new OpcUaServerOptions
                {
                    Name = "secure",
                    EndpointUrl = server.Url,
                    PublishingIntervalMs = 50,
                    ReconnectMaxDelayMs = 500,
                    Waveforms = [new OpcUaWaveformOptions { Channel = "plant/line1/pump1/de/x", NodeId = OpcUaPeers.Node("Machine1.Waveform"), SampleRateHz = 40960, Unit = "g" }],
                },
            ],
        };
        var (source, writers) = SourceHarness.Create(options);
        var store = new PkiStore(_pki);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);

        await OpcUaPeers.WaitUntil(() => store.Rejected().Count == 1, TimeSpan.FromSeconds(15), "the server certificate in rejected/");
        await Task.Delay(1000);
        Assert.Equal(0, writers[0].Count);

        store.AddTrusted(store.Rejected()[0].Certificate);
        await OpcUaPeers.WaitUntil(() => writers[0].Count >= 3, TimeSpan.FromSeconds(20), "blocks once the server is trusted");
        await cts.CancelAsync();
        await run;
        Assert.Empty(store.Rejected());
    }

    [OpcUaPeerTheory]
    [InlineData("Basic256Sha256")]
    [InlineData("Aes128_Sha256_RsaOaep")]
    [InlineData("Aes256_Sha256_RsaPss")]
    public async Task Probe_SignAndEncryptAcceptingTheCertificate_ReadsFloat4096(string policy)
    {
        var server = await _fixture.GetAsync();

        var (code, output, error) = await Probe(server.Url, "--security", policy + ":SignAndEncrypt", "--accept-server-certificate", "--pki", _pki, "--read", OpcUaPeers.Node("Machine1.Waveform"));

        Assert.True(code == 0, error);
        Assert.Contains($"session: {policy} SignAndEncrypt", output, StringComparison.Ordinal);
        Assert.Contains("Float[4096] length 4096", output, StringComparison.Ordinal);
    }

    [OpcUaPeerFact]
    public async Task Probe_UntrustedServer_RefusedCopiedToRejectedThenTrustedWithCertTool()
    {
        var server = await _fixture.GetAsync();

        var (code, _, error) = await Probe(server.Url, "--security", "Basic256Sha256:SignAndEncrypt", "--pki", _pki, "--read", OpcUaPeers.Node("Machine1.Double"));

        Assert.Equal(OpcUaProbe.ExitCertificate, code);
        var rejected = Assert.Single(new PkiStore(_pki).Rejected());
        Assert.Contains("thumbprint: " + rejected.Thumbprint, error, StringComparison.Ordinal);
        Assert.Contains("factoryedge cert trust " + rejected.Thumbprint, error, StringComparison.Ordinal);
        Assert.Contains("BadCertificateUntrusted", error, StringComparison.Ordinal);

        using var trustOutput = new StringWriter();
        Assert.Equal(0, await new CertTool { DefaultPkiDirectory = _pki }.RunAsync(["trust", rejected.Thumbprint], trustOutput, TextWriter.Null, CancellationToken.None));

        (code, var output, error) = await Probe(server.Url, "--security", "Basic256Sha256:SignAndEncrypt", "--pki", _pki, "--read", OpcUaPeers.Node("Machine1.Double"));
        Assert.True(code == 0, error);
        Assert.Contains("session: Basic256Sha256 SignAndEncrypt", output, StringComparison.Ordinal);
        Assert.Empty(new PkiStore(_pki).Rejected());
    }

    [OpcUaPeerFact]
    public async Task Probe_NoSecurityOptionAndNoNoneEndpoint_ListsPoliciesOnOffer()
    {
        var server = await _fixture.GetAsync();

        var (code, _, error) = await Probe(server.Url, "--read", OpcUaPeers.Node("Machine1.Double"));

        Assert.Equal(OpcUaProbe.ExitConnection, code);
        Assert.Contains("offers no endpoint with SecurityPolicy None", error, StringComparison.Ordinal);
        Assert.Contains("Aes256_Sha256_RsaPss SignAndEncrypt", error, StringComparison.Ordinal);
        Assert.Contains("--security Aes256_Sha256_RsaPss:SignAndEncrypt", error, StringComparison.Ordinal);
    }

    [OpcUaPeerTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Probe_ServerCertificateOutOfDate_RefusedWithClearReasonEvenWhenAccepting(bool expired)
    {
        var dir = Path.Combine(_pki, "node-cert");
        Directory.CreateDirectory(dir);
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = ApplicationCertificates.CreateSelfSigned(
            "CN=out-of-date", "urn:" + Dns.GetHostName() + ":NodeOPCUA-Server", ["localhost", "127.0.0.1", Dns.GetHostName()],
            expired ? now.AddDays(-400) : now.AddDays(30), TimeSpan.FromDays(365));
        var certFile = Path.Combine(dir, "cert.pem");
        var keyFile = Path.Combine(dir, "key.pem");
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
        using (var key = certificate.GetRSAPrivateKey()!)
        {
            await File.WriteAllTextAsync(keyFile, key.ExportRSAPrivateKeyPem());
        }

        using var server = await NodeOpcUaServer.StartAsync("--secure", "--pki", Path.Combine(dir, "pki"), "--scalars", "10", "--cert", certFile, "--key", keyFile);

        var (code, _, error) = await Probe(server.Url, "--security", "Basic256Sha256:SignAndEncrypt", "--accept-server-certificate", "--pki", _pki, "--read", OpcUaPeers.Node("Machine1.Double"));

        Assert.Equal(OpcUaProbe.ExitCertificate, code);
        Assert.Contains("BadCertificateTimeInvalid", error, StringComparison.Ordinal);
        Assert.Contains(expired ? "expired at" : "is not valid before", error, StringComparison.Ordinal);
        Assert.Contains("this host's clock reads", error, StringComparison.Ordinal);
        Assert.Contains("thumbprint: " + certificate.Thumbprint, error, StringComparison.Ordinal);
    }

    [OpcUaPeerFact]
    public async Task Probe_ServerDoesNotTrustOurCertificate_SaysToTrustItOnTheServer()
    {
        using var server = await NodeOpcUaServer.StartAsync("--secure", "--pki", Path.Combine(_pki, "node-pki"), "--scalars", "10", "--reject-unknown");

        var (code, _, error) = await Probe(server.Url, "--security", "Aes128_Sha256_RsaOaep:Sign", "--accept-server-certificate", "--pki", _pki, "--read", OpcUaPeers.Node("Machine1.Double"));

        Assert.Equal(OpcUaProbe.ExitConnection, code);
        using var own = X509CertificateLoader.LoadCertificateFromFile(new PkiStore(_pki).OwnCertificatePath);
        Assert.Contains("does not trust this gateway's certificate " + own.Thumbprint, error, StringComparison.Ordinal);
    }

    [OpcUaPeerFact]
    public async Task Session_UserNameOverSignAndEncrypt_EncryptedTokenAcceptedAndWrongPasswordRefused()
    {
        var server = await _fixture.GetAsync();
        var certificate = await TrustServerAsync(server.Url);
        using var application = ApplicationIdentity.LoadOrCreate(new PkiStore(_pki), null, NullLogger.Instance);
        var options = new ClientSecurityOptions { SecurityPolicy = "Aes256_Sha256_RsaPss", SecurityMode = MessageSecurityMode.SignAndEncrypt, Application = application };
        var choice = await SecureEndpoints.SelectAsync(server.Url, options, null, null, null, CancellationToken.None);
        Assert.Equal(certificate.Thumbprint, choice.ServerCertificate!.Thumbprint);
        var tokenPolicy = choice.Endpoint.UserIdentityTokens.First(t => t.TokenType == UserTokenType.UserName);
        Assert.True(string.IsNullOrEmpty(tokenPolicy.SecurityPolicyUri) || tokenPolicy.SecurityPolicyUri != SecurityPolicyUris.None, "the password must travel encrypted");

        await using (var channel = await UaSecureChannel.OpenAsync(server.Url, choice.CreateSecurity(application)))
        {
            await using var session = await UaClientSession.CreateAsync(channel, new SessionOptions { Identity = UserIdentity.FromUserName("operator", "secret") });
            var value = await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Double")));
            Assert.Equal(BuiltInType.Double, value.Value.Type);
        }

        await using (var channel = await UaSecureChannel.OpenAsync(server.Url, choice.CreateSecurity(application)))
        {
            var error = await Assert.ThrowsAsync<ServiceResultException>(() => UaClientSession.CreateAsync(channel, new SessionOptions { Identity = UserIdentity.FromUserName("operator", "wrong") }));
            Assert.Equal(StatusCodes.BadUserAccessDenied, error.StatusCode);
        }
    }

    [OpcUaPeerFact]
    public async Task Channel_SignAndEncrypt_TokenRenewedAndMessagesUnderBothTokensAccepted()
    {
        var server = await _fixture.GetAsync();
        await TrustServerAsync(server.Url);
        using var application = ApplicationIdentity.LoadOrCreate(new PkiStore(_pki), null, NullLogger.Instance);
        var choice = await SecureEndpoints.SelectAsync(server.Url, new ClientSecurityOptions { Application = application }, null, null, null, CancellationToken.None);
        await using var channel = await UaSecureChannel.OpenAsync(server.Url, choice.CreateSecurity(application), new SecureChannelOptions { TokenLifetime = TimeSpan.FromSeconds(10) });
        await using var session = await UaClientSession.CreateAsync(channel);
        var first = channel.TokenId;

        await OpcUaPeers.WaitUntil(() => channel.TokenRenewals >= 1, TimeSpan.FromSeconds(20), "the token to be renewed");
        for (var i = 0; i < 20; i++)
        {
            await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Waveform")));
        }

        Assert.NotEqual(first, channel.TokenId);
        Assert.True(channel.IsOpen);
    }

    [OpcUaPeerTheory]
    [InlineData("Sign", false)]
    [InlineData("SignAndEncrypt", false)]
    [InlineData("SignAndEncrypt", true)]
    public async Task Channel_TamperedSignatureOrTruncatedChunk_RejectedAndChannelClosed(string mode, bool truncate)
    {
        var server = await _fixture.GetAsync();
        await TrustServerAsync(server.Url);
        using var application = ApplicationIdentity.LoadOrCreate(new PkiStore(_pki), null, NullLogger.Instance);
        await using var proxy = new TamperingProxy(server.Port);
        var choice = await SecureEndpoints.SelectAsync(proxy.Url, new ClientSecurityOptions { SecurityPolicy = "Basic256Sha256", SecurityMode = Enum.Parse<MessageSecurityMode>(mode), Application = application }, null, null, null, CancellationToken.None);
        await using var channel = await UaSecureChannel.OpenAsync(proxy.Url, choice.CreateSecurity(application));
        await using var session = await UaClientSession.CreateAsync(channel);
        await session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Double")));

        proxy.TamperNextMessage(truncate);
        var error = await Assert.ThrowsAsync<ServiceResultException>(() => session.ReadValueAsync(session.Resolve(OpcUaPeers.Node("Machine1.Double"))));

        Assert.Equal(StatusCodes.BadSecurityChecksFailed, error.StatusCode);
        var closed = await channel.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, closed!.StatusCode);
        Assert.False(channel.IsOpen);

        // Nothing else broke: a new channel to the same server works.
        await using var again = await UaSecureChannel.OpenAsync(server.Url, choice.CreateSecurity(application));
        Assert.True(again.IsOpen);
    }

    /// <summary>A loopback TCP relay that can flip the last byte of, or cut 5 bytes off, the next server → client MSG chunk.</summary>
    private sealed class TamperingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _upstreamPort;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _tasks = [];
        private volatile int _tamper; // 0 none, 1 flip, 2 truncate

        public TamperingProxy(int upstreamPort)
        {
            _upstreamPort = upstreamPort;
            _listener.Start();
            _tasks.Add(AcceptAsync());
        }

        public string Url => "opc.tcp://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        public void TamperNextMessage(bool truncate) => _tamper = truncate ? 2 : 1;

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
                _tasks.Add(PumpAsync(client.GetStream(), upstream.GetStream(), tamper: false, client, upstream));
                _tasks.Add(PumpAsync(upstream.GetStream(), client.GetStream(), tamper: true, client, upstream));
            }
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to, bool tamper, TcpClient a, TcpClient b)
        {
            var header = new byte[8];
            try
            {
                while (true)
                {
                    await from.ReadExactlyAsync(header, _stop.Token);
                    var size = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                    var chunk = new byte[size];
                    header.CopyTo(chunk, 0);
                    await from.ReadExactlyAsync(chunk.AsMemory(8), _stop.Token);
                    var isMessage = chunk[0] == 'M' && chunk[1] == 'S' && chunk[2] == 'G';
                    if (tamper && isMessage && Interlocked.Exchange(ref _tamper, 0) is var how && how != 0)
                    {
                        if (how == 1)
                        {
                            chunk[^1] ^= 0x01;
                        }
                        else
                        {
                            chunk = chunk[..^5];
                            BinaryPrimitives.WriteInt32LittleEndian(chunk.AsSpan(4), chunk.Length);
                        }
                    }

                    await to.WriteAsync(chunk, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException or SocketException)
            {
                a.Dispose();
                b.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await Task.WhenAll(_tasks.ToArray());
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
            {
            }

            _stop.Dispose();
        }
    }
}

/// <summary>A theory that needs node-opcua (skipped when missing, failing under CI=true), like <see cref="OpcUaPeerFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OpcUaPeerTheoryAttribute : TheoryAttribute
{
    public OpcUaPeerTheoryAttribute()
    {
        if (!OpcUaPeers.IsCi && OpcUaPeers.Missing() is { } missing)
        {
            Skip = "peer missing (run tests/peers/opcua/install.sh): " + missing;
        }
    }
}
