using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Pki;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.OpcUa.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa.Client;

/// <summary>What security a client asks for on one server.</summary>
public sealed record ClientSecurityOptions
{
    /// <summary>A policy name or URI, <c>None</c>, or null/empty/<c>Auto</c> for the strongest the server offers.</summary>
    public string? SecurityPolicy { get; init; }

    /// <summary>Sign or SignAndEncrypt; null for the strongest offered with the policy.</summary>
    public MessageSecurityMode? SecurityMode { get; init; }

    /// <summary>SecurityPolicy None may be used (only when asked for, or when this is set and the server offers nothing else).</summary>
    public bool AllowNone { get; init; }

    /// <summary>Commissioning only: connect even when the server's certificate is not trusted (it still must be in date and match the server).</summary>
    public bool AcceptUntrustedCertificates { get; init; }

    /// <summary>Our certificate and PKI; needed for every policy but None.</summary>
    public ApplicationIdentity? Application { get; init; }

    /// <summary>True when the options ask for None.</summary>
    public bool WantsNone => string.Equals(SecurityPolicy, "None", StringComparison.OrdinalIgnoreCase) || SecurityPolicy == SecurityPolicyUris.None;
}

/// <summary>A server's certificate was refused; the message says why and how to trust it.</summary>
public sealed class CertificateRejectedException : Exception
{
    public CertificateRejectedException(CertificateValidation validation, X509Certificate2 certificate, string? rejectedPath, string message)
        : base(message)
    {
        Validation = validation;
        Thumbprint = certificate?.Thumbprint ?? "";
        Subject = certificate?.Subject ?? "";
        RejectedPath = rejectedPath;
    }

    public CertificateRejectedException()
        : this(CertificateValidation.Good, null!, null, "Certificate rejected.")
    {
    }

    public CertificateRejectedException(string message)
        : this(CertificateValidation.Good, null!, null, message)
    {
    }

    public CertificateRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Validation = CertificateValidation.Good;
        Thumbprint = "";
        Subject = "";
    }

    public CertificateValidation Validation { get; }

    public string Thumbprint { get; }

    public string Subject { get; }

    /// <summary>Where the certificate was copied (rejected/), or null.</summary>
    public string? RejectedPath { get; }

    /// <summary>The command that trusts this certificate, when trust is what it lacks; else null.</summary>
    public string? TrustCommand => Validation.IsUntrusted ? "factoryedge cert trust " + Thumbprint : null;

    /// <summary>Status code of the refusal.</summary>
    public uint StatusCode => Validation.StatusCode;
}

/// <summary>The endpoint chosen on a server and how to secure channels to it.</summary>
public sealed record EndpointChoice(EndpointDescription Endpoint, SecurityPolicy? Policy, X509Certificate2? ServerCertificate, string Reason)
{
    public bool IsNone => Policy is null;

    /// <summary>A fresh security layer for one channel to this endpoint.</summary>
    public IChannelSecurity CreateSecurity(ApplicationIdentity? application)
    {
        if (Policy is null)
        {
            return new NoneChannelSecurity();
        }

        ArgumentNullException.ThrowIfNull(application);
        return new PolicyChannelSecurity(Policy, Endpoint.SecurityMode, ChannelRole.Client, application.Certificate, ServerCertificate);
    }

    public override string ToString() => IsNone ? "SecurityPolicy None" : $"{Policy!.Name} {Endpoint.SecurityMode}";
}

/// <summary>
/// Secure by default: asks a server for its endpoints (over a None channel, which servers keep for
/// discovery), chooses the strongest one we support (or the one configured), and validates the
/// server's certificate against our PKI. An untrusted certificate is copied to <c>rejected/</c> and
/// refused with the <c>factoryedge cert trust</c> command in the message.
/// </summary>
public static partial class SecureEndpoints
{
    // What was last reported per endpoint: a gateway retrying every few seconds logs a refusal once, not each time.
    private static readonly ConcurrentDictionary<string, string> LastReported = new(StringComparer.Ordinal);

    private static bool FirstReport(string endpointUrl, string message)
    {
        if (LastReported.TryGetValue(endpointUrl, out var last) && string.Equals(last, message, StringComparison.Ordinal))
        {
            return false;
        }

        LastReported[endpointUrl] = message;
        return true;
    }

