using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;

namespace FactoryEdge.OpcUa.Pki;

/// <summary>Outcome of validating a peer's certificate: Good, or the status and a reason for the operator.</summary>
public sealed record CertificateValidation(uint StatusCode, string Reason)
{
    public static CertificateValidation Good { get; } = new(StatusCodes.Good, "trusted");

    public bool IsGood => StatusCode == StatusCodes.Good;

    /// <summary>Refused only because nobody trusts it yet (what <c>--accept-server-certificate</c> and <c>cert trust</c> are for).</summary>
    public bool IsUntrusted => StatusCode is StatusCodes.BadCertificateUntrusted or StatusCodes.BadCertificateChainIncomplete;
}

/// <summary>
/// Validates a peer's application certificate against the PKI directory (OPC 10000-4 §6.1.3): the
/// validity period (with a hint when this host's clock looks wrong), trust (the certificate itself
/// in <c>trusted/</c>, or a chain through <c>issuers/</c> to a CA in <c>trusted/</c>, every CA with a
/// CRL that does not revoke), the application URI and the host name.
/// </summary>
public sealed class CertificateValidator
{
    private readonly PkiStore _store;
    private readonly TimeProvider _time;

    public CertificateValidator(PkiStore store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Validates <paramref name="certificate"/> (with any chain certificates the peer sent).
    /// <paramref name="applicationUri"/> and <paramref name="hostName"/> are checked when given.
    /// </summary>
    public CertificateValidation Validate(X509Certificate2 certificate, IReadOnlyList<X509Certificate2>? chain = null, string? applicationUri = null, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var now = _time.GetUtcNow();
        var time = CheckTime(certificate, now);
        if (time is not null)
        {
            return time;
        }

        var trust = CheckTrust(certificate, chain ?? [], now);
        if (!trust.IsGood)
        {
            return trust;
        }

        return CheckNames(certificate, applicationUri, hostName) ?? CertificateValidation.Good;
    }

    /// <summary>The checks that do not depend on trust (time, URI, host name): what still applies to a certificate accepted for commissioning.</summary>
    public CertificateValidation ValidateIgnoringTrust(X509Certificate2 certificate, string? applicationUri = null, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return CheckTime(certificate, _time.GetUtcNow()) ?? CheckNames(certificate, applicationUri, hostName) ?? CertificateValidation.Good;
    }

    private CertificateValidation? CheckTime(X509Certificate2 certificate, DateTimeOffset now)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var clock = string.Create(CultureInfo.InvariantCulture, $"this host's clock reads {now:yyyy-MM-dd HH:mm:ss} UTC");
        if (now < notBefore)
        {
            var hint = ClockLooksWrong(now)
                ? " — our own certificate is not valid yet either, so this host's clock is almost certainly wrong: set it (NTP) and retry"
                : " — if the certificate was just made, check the clocks of this host and of the server (NTP)";
            return new CertificateValidation(StatusCodes.BadCertificateTimeInvalid, string.Create(CultureInfo.InvariantCulture,
                $"certificate '{certificate.Subject}' is not valid before {notBefore:yyyy-MM-dd HH:mm:ss} UTC ({Describe(notBefore - now)} from now); {clock}{hint}"));
        }

        if (now > notAfter)
        {
            var hint = ClockLooksWrong(now)
                ? " — our own certificate has expired too, so this host's clock may be wrong: check it (NTP)"
                : " — the server needs a new certificate (or, if this host's clock is wrong, set it)";
            return new CertificateValidation(StatusCodes.BadCertificateTimeInvalid, string.Create(CultureInfo.InvariantCulture,
                $"certificate '{certificate.Subject}' expired at {notAfter:yyyy-MM-dd HH:mm:ss} UTC ({Describe(now - notAfter)} ago); {clock}{hint}"));
        }

        return null;
    }

