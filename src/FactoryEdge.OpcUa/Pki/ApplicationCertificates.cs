using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FactoryEdge.OpcUa.Pki;

/// <summary>
/// Makes application instance certificates (OPC 10000-6 §6.2.2): RSA, SHA-256, subject alternative
/// names with the application URI and the host names / addresses, key usages for signing and key
/// encipherment, client and server authentication.
/// </summary>
public static class ApplicationCertificates
{
    /// <summary>Key usages OPC UA expects of a self-signed application certificate.</summary>
    public const X509KeyUsageFlags KeyUsages = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation
        | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign;

    /// <summary>A certificate request for <paramref name="key"/> with the application's subject and extensions.</summary>
    public static CertificateRequest CreateRequest(RSA key, string subject, string applicationUri, IEnumerable<string> hostNames, bool selfSigned = true)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        ArgumentNullException.ThrowIfNull(hostNames);
        var request = new CertificateRequest(new X500DistinguishedName(subject), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(applicationUri));
        foreach (var host in hostNames.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(selfSigned ? KeyUsages : KeyUsages & ~X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    /// <summary>A new self-signed certificate with a fresh RSA key (2048 bits by default), valid from <paramref name="notBefore"/>.</summary>
    public static X509Certificate2 CreateSelfSigned(string subject, string applicationUri, IEnumerable<string> hostNames, DateTimeOffset notBefore, TimeSpan lifetime, int keySize = 2048)
    {
        using var key = RSA.Create(keySize);
        var request = CreateRequest(key, subject, applicationUri, hostNames);
        using var certificate = request.CreateSelfSigned(notBefore, notBefore + lifetime);

        // Round-trip through PKCS#12 so the key is usable on every platform and the object owns it.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>The application URI in a certificate's subject alternative name, or null.</summary>
    public static string? ApplicationUri(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension)
            {
                foreach (var uri in UrisOf(extension.RawData))
                {
                    return uri;
                }
            }
        }

        return null;
    }

    /// <summary>DNS names and IP addresses in a certificate's subject alternative name.</summary>
    public static (List<string> DnsNames, List<IPAddress> Addresses) HostNames(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                dns.AddRange(san.EnumerateDnsNames());
                ips.AddRange(san.EnumerateIPAddresses());
            }
        }

        return (dns, ips);
    }

    /// <summary>This host's names and addresses for a new certificate: host name, FQDN, localhost and the non-loopback addresses.</summary>
    public static List<string> LocalHostNames()
    {
        var names = new List<string> { Dns.GetHostName() };
        try
        {
            var entry = Dns.GetHostEntry(names[0]);
            if (!string.IsNullOrEmpty(entry.HostName))
            {
                names.Add(entry.HostName);
            }

            names.AddRange(entry.AddressList.Where(a => !IPAddress.IsLoopback(a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Select(a => a.ToString()));
        }
        catch (System.Net.Sockets.SocketException)
        {
            // No resolver: the host name alone.
        }

        names.Add("localhost");
        return [.. names.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    private static IEnumerable<string> UrisOf(byte[] rawData)
    {
        // GeneralNames ::= SEQUENCE OF GeneralName; uniformResourceIdentifier is [6] IA5String.
        var reader = new System.Formats.Asn1.AsnReader(rawData, System.Formats.Asn1.AsnEncodingRules.DER);
        var names = reader.ReadSequence();
        var uris = new List<string>();
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag == uriTag)
            {
                uris.Add(names.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag));
            }
            else
            {
                names.ReadEncodedValue();
            }
        }

        return uris;
    }
}