    /// <summary>GetEndpoints over a None channel.</summary>
    public static async Task<EndpointDescription[]> DiscoverAsync(string endpointUrl, SecureChannelOptions? options, ILogger? logger, TimeProvider? time, CancellationToken cancellationToken)
    {
        options ??= new SecureChannelOptions();
        var channel = await UaSecureChannel.OpenAsync(endpointUrl, new NoneChannelSecurity(), options, logger, time, cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            var endpoints = await UaClientSession.GetEndpointsAsync(channel, endpointUrl, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
            return endpoints;
        }
    }

    /// <summary>
    /// Picks the endpoint: the configured policy and mode, else the strongest secure one (policy
    /// strength, then SignAndEncrypt over Sign, then the server's security level); None only when
    /// asked for. Throws BadSecurityPolicyRejected listing what the server offers when nothing fits.
    /// </summary>
    public static EndpointChoice Choose(IReadOnlyList<EndpointDescription> endpoints, ClientSecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        var tcp = endpoints.Where(e => e.TransportProfileUri is null or "" || e.TransportProfileUri == TransportProfileUris.UaTcp).ToList();
        if (options.WantsNone)
        {
            var none = tcp.Find(e => e.SecurityMode == MessageSecurityMode.None && e.SecurityPolicyUri == SecurityPolicyUris.None)
                ?? throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, "The server offers no SecurityPolicy None endpoint; it offers " + Offered(tcp) + ".");
            return new EndpointChoice(none, null, null, "SecurityPolicy None, as configured");
        }

        var wanted = string.IsNullOrEmpty(options.SecurityPolicy) || string.Equals(options.SecurityPolicy, "Auto", StringComparison.OrdinalIgnoreCase)
            ? null
            : Security.SecurityPolicy.Find(options.SecurityPolicy)
                ?? throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{options.SecurityPolicy}' is not supported; use one of {string.Join(", ", Security.SecurityPolicy.All.Select(p => p.Name))} or None.");
        var candidates = tcp
            .Select(e => (Endpoint: e, Policy: Security.SecurityPolicy.Find(e.SecurityPolicyUri)))
            .Where(c => c.Policy is not null && c.Endpoint.SecurityMode is MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt)
            .Where(c => wanted is null || c.Policy == wanted)
            .Where(c => options.SecurityMode is null || c.Endpoint.SecurityMode == options.SecurityMode)
            .OrderByDescending(c => c.Policy!.Strength)
            .ThenByDescending(c => c.Endpoint.SecurityMode == MessageSecurityMode.SignAndEncrypt)
            .ThenByDescending(c => c.Endpoint.SecurityLevel)
            .ToList();
        if (candidates.Count == 0)
        {
            var asked = wanted is null && options.SecurityMode is null ? "secure endpoint with a policy we support" : $"{wanted?.Name ?? "policy"} {options.SecurityMode?.ToString() ?? "(any mode)"} endpoint";
            var none = tcp.Find(e => e.SecurityMode == MessageSecurityMode.None);
            if (none is not null && options.AllowNone && wanted is null && options.SecurityMode is null)
            {
                return new EndpointChoice(none, null, null, "the server offers only SecurityPolicy None (allowed for this server)");
            }

            var hint = none is not null && !options.AllowNone ? " (SecurityPolicy None needs AllowSecurityPolicyNone for this server)" : "";
            throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected, $"The server offers no {asked}; it offers {Offered(tcp)}{hint}.");
        }