    private bool ClockLooksWrong(DateTimeOffset now)
    {
        // Our own certificate was made on this host: if the clock is before its start, the clock is wrong.
        try
        {
            if (!File.Exists(_store.OwnCertificatePath))
            {
                return false;
            }

            using var own = X509CertificateLoader.LoadCertificateFromFile(_store.OwnCertificatePath);
            return now < new DateTimeOffset(own.NotBefore.ToUniversalTime(), TimeSpan.Zero) || now > new DateTimeOffset(own.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static string Describe(TimeSpan span) =>
        span.TotalDays >= 2 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0} days")
        : span.TotalHours >= 2 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0} hours")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, span.TotalMinutes):0} minutes");

    private CertificateValidation CheckTrust(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> sent, DateTimeOffset now)
    {
        var trusted = _store.Trusted();
        if (trusted.Any(e => e.Thumbprint == certificate.Thumbprint))
        {
            return CertificateValidation.Good;
        }

        var trustedCas = trusted.Where(e => IsCa(e.Certificate)).Select(e => e.Certificate).ToList();
        var untrusted = new CertificateValidation(StatusCodes.BadCertificateUntrusted, string.Create(CultureInfo.InvariantCulture,
            $"certificate '{certificate.Subject}' (thumbprint {certificate.Thumbprint}) is not trusted: neither it nor a CA that issued it is in {_store.TrustedCertificates}"));
        if (trustedCas.Count == 0 || certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return untrusted;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedCas.ToArray());
        chain.ChainPolicy.ExtraStore.AddRange(_store.Issuers().Select(e => e.Certificate).Where(IsCa).Concat(sent).ToArray());
        if (!chain.Build(certificate))
        {
            var status = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
            if ((status & X509ChainStatusFlags.PartialChain) != 0 || (status & X509ChainStatusFlags.UntrustedRoot) != 0)
            {
                return untrusted;
            }

            if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return new CertificateValidation(StatusCodes.BadCertificateIssuerTimeInvalid, $"a CA in the chain of '{certificate.Subject}' is outside its validity period");
            }

            return new CertificateValidation(StatusCodes.BadCertificateInvalid, $"the chain of '{certificate.Subject}' is invalid: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}");
        }

        // Each certificate must not be revoked by a CRL of its issuer; each CA needs a CRL.
        var crls = _store.Crls().Select(Crl.TryParse).OfType<Crl>().ToList();
        var elements = chain.ChainElements;
        for (var i = 0; i < elements.Count - 1; i++)
        {
            var subject = elements[i].Certificate;
            var issuer = elements[i + 1].Certificate;
            var issued = crls.Where(c => c.IssuedBy(issuer)).ToList();
            if (issued.Count == 0)
            {
                return new CertificateValidation(i == 0 ? StatusCodes.BadCertificateRevocationUnknown : StatusCodes.BadCertificateIssuerRevocationUnknown,
                    $"no CRL of CA '{issuer.Subject}' in {_store.TrustedCrls} or {_store.IssuerCrls}: cannot tell whether '{subject.Subject}' is revoked");
            }

            if (issued.Any(c => c.Revokes(subject)))
            {
                return new CertificateValidation(i == 0 ? StatusCodes.BadCertificateRevoked : StatusCodes.BadCertificateIssuerRevoked,
                    $"certificate '{subject.Subject}' (serial {subject.SerialNumber}) is revoked by CA '{issuer.Subject}'");
            }
        }

