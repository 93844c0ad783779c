using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Pki;

namespace FactoryEdge.OpcUa.Tests;

/// <summary>Application certificates for the security tests, made once per run (RSA key generation is slow).</summary>
internal static class SecurityTestCertificates
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Lazy<X509Certificate2> LazyClient = new(() => Make("urn:test:client", "client", 2048));
    private static readonly Lazy<X509Certificate2> LazyServer = new(() => Make("urn:test:server", "server", 2048));
    private static readonly Lazy<X509Certificate2> LazyServer4096 = new(() => Make("urn:test:server4096", "server4096", 4096));

    public static X509Certificate2 Client => LazyClient.Value;

    public static X509Certificate2 Server => LazyServer.Value;

    /// <summary>A 4096-bit server: its OAEP blocks exceed 256 bytes, so the extra padding byte is used.</summary>
    public static X509Certificate2 Server4096 => LazyServer4096.Value;

    public static X509Certificate2 Make(string uri, string name, int keySize, DateTimeOffset? notBefore = null, TimeSpan? lifetime = null) =>
        ApplicationCertificates.CreateSelfSigned("CN=" + name, uri, ["localhost", "127.0.0.1"], notBefore ?? Start, lifetime ?? TimeSpan.FromDays(3650), keySize);
}
