using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.Pki;

/// <summary>
/// The gateway as an OPC UA application: its instance certificate (made at first run in the PKI
/// directory), its application URI, and the validator for servers' certificates. Warns (and counts
/// in the <see cref="PkiMetrics"/> meter) when our certificate expires within <see cref="ExpiryWarning"/>.
/// </summary>
public sealed partial class ApplicationIdentity : IDisposable
{
    /// <summary>How long before expiry our certificate raises a warning.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    /// <summary>Lifetime of a certificate we make.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(2 * 365);

    private ApplicationIdentity(PkiStore store, X509Certificate2 certificate, CertificateValidator validator, bool created)
    {
        Store = store;
        Certificate = certificate;
        Validator = validator;
        Created = created;
        ApplicationUri = ApplicationCertificates.ApplicationUri(certificate) ?? DefaultApplicationUri;
    }

    /// <summary><c>urn:HOST:factoryedge</c>.</summary>
    public static string DefaultApplicationUri => "urn:" + Dns.GetHostName() + ":factoryedge";

    public PkiStore Store { get; }

    /// <summary>Our certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public string ApplicationUri { get; }

    public CertificateValidator Validator { get; }

    /// <summary>True when this call made the certificate (first run).</summary>
    public bool Created { get; }

    /// <summary>
    /// Loads our certificate from <paramref name="store"/>, or makes one (RSA 2048, SHA-256, SANs with
    /// <paramref name="applicationUri"/> and this host's names) when there is none.
    /// </summary>
    public static ApplicationIdentity LoadOrCreate(PkiStore store, string? applicationUri = null, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        logger ??= NullLogger.Instance;
        time ??= TimeProvider.System;
        store.EnsureCreated();
        var certificate = store.LoadOwn();
        var created = false;
        if (certificate is null)
        {
            certificate = CreateCertificate(applicationUri ?? DefaultApplicationUri, time);
            store.SaveOwn(certificate);
            created = true;
            Log.Created(logger, certificate.Subject, certificate.Thumbprint, store.OwnCertificatePath);
        }

        var identity = new ApplicationIdentity(store, certificate, new CertificateValidator(store, time), created);
        identity.CheckExpiry(logger, time);
        return identity;
    }

    /// <summary>A new self-signed application certificate, valid from one hour ago (for peers whose clock is a little behind).</summary>
    public static X509Certificate2 CreateCertificate(string applicationUri, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var host = Dns.GetHostName();
        return ApplicationCertificates.CreateSelfSigned("CN=FactoryEdge@" + host + ", O=FactoryEdge", applicationUri, ApplicationCertificates.LocalHostNames(), time.GetUtcNow().AddHours(-1), Lifetime);
    }

    /// <summary>Days until our certificate expires (negative once expired).</summary>
    public double DaysLeft(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return (Certificate.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime).TotalDays;
    }

    /// <summary>Logs a warning and counts it when our certificate expires within 30 days; true then.</summary>
    public bool CheckExpiry(ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var days = DaysLeft(time);
        PkiMetrics.Observe(days);
        if (days > ExpiryWarning.TotalDays)
        {
            return false;
        }

        PkiMetrics.ExpiryWarnings.Add(1);
        Log.Expiring(logger, Certificate.Thumbprint, Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Math.Max(0, days));
        return true;
    }

    public void Dispose() => Certificate.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4050, Level = LogLevel.Information, Message = "OPC UA application certificate created: {Subject}, thumbprint {Thumbprint}, {Path} (servers must trust it: give them this file)")]
        public static partial void Created(ILogger logger, string subject, string thumbprint, string path);

        [LoggerMessage(EventId = 4051, Level = LogLevel.Warning, Message = "OPC UA application certificate {Thumbprint} expires {NotAfter} UTC (in {Days:0} days): run 'factoryedge cert renew' and trust the new certificate on every server, or secure connections stop then")]
        public static partial void Expiring(ILogger logger, string thumbprint, string notAfter, double days);
    }
}

/// <summary>Metrics of the PKI (meter <c>FactoryEdge.OpcUa.Pki</c>).</summary>
public static class PkiMetrics
{
    public const string MeterName = "FactoryEdge.OpcUa.Pki";

    private static readonly Meter Meter = new(MeterName);
    private static double _daysLeft = double.NaN;

    /// <summary>Warnings that our certificate expires within 30 days.</summary>
    public static Counter<long> ExpiryWarnings { get; } = Meter.CreateCounter<long>("factoryedge.opcua.certificate.expiry_warnings", description: "Warnings that the gateway's OPC UA certificate expires within 30 days");

    /// <summary>Server certificates refused (untrusted, expired, wrong name ...).</summary>
    public static Counter<long> Rejections { get; } = Meter.CreateCounter<long>("factoryedge.opcua.certificate.rejections", description: "Server certificates refused");

    static PkiMetrics()
    {
        Meter.CreateObservableGauge("factoryedge.opcua.certificate.days_left", () => Volatile.Read(ref _daysLeft), unit: "d", description: "Days until the gateway's OPC UA certificate expires");
    }

    internal static void Observe(double days)
    {
        Volatile.Write(ref _daysLeft, days);
    }
}
