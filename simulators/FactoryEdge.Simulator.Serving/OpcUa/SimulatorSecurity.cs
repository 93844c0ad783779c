using System.Net;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.Security;
using FactoryEdge.OpcUa.Server;

namespace FactoryEdge.Simulator.OpcUa;

/// <summary>Which endpoints the OPC UA simulator offers.</summary>
internal enum SimulatorSecurityMode
{
    /// <summary>None, Basic256Sha256 Sign and Basic256Sha256 SignAndEncrypt.</summary>
    All,

    /// <summary>SecurityPolicy None only (no certificate).</summary>
    None,

    /// <summary>Basic256Sha256 Sign and SignAndEncrypt only.</summary>
    Secure,
}

/// <summary>
/// The simulator's own certificate (self-signed, made at start, never written to disk) and its
/// Basic256Sha256 endpoints, built from the stack's security classes (<see cref="PolicyChannelSecurity"/>,
/// <see cref="SessionCrypto"/>). A simulator trusts every client certificate: it stands in for a
/// device on a test bench, and the client's trust decisions are what is being tested.
/// </summary>
internal static class SimulatorSecurity
{
    public const string ApplicationUri = "urn:factoryedge:simulator:server";

    /// <summary>Settings with the endpoints of <paramref name="mode"/> (and a fresh certificate unless None only).</summary>
    public static OpcUaSimulatorSettings Apply(OpcUaSimulatorSettings settings, SimulatorSecurityMode mode, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        if (mode == SimulatorSecurityMode.None)
        {
            return settings with { Endpoints = [ServerSecurityEndpoint.None] };
        }

        var hosts = new List<string> { "localhost", "127.0.0.1", Dns.GetHostName() };
        if (!settings.Bind.Equals(IPAddress.Any) && !settings.Bind.Equals(IPAddress.IPv6Any) && !hosts.Contains(settings.Bind.ToString()))
        {
            hosts.Add(settings.Bind.ToString());
        }

        var certificate = ApplicationCertificates.CreateSelfSigned("CN=FactoryEdge simulator, O=FactoryEdge", ApplicationUri, hosts, time.GetUtcNow().AddDays(-1), TimeSpan.FromDays(365));
        var policy = SecurityPolicy.Basic256Sha256;
        var endpoints = new List<ServerSecurityEndpoint>();
        if (mode == SimulatorSecurityMode.All)
        {
            endpoints.Add(ServerSecurityEndpoint.None);
        }

        endpoints.Add(Endpoint(policy, MessageSecurityMode.Sign, 2, certificate));
        endpoints.Add(Endpoint(policy, MessageSecurityMode.SignAndEncrypt, 3, certificate));
        return settings with
        {
            Endpoints = endpoints,
            Certificate = certificate.RawData,
            SignSession = (uri, clientCertificate, clientNonce) =>
                SessionCrypto.Sign(SecurityPolicy.Find(uri) ?? policy, certificate, CertificateBlob.FirstCertificate(clientCertificate), clientNonce),
            VerifyClientSignature = (uri, clientCertificate, signature, serverNonce) =>
                clientCertificate.Length > 0
                && SessionCrypto.Verify(SecurityPolicy.Find(uri) ?? policy, X509CertificateLoader.LoadCertificate(CertificateBlob.FirstCertificate(clientCertificate)), signature, certificate.RawData, serverNonce),
        };
    }

    private static ServerSecurityEndpoint Endpoint(SecurityPolicy policy, MessageSecurityMode mode, byte level, X509Certificate2 certificate) =>
        new(policy.Uri, mode, level, (_, m) => new PolicyChannelSecurity(policy, m, ChannelRole.Server, certificate, null, static client => client));
}
