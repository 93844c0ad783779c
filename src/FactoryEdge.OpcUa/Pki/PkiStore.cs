using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FactoryEdge.OpcUa.Pki;

/// <summary>A certificate file of the PKI directory.</summary>
public sealed record PkiEntry(string Path, X509Certificate2 Certificate)
{
    public string Thumbprint => Certificate.Thumbprint;
}

/// <summary>
/// The PKI directory (the OPC UA layout): <c>own/certs</c> (our certificate, DER) and
/// <c>own/private</c> (its key, PKCS#8 PEM, readable by the owner only); <c>trusted/certs</c> and
/// <c>trusted/crl</c> (peers and CAs we trust, their CRLs); <c>issuers/certs</c> and
/// <c>issuers/crl</c> (CAs needed to build chains, not trusted themselves); <c>rejected/certs</c>
/// (certificates we refused, for the operator to trust with <c>factoryedge cert trust</c>).
/// </summary>
public sealed class PkiStore
{
    /// <summary>File name stem of our certificate and key.</summary>
    public const string OwnName = "factoryedge";

    public PkiStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = System.IO.Path.GetFullPath(root);
    }

    /// <summary>The default directory: FACTORYEDGE_PKI, else factoryedge/pki under the user's local application data.</summary>
    public static string DefaultRoot =>
        Environment.GetEnvironmentVariable("FACTORYEDGE_PKI") is { Length: > 0 } env
            ? env
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "factoryedge", "pki");

    public string Root { get; }

    public string OwnCertificatePath => System.IO.Path.Combine(Root, "own", "certs", OwnName + ".der");

    public string OwnKeyPath => System.IO.Path.Combine(Root, "own", "private", OwnName + ".key.pem");

    public string TrustedCertificates => System.IO.Path.Combine(Root, "trusted", "certs");

    public string TrustedCrls => System.IO.Path.Combine(Root, "trusted", "crl");

    public string IssuerCertificates => System.IO.Path.Combine(Root, "issuers", "certs");

    public string IssuerCrls => System.IO.Path.Combine(Root, "issuers", "crl");

    public string RejectedCertificates => System.IO.Path.Combine(Root, "rejected", "certs");

    /// <summary>Creates the folders (the private one readable by the owner only).</summary>
    public void EnsureCreated()
    {
        foreach (var dir in new[] { System.IO.Path.GetDirectoryName(OwnCertificatePath)!, TrustedCertificates, TrustedCrls, IssuerCertificates, IssuerCrls, RejectedCertificates })
        {
            Directory.CreateDirectory(dir);
        }

        var privateDir = System.IO.Path.GetDirectoryName(OwnKeyPath)!;
        Directory.CreateDirectory(privateDir);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(privateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Our certificate with its private key, or null when there is none yet.</summary>
    public X509Certificate2? LoadOwn()
    {
        if (!File.Exists(OwnCertificatePath) || !File.Exists(OwnKeyPath))
        {
            return null;
        }

        using var certificate = X509CertificateLoader.LoadCertificateFromFile(OwnCertificatePath);
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(OwnKeyPath));
        using var withKey = certificate.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>Writes our certificate and key (replacing the previous pair, which is kept as <c>.old</c>).</summary>
    public void SaveOwn(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetRSAPrivateKey() ?? throw new ArgumentException("The certificate has no private key.", nameof(certificate));
        EnsureCreated();
        foreach (var path in new[] { OwnCertificatePath, OwnKeyPath })
        {
            if (File.Exists(path))
            {
                File.Move(path, path + ".old", overwrite: true);
            }
        }

        File.WriteAllBytes(OwnCertificatePath, certificate.RawData);
        WritePrivate(OwnKeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Replaces our certificate by one signed for our current key (after a CSR); false when the keys differ.</summary>
    public bool ImportSigned(X509Certificate2 signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        using var own = LoadOwn() ?? throw new InvalidOperationException("There is no application certificate to replace.");
        using var ownKey = own.GetRSAPublicKey();
        using var newKey = signed.GetRSAPublicKey();
        if (ownKey is null || newKey is null || !ownKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(newKey.ExportSubjectPublicKeyInfo()))
        {
            return false;
        }

        File.Move(OwnCertificatePath, OwnCertificatePath + ".old", overwrite: true);
        File.WriteAllBytes(OwnCertificatePath, signed.RawData);
        return true;
    }

    public IReadOnlyList<PkiEntry> Trusted() => Load(TrustedCertificates);

    public IReadOnlyList<PkiEntry> Issuers() => Load(IssuerCertificates);

    public IReadOnlyList<PkiEntry> Rejected() => Load(RejectedCertificates);

    /// <summary>CRL files (DER or PEM) of the trusted and issuer lists.</summary>
    public IEnumerable<byte[]> Crls()
    {
        foreach (var dir in new[] { TrustedCrls, IssuerCrls })
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var bytes = File.ReadAllBytes(file);
                if (bytes.Length > 0 && bytes[0] == (byte)'-')
                {
                    var pem = PemEncoding.Find(File.ReadAllText(file));
                    bytes = Convert.FromBase64String(File.ReadAllText(file)[pem.Base64Data]);
                }

                yield return bytes;
            }
        }
    }

    /// <summary>Copies a refused certificate to <c>rejected/certs</c>; returns its path.</summary>
    public string AddRejected(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        EnsureCreated();
        var path = System.IO.Path.Combine(RejectedCertificates, FileName(certificate));
        File.WriteAllBytes(path, certificate.RawData);
        return path;
    }

    /// <summary>Adds a certificate to the trust list (and removes it from rejected); returns its path.</summary>
    public string AddTrusted(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        EnsureCreated();
        var path = System.IO.Path.Combine(TrustedCertificates, FileName(certificate));
        File.WriteAllBytes(path, certificate.RawData);
        foreach (var rejected in Rejected().Where(e => e.Thumbprint == certificate.Thumbprint))
        {
            File.Delete(rejected.Path);
        }

        return path;
    }

    /// <summary>Moves trusted certificates with this thumbprint (prefix) to rejected; returns how many.</summary>
    public int MoveToRejected(string thumbprint)
    {
        var count = 0;
        foreach (var entry in Trusted().Where(e => e.Thumbprint.StartsWith(thumbprint, StringComparison.OrdinalIgnoreCase)))
        {
            AddRejected(entry.Certificate);
            File.Delete(entry.Path);
            count++;
        }

        return count;
    }

    /// <summary>Finds a certificate by thumbprint (or unique prefix of at least 8 hex digits) in rejected/, trusted/ and issuers/.</summary>
    public PkiEntry? Find(string thumbprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(thumbprint);
        var matches = Rejected().Concat(Trusted()).Concat(Issuers())
            .Where(e => thumbprint.Length >= 8 && e.Thumbprint.StartsWith(thumbprint, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(e => e.Thumbprint)
            .ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>File name of a certificate in the lists: <c>CN [THUMBPRINT].der</c>.</summary>
    public static string FileName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var name = certificate.GetNameInfo(X509NameType.SimpleName, false);
        var safe = new string([.. (string.IsNullOrEmpty(name) ? "certificate" : name).Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        return string.Create(CultureInfo.InvariantCulture, $"{safe} [{certificate.Thumbprint}].der");
    }

    private static List<PkiEntry> Load(string dir)
    {
        var list = new List<PkiEntry>();
        if (!Directory.Exists(dir))
        {
            return list;
        }

        foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            try
            {
                list.Add(new PkiEntry(file, X509CertificateLoader.LoadCertificateFromFile(file)));
            }
            catch (CryptographicException)
            {
                // Not a certificate (README, editor backup): ignored.
            }
        }

        return list;
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
