using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace FactoryEdge.Telemetry.Transport;

/// <summary>Shared HTTP plumbing of the writers: handler with TLS validation, gzip, Retry-After.</summary>
internal static class InfluxHttp
{
    /// <summary>A handler that validates the server certificate against the system store and, if given, the CA file.</summary>
    public static SocketsHttpHandler CreateHandler(InfluxOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromMilliseconds(Math.Min(options.TimeoutMs, 5000)),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        var callback = TlsValidation.CreateCallback(options);
        if (callback is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = callback };
        }

        return handler;
    }

    public static HttpClient CreateClient(InfluxOptions options) => new(CreateHandler(options), disposeHandler: true)
    {
        Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs),
    };

    /// <summary>Gzips <paramref name="data"/> (fastest level: the body is compressed once per request).</summary>
    public static byte[] Gzip(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream(Math.Max(1024, data.Length / 4));
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>Retry-After as delta seconds or an HTTP date (relative to <paramref name="now"/>).</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header is null)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>A short, single-line excerpt of a server's error body.</summary>
    public static string Excerpt(string? body, int max = 300)
    {
        if (string.IsNullOrEmpty(body))
        {
            return "";
        }

        var text = body.ReplaceLineEndings(" ").Trim();
        return text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");
    }
}

/// <summary>Server certificate validation: system trust, plus a configured CA file; or (commissioning only) none.</summary>
public static class TlsValidation
{
    /// <summary>Loads every certificate of a PEM (or DER) file.</summary>
    public static X509Certificate2Collection LoadCertificates(string path)
    {
        var collection = new X509Certificate2Collection();
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            collection.ImportFromPem(text);
        }
        else
        {
            collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        }

        if (collection.Count == 0)
        {
            throw new InvalidDataException($"No certificate in {path}.");
        }

        return collection;
    }

    /// <summary>The validation callback for <paramref name="options"/>; null means the platform default (system trust store).</summary>
    public static RemoteCertificateValidationCallback? CreateCallback(InfluxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.AllowInvalidCertificates)
        {
            return static (_, _, _, _) => true;
        }

        if (string.IsNullOrWhiteSpace(options.CaFile))
        {
            return null;
        }

        var trusted = LoadCertificates(options.CaFile);
        return (_, certificate, _, errors) => Validate(certificate, errors, trusted);
    }

    /// <summary>
    /// Accepts a certificate the system trusts, or one whose chain ends at a certificate of
    /// <paramref name="trusted"/>; the host name must match in either case.
    /// </summary>
    public static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            // Name mismatch or no certificate: never accepted.
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
