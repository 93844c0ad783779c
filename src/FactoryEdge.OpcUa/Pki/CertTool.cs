using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FactoryEdge.OpcUa.Pki;

/// <summary>
/// The <c>factoryedge cert</c> verbs on the PKI directory: <c>list</c>, <c>show</c>, <c>trust</c>,
/// <c>reject</c>, <c>renew</c>, <c>csr</c> and <c>import</c>. Exit codes: 0 done, 2 usage, 3 not
/// found / unreadable file, 4 refused (e.g. a signed certificate for another key).
/// </summary>
public sealed class CertTool
{
    public const string Usage =
        "usage: cert [--pki DIR] list\n" +
        "       cert [--pki DIR] show [THUMBPRINT|FILE]        (default: this gateway's certificate)\n" +
        "       cert [--pki DIR] trust THUMBPRINT|FILE          (a refused server certificate in rejected/, or a file: server or CA certificate)\n" +
        "       cert [--pki DIR] reject THUMBPRINT              (move a trusted certificate to rejected/)\n" +
        "       cert [--pki DIR] renew [--application-uri URI]  (new certificate; lists the servers that must trust it again)\n" +
        "       cert [--pki DIR] csr [--out FILE]               (certificate signing request for the plant's CA, PEM)\n" +
        "       cert [--pki DIR] import FILE                    (install the certificate the CA signed for our key)\n" +
        "  DIR: the PKI directory (default FACTORYEDGE_PKI, else " + "factoryedge/pki under the local application data); THUMBPRINT: SHA-1, or its first 8+ hex digits";

    public const int ExitOk = 0;
    public const int ExitUsage = 2;
    public const int ExitNotFound = 3;
    public const int ExitRefused = 4;

    private readonly TimeProvider _time;

    public CertTool(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Servers that must trust our certificate (names and endpoints from the configuration), listed by <c>renew</c>.</summary>
    public IReadOnlyList<string> ConfiguredServers { get; init; } = [];

    /// <summary>The PKI directory when <c>--pki</c> is not given.</summary>
    public string? DefaultPkiDirectory { get; init; }

    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? pki = null;
        string? outFile = null;
        string? applicationUri = null;
        var words = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--pki" when i + 1 < args.Count:
                    pki = args[++i];
                    break;
                case "--out" when i + 1 < args.Count:
                    outFile = args[++i];
                    break;
                case "--application-uri" when i + 1 < args.Count:
                    applicationUri = args[++i];
                    break;
                case "-h" or "--help":
                    await output.WriteLineAsync(Usage).ConfigureAwait(false);
                    return ExitOk;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        return await UsageErrorAsync(error, $"unknown or incomplete option '{args[i]}'").ConfigureAwait(false);
                    }

