using System.Diagnostics.Metrics;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.OpcUa.Tests;

public sealed class SecurityPkiTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "factoryedge-pki-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(Now);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void LoadOrCreate_FirstRun_CreatesRsa2048Sha256WithSansAndPrivateKeyFile()
    {
        using var identity = ApplicationIdentity.LoadOrCreate(new PkiStore(_root), "urn:test:gateway", NullLogger.Instance, _time);

        Assert.True(identity.Created);
        var certificate = identity.Certificate;
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal(2048, certificate.GetRSAPublicKey()!.KeySize);
        Assert.Equal("1.2.840.113549.1.1.11", certificate.SignatureAlgorithm.Value); // sha256RSA
        Assert.Equal("urn:test:gateway", identity.ApplicationUri);
        var (dns, _) = ApplicationCertificates.HostNames(certificate);
        Assert.Contains(Dns.GetHostName(), dns, StringComparer.OrdinalIgnoreCase);
        foreach (var dir in new[] { "own/certs", "own/private", "trusted/certs", "trusted/crl", "issuers/certs", "issuers/crl", "rejected/certs" })
        {
            Assert.True(Directory.Exists(Path.Combine(_root, dir)), dir);
        }

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(identity.Store.OwnKeyPath), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(identity.Store.OwnKeyPath));
        }
    }

    [Fact]
    public void LoadOrCreate_SecondRun_LoadsTheSameCertificateWithItsKey()
    {
        string thumbprint;
        using (var first = ApplicationIdentity.LoadOrCreate(new PkiStore(_root), null, NullLogger.Instance, _time))
        {
            thumbprint = first.Certificate.Thumbprint;
        }

        using var second = ApplicationIdentity.LoadOrCreate(new PkiStore(_root), null, NullLogger.Instance, _time);

        Assert.False(second.Created);
        Assert.Equal(thumbprint, second.Certificate.Thumbprint);
        using var key = second.Certificate.GetRSAPrivateKey()!;
        byte[] data = [1, 2, 3];
        var signature = key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(second.Certificate.GetRSAPublicKey()!.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void CheckExpiry_Within30Days_WarnsAndCountsTheMetric()
    {
        using var identity = ApplicationIdentity.LoadOrCreate(new PkiStore(_root), null, NullLogger.Instance, _time);
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PkiMetrics.MeterName && instrument.Name == "factoryedge.opcua.certificate.expiry_warnings")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();

        Assert.False(identity.CheckExpiry(NullLogger.Instance, _time));
        _time.SetUtcNow(new DateTimeOffset(identity.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero).AddDays(-20));
        Assert.True(identity.CheckExpiry(NullLogger.Instance, _time));

        Assert.Equal(1, Interlocked.Read(ref counted));
    }

    [Fact]
    public void Validate_UntrustedThenTrusted_RefusedThenGood()
    {
        var store = new PkiStore(_root);
        store.EnsureCreated();
        var validator = new CertificateValidator(store, _time);
        using var server = SecurityTestCertificates.Make("urn:test:server", "server", 2048, Now.AddDays(-1));

        var refused = validator.Validate(server, applicationUri: "urn:test:server", hostName: "localhost");
        Assert.Equal(StatusCodes.BadCertificateUntrusted, refused.StatusCode);
        Assert.True(refused.IsUntrusted);
        Assert.Contains(server.Thumbprint, refused.Reason, StringComparison.Ordinal);

        store.AddRejected(server);
        store.AddTrusted(server);
        Assert.Empty(store.Rejected());
        Assert.True(validator.Validate(server, applicationUri: "urn:test:server", hostName: "localhost").IsGood);
    }

    [Fact]
    public void Validate_Expired_RefusedWithDatesAndClockHint()
    {
        var store = new PkiStore(_root);
        store.EnsureCreated();
        using var expired = SecurityTestCertificates.Make("urn:test:server", "old", 2048, Now.AddDays(-400), TimeSpan.FromDays(365));
        store.AddTrusted(expired);

        var result = new CertificateValidator(store, _time).Validate(expired);

        Assert.Equal(StatusCodes.BadCertificateTimeInvalid, result.StatusCode);
        Assert.False(result.IsUntrusted);
        Assert.Contains("expired at", result.Reason, StringComparison.Ordinal);
        Assert.Contains("this host's clock reads 2026-06-01 12:00:00 UTC", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NotYetValid_RefusedAndSaysTheClockIsWrongWhenOurOwnIsNotValidEither()
    {
        using (ApplicationIdentity.LoadOrCreate(new PkiStore(_root), null, NullLogger.Instance, _time))
        {
        }

        var store = new PkiStore(_root);
        using var future = SecurityTestCertificates.Make("urn:test:server", "future", 2048, Now.AddDays(3));
        var validator = new CertificateValidator(store, _time);

        var result = validator.Validate(future);
        Assert.Equal(StatusCodes.BadCertificateTimeInvalid, result.StatusCode);
        Assert.Contains("is not valid before", result.Reason, StringComparison.Ordinal);
        Assert.Contains("check the clocks", result.Reason, StringComparison.Ordinal);

        // This host's clock jumps back a year: our own certificate is not valid yet either.
        var wrongClock = new CertificateValidator(store, new FakeTimeProvider(Now.AddDays(-365))).Validate(future);
        Assert.Contains("almost certainly wrong", wrongClock.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WrongApplicationUriOrHost_RefusedNamingBoth()
    {
        var store = new PkiStore(_root);
        store.EnsureCreated();
        using var server = SecurityTestCertificates.Make("urn:test:server", "server", 2048, Now.AddDays(-1));
        store.AddTrusted(server);
        var validator = new CertificateValidator(store, _time);

        var uri = validator.Validate(server, applicationUri: "urn:other");
        Assert.Equal(StatusCodes.BadCertificateUriInvalid, uri.StatusCode);
        Assert.Contains("urn:test:server", uri.Reason, StringComparison.Ordinal);

        var host = validator.Validate(server, hostName: "plc7.plant.example");
        Assert.Equal(StatusCodes.BadCertificateHostNameInvalid, host.StatusCode);
        Assert.Contains("localhost", host.Reason, StringComparison.Ordinal);

        Assert.True(validator.Validate(server, applicationUri: "urn:test:server", hostName: "127.0.0.1").IsGood);
    }

    [Fact]
    public void MatchesHost_LoopbackAndCertificateForThisHostsName_Matches()
    {
        using var certificate = ApplicationCertificates.CreateSelfSigned("CN=x", "urn:x", [Dns.GetHostName()], Now, TimeSpan.FromDays(1));

        Assert.True(CertificateValidator.MatchesHost(certificate, "127.0.0.1"));
        Assert.True(CertificateValidator.MatchesHost(certificate, Dns.GetHostName().ToUpperInvariant()));
        Assert.False(CertificateValidator.MatchesHost(certificate, "10.1.2.3"));
    }

    [Fact]
    public void Validate_IssuedByTrustedCa_NeedsTheCasCrlAndHonoursRevocation()
    {
        var store = new PkiStore(_root);
        store.EnsureCreated();
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Plant CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(Now.AddDays(-10), Now.AddYears(5));
        using var serverKey = RSA.Create(2048);
        var serverRequest = ApplicationCertificates.CreateRequest(serverKey, "CN=plc7", "urn:plant:plc7", ["localhost"], selfSigned: false);
        using var server = serverRequest.Create(ca, Now.AddDays(-1), Now.AddYears(1), [1, 2, 3, 4]);
        File.WriteAllBytes(Path.Combine(store.TrustedCertificates, "ca.der"), ca.RawData);
        var validator = new CertificateValidator(store, _time);

        var noCrl = validator.Validate(server);
        Assert.Equal(StatusCodes.BadCertificateRevocationUnknown, noCrl.StatusCode);
        Assert.Contains("no CRL of CA 'CN=Plant CA'", noCrl.Reason, StringComparison.Ordinal);

        var crl = new CertificateRevocationListBuilder();
        File.WriteAllBytes(Path.Combine(store.TrustedCrls, "ca.crl"), crl.Build(ca, BigInteger.One, Now.AddDays(30), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, Now.AddDays(-1)));
        Assert.True(validator.Validate(server).IsGood);

        crl.AddEntry(server, Now.AddHours(-1));
        File.WriteAllBytes(Path.Combine(store.TrustedCrls, "ca.crl"), crl.Build(ca, new BigInteger(2), Now.AddDays(30), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, Now.AddDays(-1)));
        var revoked = validator.Validate(server);
        Assert.Equal(StatusCodes.BadCertificateRevoked, revoked.StatusCode);
    }

    [Fact]
    public void Choose_NoPolicyConfigured_PicksTheStrongestSecureEndpoint()
    {
        var endpoints = Endpoints(("None", MessageSecurityMode.None), ("Basic256Sha256", MessageSecurityMode.SignAndEncrypt), ("Aes256_Sha256_RsaPss", MessageSecurityMode.Sign), ("Aes256_Sha256_RsaPss", MessageSecurityMode.SignAndEncrypt), ("Aes128_Sha256_RsaOaep", MessageSecurityMode.SignAndEncrypt));

        var choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions());

        Assert.Equal(SecurityPolicy.Aes256Sha256RsaPss, choice.Policy);
        Assert.Equal(MessageSecurityMode.SignAndEncrypt, choice.Endpoint.SecurityMode);
        Assert.Equal(SecurityTestCertificates.Server.Thumbprint, choice.ServerCertificate!.Thumbprint);
    }

    [Fact]
    public void Choose_OnlyNoneOffered_RefusedListingWhatIsOfferedUnlessNoneAllowed()
    {
        var endpoints = Endpoints(("None", MessageSecurityMode.None));

        var error = Assert.Throws<ServiceResultException>(() => SecureEndpoints.Choose(endpoints, new ClientSecurityOptions()));
        Assert.Equal(StatusCodes.BadSecurityPolicyRejected, error.StatusCode);
        Assert.Contains("it offers None None", error.Message, StringComparison.Ordinal);

        Assert.True(SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { AllowNone = true }).IsNone);
        Assert.True(SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { SecurityPolicy = "None", AllowNone = true }).IsNone);
    }

    [Fact]
    public void Choose_ConfiguredPolicyAndMode_TakesExactlyThat()
    {
        var endpoints = Endpoints(("Basic256Sha256", MessageSecurityMode.Sign), ("Basic256Sha256", MessageSecurityMode.SignAndEncrypt), ("Aes256_Sha256_RsaPss", MessageSecurityMode.SignAndEncrypt));

        var choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { SecurityPolicy = "Basic256Sha256", SecurityMode = MessageSecurityMode.Sign });
        Assert.Equal("Basic256Sha256 Sign", choice.ToString());

        var missing = Assert.Throws<ServiceResultException>(() => SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { SecurityPolicy = "Aes128_Sha256_RsaOaep" }));
        Assert.Contains("Basic256Sha256 Sign, Basic256Sha256 SignAndEncrypt, Aes256_Sha256_RsaPss SignAndEncrypt", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckServerCertificate_Untrusted_CopiedToRejectedAndMessageHasTrustCommand()
    {
        using var identity = ApplicationIdentity.LoadOrCreate(new PkiStore(_root), null, NullLogger.Instance, TimeProvider.System);
        var endpoints = Endpoints(("Basic256Sha256", MessageSecurityMode.SignAndEncrypt));
        var choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions());
        var options = new ClientSecurityOptions { Application = identity };

        var error = Assert.Throws<CertificateRejectedException>(() => SecureEndpoints.CheckServerCertificate(choice, "opc.tcp://localhost:4840", options));

        Assert.Equal("factoryedge cert trust " + SecurityTestCertificates.Server.Thumbprint, error.TrustCommand);
        Assert.Contains(error.TrustCommand!, error.Message, StringComparison.Ordinal);
        Assert.Equal(SecurityTestCertificates.Server.Thumbprint, Assert.Single(identity.Store.Rejected()).Thumbprint);

        SecureEndpoints.CheckServerCertificate(choice, "opc.tcp://localhost:4840", options with { AcceptUntrustedCertificates = true });
        identity.Store.AddTrusted(SecurityTestCertificates.Server);
        SecureEndpoints.CheckServerCertificate(choice, "opc.tcp://localhost:4840", options);
    }

    [Fact]
    public async Task CertTool_TrustRejectListRenewCsr_WorkOnTheDirectory()
    {
        var store = new PkiStore(_root);
        using (ApplicationIdentity.LoadOrCreate(store, "urn:test:gw", NullLogger.Instance, TimeProvider.System))
        {
        }

        store.AddRejected(SecurityTestCertificates.Server);
        var tool = new CertTool { DefaultPkiDirectory = _root, ConfiguredServers = ["line1 (opc.tcp://plc1:4840)"] };
        var thumbprint = SecurityTestCertificates.Server.Thumbprint;

        var (code, output, _) = await RunAsync(tool, "trust", thumbprint[..10]);
        Assert.Equal(CertTool.ExitOk, code);
        Assert.Contains("trusted: CN=server", output, StringComparison.Ordinal);
        Assert.Equal(thumbprint, Assert.Single(store.Trusted()).Thumbprint);
        Assert.Empty(store.Rejected());

        (code, output, _) = await RunAsync(tool, "list");
        Assert.Contains("trusted: 1", output, StringComparison.Ordinal);
        Assert.Contains("urn:test:gw", output, StringComparison.Ordinal);

        (code, _, _) = await RunAsync(tool, "reject", thumbprint);
        Assert.Equal(CertTool.ExitOk, code);
        Assert.Empty(store.Trusted());
        Assert.Single(store.Rejected());

        (code, output, _) = await RunAsync(tool, "csr");
        Assert.Equal(CertTool.ExitOk, code);
        var csr = CertificateRequest.LoadSigningRequestPem(output.Trim(), HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.Contains(csr.CertificateExtensions, e => e is X509SubjectAlternativeNameExtension);

        var old = store.LoadOwn()!.Thumbprint;
        (code, output, _) = await RunAsync(tool, "renew");
        Assert.Equal(CertTool.ExitOk, code);
        Assert.NotEqual(old, store.LoadOwn()!.Thumbprint);
        Assert.Equal("urn:test:gw", ApplicationCertificates.ApplicationUri(store.LoadOwn()!));
        Assert.Contains("line1 (opc.tcp://plc1:4840)", output, StringComparison.Ordinal);

        (code, _, var error) = await RunAsync(tool, "import", Path.Combine(store.RejectedCertificates, PkiStore.FileName(SecurityTestCertificates.Server)));
        Assert.Equal(CertTool.ExitRefused, code);
        Assert.Contains("not issued for this gateway's key", error, StringComparison.Ordinal);

        (code, _, _) = await RunAsync(tool, "trust", "0000000000");
        Assert.Equal(CertTool.ExitNotFound, code);
    }

    [Theory]
    [InlineData("Basic256Sha256:SignAndEncrypt", "Basic256Sha256", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("aes128_sha256_rsaoaep:Sign", "Aes128_Sha256_RsaOaep", MessageSecurityMode.Sign)]
    [InlineData("Aes256_Sha256_RsaPss", "Aes256_Sha256_RsaPss", null)]
    [InlineData("None", "None", null)]
    public void ProbeParse_Security_PolicyAndMode(string text, string policy, MessageSecurityMode? mode)
    {
        var request = OpcUaProbeRequest.Parse(["opc.tcp://h:4840", "--security", text, "--accept-server-certificate", "--pki", "/tmp/p"]);

        Assert.Equal(policy, request.SecurityPolicy);
        Assert.Equal(mode, request.SecurityMode);
        Assert.True(request.AcceptServerCertificate);
        Assert.Equal("/tmp/p", request.PkiDirectory);
    }

    [Theory]
    [InlineData("Basic128Rsa15:Sign", "unknown policy")]
    [InlineData("Basic256Sha256:Encrypt", "must be Sign or SignAndEncrypt")]
    public void ProbeParse_BadSecurity_SaysWhy(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => OpcUaProbeRequest.Parse(["opc.tcp://h:4840", "--security", text]));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(CertTool tool, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await tool.RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    private static EndpointDescription[] Endpoints(params (string Policy, MessageSecurityMode Mode)[] list) =>
        [.. list.Select(e => new EndpointDescription
        {
            EndpointUrl = "opc.tcp://localhost:4840",
            SecurityPolicyUri = "http://opcfoundation.org/UA/SecurityPolicy#" + e.Policy,
            SecurityMode = e.Mode,
            ServerCertificate = e.Mode == MessageSecurityMode.None ? null : SecurityTestCertificates.Server.RawData,
            Server = new ApplicationDescription { ApplicationUri = "urn:test:server" },
        })];
}