        return CertificateValidation.Good;
    }

    private static CertificateValidation? CheckNames(X509Certificate2 certificate, string? applicationUri, string? hostName)
    {
        if (!string.IsNullOrEmpty(applicationUri))
        {
            var uri = ApplicationCertificates.ApplicationUri(certificate);
            if (!string.Equals(uri, applicationUri, StringComparison.Ordinal))
            {
                return new CertificateValidation(StatusCodes.BadCertificateUriInvalid, $"certificate '{certificate.Subject}' names application URI '{uri ?? "(none)"}', but the server says it is '{applicationUri}'");
            }
        }

        if (!string.IsNullOrEmpty(hostName) && !MatchesHost(certificate, hostName))
        {
            var (dns, ips) = ApplicationCertificates.HostNames(certificate);
            return new CertificateValidation(StatusCodes.BadCertificateHostNameInvalid,
                $"certificate '{certificate.Subject}' is for {string.Join(", ", dns.Concat(ips.Select(a => a.ToString())).DefaultIfEmpty("no host"))}, not '{hostName}': connect with one of those names");
        }

        return null;
    }

    /// <summary>The host of the endpoint URL is in the certificate's names (a loopback address also matches this host's own name).</summary>
    public static bool MatchesHost(X509Certificate2 certificate, string hostName)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(hostName);
        var (dns, ips) = ApplicationCertificates.HostNames(certificate);
        if (IPAddress.TryParse(hostName, out var address))
        {
            if (ips.Any(a => a.Equals(address)))
            {
                return true;
            }
        }
        else if (dns.Any(d => string.Equals(d.TrimEnd('.'), hostName.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        // Loopback is this host: accept the names this host goes by.
        var loopback = address is not null ? IPAddress.IsLoopback(address) : string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase);
        if (!loopback)
        {
            return false;
        }

        var local = Dns.GetHostName();
        return dns.Any(d => string.Equals(d, "localhost", StringComparison.OrdinalIgnoreCase)
            || string.Equals(d, local, StringComparison.OrdinalIgnoreCase)
            || d.StartsWith(local + ".", StringComparison.OrdinalIgnoreCase))
            || ips.Any(IPAddress.IsLoopback);
    }

    private static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    /// <summary>An X.509 CRL (RFC 5280 §5): issuer, signature and revoked serial numbers.</summary>
    private sealed class Crl
    {
        private readonly byte[] _issuer;
        private readonly byte[] _tbs;
        private readonly byte[] _signature;
        private readonly string _signatureOid;
        private readonly HashSet<BigInteger> _revoked;

        private Crl(byte[] issuer, byte[] tbs, byte[] signature, string signatureOid, HashSet<BigInteger> revoked)
        {
            _issuer = issuer;
            _tbs = tbs;
            _signature = signature;
            _signatureOid = signatureOid;
            _revoked = revoked;
        }

        public static Crl? TryParse(byte[] der)
        {
            try
            {
                var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
                var tbsBytes = outer.PeekEncodedValue().ToArray();
                var tbs = outer.ReadSequence();
                var algorithm = outer.ReadSequence();
                var oid = algorithm.ReadObjectIdentifier();
                var signature = outer.ReadBitString(out _);
                if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
                {
                    tbs.ReadInteger();
                }

                tbs.ReadSequence();
                var issuer = tbs.ReadEncodedValue().ToArray();
                tbs.ReadEncodedValue(); // thisUpdate
                if (tbs.HasData && (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) || tbs.PeekTag().HasSameClassAndValue(Asn1Tag.GeneralizedTime)))
                {
                    tbs.ReadEncodedValue(); // nextUpdate
                }

                var revoked = new HashSet<BigInteger>();
                if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
                {
                    var list = tbs.ReadSequence();
                    while (list.HasData)
                    {
                        var entry = list.ReadSequence();
                        revoked.Add(entry.ReadInteger());
                    }
                }

                return new Crl(issuer, tbsBytes, signature, oid, revoked);
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        public bool IssuedBy(X509Certificate2 issuer)
        {
            if (!issuer.SubjectName.RawData.AsSpan().SequenceEqual(_issuer))
            {
                return false;
            }

            using var key = issuer.GetRSAPublicKey();
            var hash = _signatureOid switch
            {
                "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
                "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
                "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
                "1.2.840.113549.1.1.5" => HashAlgorithmName.SHA1,
                _ => default,
            };
            return key is not null && hash != default && key.VerifyData(_tbs, _signature, hash, RSASignaturePadding.Pkcs1);
        }

        public bool Revokes(X509Certificate2 certificate) =>
            _revoked.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true));
    }
}