                    words.Add(args[i]);
                    break;
            }
        }

        if (words.Count == 0)
        {
            return await UsageErrorAsync(error, "missing verb").ConfigureAwait(false);
        }

        var store = new PkiStore(pki ?? DefaultPkiDirectory ?? PkiStore.DefaultRoot);
        cancellationToken.ThrowIfCancellationRequested();
        var verb = words[0];
        var argument = words.Count > 1 ? words[1] : null;
        return verb switch
        {
            "list" => await ListAsync(store, output).ConfigureAwait(false),
            "show" => await ShowAsync(store, argument, output, error).ConfigureAwait(false),
            "trust" when argument is not null => await TrustAsync(store, argument, output, error).ConfigureAwait(false),
            "reject" when argument is not null => await RejectAsync(store, argument, output, error).ConfigureAwait(false),
            "renew" => await RenewAsync(store, applicationUri, output).ConfigureAwait(false),
            "csr" => await CsrAsync(store, outFile, output, error, cancellationToken).ConfigureAwait(false),
            "import" when argument is not null => await ImportAsync(store, argument, output, error).ConfigureAwait(false),
            _ => await UsageErrorAsync(error, argument is null && verb is "trust" or "reject" or "import" ? $"'{verb}' needs an argument" : $"unknown verb '{verb}'").ConfigureAwait(false),
        };
    }

    private static async Task<int> UsageErrorAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync("error: " + message).ConfigureAwait(false);
        await error.WriteLineAsync(Usage).ConfigureAwait(false);
        return ExitUsage;
    }

    private async Task<int> ListAsync(PkiStore store, TextWriter output)
    {
        await output.WriteLineAsync("PKI directory: " + store.Root).ConfigureAwait(false);
        var own = LoadOwnPublic(store);
        await output.WriteLineAsync("own:").ConfigureAwait(false);
        if (own is null)
        {
            await output.WriteLineAsync("  (none yet: made at the first secure connection, or with 'cert renew')").ConfigureAwait(false);
        }
        else
        {
            using (own)
            {
                await output.WriteLineAsync("  " + Line(own)).ConfigureAwait(false);
            }
        }

        foreach (var (title, entries) in new[] { ("trusted", store.Trusted()), ("issuers", store.Issuers()), ("rejected", store.Rejected()) })
        {
            await output.WriteLineAsync($"{title}: {entries.Count}").ConfigureAwait(false);
            foreach (var entry in entries)
            {
                await output.WriteLineAsync("  " + Line(entry.Certificate)).ConfigureAwait(false);
            }
        }

        return ExitOk;
    }

    private string Line(X509Certificate2 certificate)
    {
        var days = (certificate.NotAfter.ToUniversalTime() - _time.GetUtcNow().UtcDateTime).TotalDays;
        var state = days < 0 ? "EXPIRED" : days <= ApplicationIdentity.ExpiryWarning.TotalDays ? string.Create(CultureInfo.InvariantCulture, $"expires in {days:0} days!") : string.Create(CultureInfo.InvariantCulture, $"valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}");
        var ca = certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(static b => b.CertificateAuthority) ? " (CA)" : "";
        return $"{certificate.Thumbprint}  {certificate.Subject}{ca}  {ApplicationCertificates.ApplicationUri(certificate) ?? ""}  {state}";
    }

    private async Task<int> ShowAsync(PkiStore store, string? which, TextWriter output, TextWriter error)
    {
        X509Certificate2? certificate;
        string? path;
        if (which is null)
        {
            certificate = LoadOwnPublic(store);
            path = store.OwnCertificatePath;
        }
        else
        {
            (certificate, path) = Resolve(store, which);
        }

        if (certificate is null)
        {
            await error.WriteLineAsync(which is null ? $"error: no application certificate in {store.Root} yet" : $"error: no certificate '{which}' in {store.Root} (or not unique)").ConfigureAwait(false);
            return ExitNotFound;
        }

        using (certificate)
        {
            var (dns, ips) = ApplicationCertificates.HostNames(certificate);
            using var key = certificate.GetRSAPublicKey();
            await output.WriteLineAsync($"file:            {path}").ConfigureAwait(false);
            await output.WriteLineAsync($"subject:         {certificate.Subject}").ConfigureAwait(false);
            await output.WriteLineAsync($"issuer:          {certificate.Issuer}").ConfigureAwait(false);
            await output.WriteLineAsync($"thumbprint:      {certificate.Thumbprint} (SHA-1)").ConfigureAwait(false);
            await output.WriteLineAsync($"SHA-256:         {Convert.ToHexString(SHA256.HashData(certificate.RawData))}").ConfigureAwait(false);
            await output.WriteLineAsync($"serial:          {certificate.SerialNumber}").ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"valid:           {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} .. {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC")).ConfigureAwait(false);
            await output.WriteLineAsync($"application URI: {ApplicationCertificates.ApplicationUri(certificate) ?? "(none)"}").ConfigureAwait(false);
            await output.WriteLineAsync($"host names:      {string.Join(", ", dns.Concat(ips.Select(static a => a.ToString())))}").ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"key:             RSA {key?.KeySize ?? 0} bits, signature {certificate.SignatureAlgorithm.FriendlyName}")).ConfigureAwait(false);
        }

        return ExitOk;
    }

    private static async Task<int> TrustAsync(PkiStore store, string which, TextWriter output, TextWriter error)
    {
        var (certificate, _) = Resolve(store, which);
        if (certificate is null)
        {
            await error.WriteLineAsync($"error: '{which}' is neither a certificate file nor the thumbprint of exactly one certificate in {store.RejectedCertificates}").ConfigureAwait(false);
            return ExitNotFound;
        }

        using (certificate)
        {
            var path = store.AddTrusted(certificate);
            await output.WriteLineAsync($"trusted: {certificate.Subject} ({certificate.Thumbprint})").ConfigureAwait(false);
            await output.WriteLineAsync($"  {path}").ConfigureAwait(false);
            await output.WriteLineAsync("  the gateway uses it at its next connection attempt (no restart needed)").ConfigureAwait(false);
        }

        return ExitOk;
    }

    private static async Task<int> RejectAsync(PkiStore store, string thumbprint, TextWriter output, TextWriter error)
    {
        var moved = store.MoveToRejected(thumbprint);
        if (moved == 0)
        {
            await error.WriteLineAsync($"error: no trusted certificate with thumbprint '{thumbprint}' in {store.TrustedCertificates}").ConfigureAwait(false);
            return ExitNotFound;
        }

        await output.WriteLineAsync($"moved {moved} certificate(s) to {store.RejectedCertificates}; connections using them are refused from the next attempt").ConfigureAwait(false);
        return ExitOk;
    }

    private async Task<int> RenewAsync(PkiStore store, string? applicationUri, TextWriter output)
    {
        string? uri = applicationUri;
        using (var old = LoadOwnPublic(store))
        {
            uri ??= old is null ? null : ApplicationCertificates.ApplicationUri(old);
            if (old is not null)
            {
                await output.WriteLineAsync($"old certificate: {old.Thumbprint}, valid until {old.NotAfter.ToUniversalTime():yyyy-MM-dd} (kept as {Path.GetFileName(store.OwnCertificatePath)}.old)").ConfigureAwait(false);
            }
        }

        using var certificate = ApplicationIdentity.CreateCertificate(uri ?? ApplicationIdentity.DefaultApplicationUri, _time);
        store.SaveOwn(certificate);
        await output.WriteLineAsync($"new certificate: {certificate.Thumbprint}, {certificate.Subject}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}").ConfigureAwait(false);
        await output.WriteLineAsync($"  {store.OwnCertificatePath}").ConfigureAwait(false);
        await output.WriteLineAsync("restart the gateway, and trust the new certificate on every server it connects to (copy the file above into the server's trusted list):").ConfigureAwait(false);
        var any = false;
        foreach (var server in ConfiguredServers)
        {
            await output.WriteLineAsync("  " + server).ConfigureAwait(false);
            any = true;
        }

        foreach (var entry in store.Trusted().Where(static e => !e.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(static b => b.CertificateAuthority)))
        {
            await output.WriteLineAsync($"  {ApplicationCertificates.ApplicationUri(entry.Certificate) ?? entry.Certificate.Subject} (trusted server certificate {entry.Thumbprint[..8]}…)").ConfigureAwait(false);
            any = true;
        }

        if (!any)
        {
            await output.WriteLineAsync("  (no servers configured or trusted yet)").ConfigureAwait(false);
        }

        return ExitOk;
    }

    private static async Task<int> CsrAsync(PkiStore store, string? outFile, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var own = store.LoadOwn();
        if (own is null)
        {
            await error.WriteLineAsync($"error: no application certificate in {store.Root} yet: run 'cert renew' first").ConfigureAwait(false);
            return ExitNotFound;
        }

        using var key = own.GetRSAPrivateKey()!;
        var (dns, ips) = ApplicationCertificates.HostNames(own);
        var request = ApplicationCertificates.CreateRequest(key, own.Subject, ApplicationCertificates.ApplicationUri(own) ?? ApplicationIdentity.DefaultApplicationUri, dns.Concat(ips.Select(static a => a.ToString())), selfSigned: false);
        var pem = request.CreateSigningRequestPem();
        if (outFile is null)
        {
            await output.WriteLineAsync(pem).ConfigureAwait(false);
        }
        else
        {
            await File.WriteAllTextAsync(outFile, pem + "\n", cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"certificate signing request for {own.Subject} written to {outFile}; have the plant's CA sign it, then 'cert import SIGNED.der' and put the CA certificate (and its CRL) into the servers' trust lists").ConfigureAwait(false);
        }

        return ExitOk;
    }

    private static async Task<int> ImportAsync(PkiStore store, string file, TextWriter output, TextWriter error)
    {
        var certificate = LoadFile(file);
        if (certificate is null)
        {
            await error.WriteLineAsync($"error: cannot read a certificate from '{file}'").ConfigureAwait(false);
            return ExitNotFound;
        }

        using (certificate)
        {
            if (!store.ImportSigned(certificate))
            {
                await error.WriteLineAsync($"error: {certificate.Subject} ({certificate.Thumbprint}) was not issued for this gateway's key: make a new request with 'cert csr'").ConfigureAwait(false);
                return ExitRefused;
            }

            await output.WriteLineAsync($"installed {certificate.Subject} ({certificate.Thumbprint}) issued by {certificate.Issuer}; restart the gateway").ConfigureAwait(false);
        }

        return ExitOk;
    }

    private static X509Certificate2? LoadOwnPublic(PkiStore store) =>
        File.Exists(store.OwnCertificatePath) ? LoadFile(store.OwnCertificatePath) : null;

    private static (X509Certificate2? Certificate, string? Path) Resolve(PkiStore store, string which)
    {
        if (File.Exists(which))
        {
            return (LoadFile(which), which);
        }

        var entry = store.Find(which);
        return entry is null ? (null, null) : (entry.Certificate, entry.Path);
    }

    private static X509Certificate2? LoadFile(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 0 && bytes[0] == (byte)'-')
            {
                return X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(bytes));
            }

            return X509CertificateLoader.LoadCertificate(bytes);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