        var (endpoint, policy) = candidates[0];
        if (endpoint.ServerCertificate is not { Length: > 0 } blob)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"The server's {policy!.Name} endpoint carries no certificate.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(CertificateBlob.FirstCertificate(blob));
        }
        catch (CryptographicException ex)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "The server's certificate cannot be parsed: " + ex.Message, ex);
        }

        var why = wanted is null && options.SecurityMode is null ? "the strongest the server offers" : "as configured";
        return new EndpointChoice(endpoint, policy, certificate, why);
    }

    /// <summary>Policies and modes on offer, e.g. "Basic256Sha256 Sign, Basic256Sha256 SignAndEncrypt".</summary>
    public static string Offered(IEnumerable<EndpointDescription> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var list = endpoints.Select(e => $"{Security.SecurityPolicy.ShortName(e.SecurityPolicyUri)} {e.SecurityMode}").Distinct().ToList();
        return list.Count == 0 ? "no endpoints" : string.Join(", ", list);
    }

    /// <summary>
    /// Validates the chosen endpoint's certificate (trust, validity, application URI, host name).
    /// A refused certificate is copied to <c>rejected/</c>, logged with the trust command, and thrown
    /// as <see cref="CertificateRejectedException"/>. With <see cref="ClientSecurityOptions.AcceptUntrustedCertificates"/>
    /// an untrusted (but otherwise valid) certificate is accepted with a warning.
    /// </summary>
    public static void CheckServerCertificate(EndpointChoice choice, string endpointUrl, ClientSecurityOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(choice);
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        if (choice.ServerCertificate is not { } certificate)
        {
            return;
        }

        var application = options.Application ?? throw new InvalidOperationException("A secure endpoint needs the application's certificate (ClientSecurityOptions.Application).");
        var chain = choice.Endpoint.ServerCertificate is { } blob ? CertificateBlob.Split(blob).Skip(1).Select(X509CertificateLoader.LoadCertificate).ToList() : [];
        var (host, _) = EndpointUrls.Parse(endpointUrl);
        var applicationUri = choice.Endpoint.Server?.ApplicationUri;
        var result = application.Validator.Validate(certificate, chain, applicationUri, host);
        if (result.IsGood)
        {
            LastReported.TryRemove(endpointUrl, out _);
            Log.Trusted(logger, endpointUrl, certificate.Subject, certificate.Thumbprint);
            return;
        }

        if (result.IsUntrusted && options.AcceptUntrustedCertificates)
        {
            var rest = application.Validator.ValidateIgnoringTrust(certificate, applicationUri, host);
            if (rest.IsGood)
            {
                if (FirstReport(endpointUrl, "accepted " + certificate.Thumbprint))
                {
                    Log.AcceptedUntrusted(logger, endpointUrl, certificate.Subject, certificate.Thumbprint);
                }

                return;
            }

            result = rest;
        }

        PkiMetrics.Rejections.Add(1);
        var path = application.Store.AddRejected(certificate);
        var message = result.IsUntrusted
            ? string.Create(CultureInfo.InvariantCulture, $"The server's certificate is not trusted: {result.Reason}. Copied to {path}. If it is the right server (compare the thumbprint {certificate.Thumbprint} with the one the server shows), trust it: factoryedge cert trust {certificate.Thumbprint}")
            : string.Create(CultureInfo.InvariantCulture, $"The server's certificate was refused ({StatusCodes.Name(result.StatusCode)}): {result.Reason}. Thumbprint {certificate.Thumbprint}; copied to {path}.");
        if (FirstReport(endpointUrl, message))
        {
            Log.Refused(logger, endpointUrl, message);
        }

        throw new CertificateRejectedException(result, certificate, path, message);
    }

    /// <summary>Discover, choose, validate: what a client does before opening its channel.</summary>
    public static async Task<EndpointChoice> SelectAsync(string endpointUrl, ClientSecurityOptions options, SecureChannelOptions? channelOptions, ILogger? logger, TimeProvider? time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoints = await DiscoverAsync(endpointUrl, channelOptions, logger, time, cancellationToken).ConfigureAwait(false);
        var choice = Choose(endpoints, options);
        if (choice.IsNone && FirstReport(endpointUrl, "none"))
        {
            Log.UsingNone(logger ?? NullLogger.Instance, endpointUrl, choice.Reason);
        }

        CheckServerCertificate(choice, endpointUrl, options, logger);
        return choice;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4052, Level = LogLevel.Warning, Message = "OPC UA server {Endpoint}: using SecurityPolicy None ({Reason}): data and passwords travel unprotected")]
        public static partial void UsingNone(ILogger logger, string endpoint, string reason);

        [LoggerMessage(EventId = 4053, Level = LogLevel.Debug, Message = "OPC UA server {Endpoint}: certificate {Subject} ({Thumbprint}) trusted")]
        public static partial void Trusted(ILogger logger, string endpoint, string subject, string thumbprint);

        [LoggerMessage(EventId = 4054, Level = LogLevel.Warning, Message = "OPC UA server {Endpoint}: certificate {Subject} ({Thumbprint}) is NOT trusted but accepted (commissioning option): trust it with 'factoryedge cert trust {Thumbprint}' and turn the option off")]
        public static partial void AcceptedUntrusted(ILogger logger, string endpoint, string subject, string thumbprint);

        [LoggerMessage(EventId = 4055, Level = LogLevel.Error, Message = "OPC UA server {Endpoint}: {Message}")]
        public static partial void Refused(ILogger logger, string endpoint, string message);
    }
}
