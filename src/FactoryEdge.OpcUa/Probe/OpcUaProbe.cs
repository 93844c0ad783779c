using System.Globalization;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.OpcUa;

/// <summary>What the probe does: which server, what to browse and read.</summary>
public sealed record OpcUaProbeRequest
{
    public required string EndpointUrl { get; init; }

    /// <summary>Browse this node (null: no browse). <c>--browse</c> alone browses the Objects folder.</summary>
    public string? Browse { get; init; }

    public IReadOnlyList<string> Reads { get; init; } = [];

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public string? UserName { get; init; }

    public string? PasswordFile { get; init; }

    /// <summary>Security policy name (or None), from <c>--security POLICY[:MODE]</c>; null: None when offered.</summary>
    public string? SecurityPolicy { get; init; }

    /// <summary>Sign or SignAndEncrypt (null: the strongest offered with the policy).</summary>
    public MessageSecurityMode? SecurityMode { get; init; }

    /// <summary>Commissioning: accept an untrusted server certificate (<c>--accept-server-certificate</c>).</summary>
    public bool AcceptServerCertificate { get; init; }

    /// <summary>PKI directory (<c>--pki DIR</c>); default <see cref="Pki.PkiStore.DefaultRoot"/>.</summary>
    public string? PkiDirectory { get; init; }

    /// <summary>
    /// Parses <c>opc.tcp://HOST:PORT [--browse [NODEID]] [--read NODEID[@RANGE]]... [--timeout MS]
    /// [--user NAME --password-file FILE]</c>. Throws <see cref="FormatException"/> saying what is wrong.
    /// </summary>
    public static OpcUaProbeRequest Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? url = null;
        string? browse = null;
        string? user = null;
        string? passwordFile = null;
        var reads = new List<string>();
        var timeoutMs = 5000;
        string? policy = null;
        MessageSecurityMode? mode = null;
        var accept = false;
        string? pki = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--browse":
                    browse = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) && !args[i + 1].StartsWith("opc.tcp:", StringComparison.OrdinalIgnoreCase)
                        ? CheckNodeId(args[++i], "--browse")
                        : "i=85";
                    break;
                case "--read":
                    reads.Add(CheckRead(Value(args, ref i, "--read")));
                    break;
                case "--timeout":
                    {
                        var text = Value(args, ref i, "--timeout");
                        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out timeoutMs) || timeoutMs is < 100 or > 600_000)
                        {
                            throw new FormatException($"--timeout '{text}' must be milliseconds, 100..600000.");
                        }

                        break;
                    }

                case "--user":
                    user = Value(args, ref i, "--user");
                    break;
                case "--password-file":
                    passwordFile = Value(args, ref i, "--password-file");
                    break;
                case "--security":
                    (policy, mode) = ParseSecurity(Value(args, ref i, "--security"));
                    break;
                case "--accept-server-certificate":
                    accept = true;
                    break;
                case "--pki":
                    pki = Value(args, ref i, "--pki");
                    break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal))
                    {
                        throw new FormatException($"Unknown option '{arg}'. {OpcUaProbe.Usage}");
                    }

                    if (url is not null)
                    {
                        throw new FormatException($"Unexpected argument '{arg}' (the endpoint is already {url}).");
                    }

                    url = arg;
                    break;
            }
        }

        if (url is null)
        {
            throw new FormatException("Missing the server's endpoint, opc.tcp://HOST:PORT.");
        }

        if (!EndpointUrls.TryParse(url, out _, out _, out var error))
        {
            throw new FormatException(error);
        }

        if ((user is null) != (passwordFile is null))
        {
            throw new FormatException("--user and --password-file go together.");
        }

        return new OpcUaProbeRequest
        {
            EndpointUrl = url, Browse = browse, Reads = reads, Timeout = TimeSpan.FromMilliseconds(timeoutMs), UserName = user, PasswordFile = passwordFile,
            SecurityPolicy = policy, SecurityMode = mode, AcceptServerCertificate = accept, PkiDirectory = pki,
        };
    }

    /// <summary>Parses <c>POLICY[:MODE]</c>: a policy we support (or None) and Sign / SignAndEncrypt.</summary>
    internal static (string Policy, MessageSecurityMode? Mode) ParseSecurity(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? text : text[..colon];
        var modeText = colon < 0 ? null : text[(colon + 1)..];
        var policies = "None, " + string.Join(", ", Security.SecurityPolicy.All.Select(p => p.Name));
        if (string.Equals(name, "None", StringComparison.OrdinalIgnoreCase))
        {
            if (modeText is not null && !string.Equals(modeText, "None", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"--security None takes no mode (got '{modeText}').");
            }

            return ("None", null);
        }

        var policy = Security.SecurityPolicy.Find(name) ?? throw new FormatException($"--security: unknown policy '{name}'; use one of {policies}.");
        MessageSecurityMode? mode = modeText switch
        {
            null => null,
            _ when string.Equals(modeText, "Sign", StringComparison.OrdinalIgnoreCase) => MessageSecurityMode.Sign,
            _ when string.Equals(modeText, "SignAndEncrypt", StringComparison.OrdinalIgnoreCase) => MessageSecurityMode.SignAndEncrypt,
            _ => throw new FormatException($"--security: mode '{modeText}' must be Sign or SignAndEncrypt."),
        };
        return (policy.Name, mode);
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count)
        {
            throw new FormatException($"{option} needs a value.");
        }

        return args[++i];
    }

    private static string CheckNodeId(string text, string option)
    {
        try
        {
            NodeIdText.Parse(text);
            return text;
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{option}: {ex.Message}", ex);
        }
    }

    private static string CheckRead(string text)
    {
        var (node, range) = SplitRange(text);
        CheckNodeId(node, "--read");
        if (range is not null && !NumericRange.TryParse(range, out _, out var error))
        {
            throw new FormatException($"--read {text}: index range '{range}' is invalid: {error}.");
        }

        return text;
    }

    /// <summary>Splits <c>NODEID@RANGE</c>.</summary>
    internal static (string Node, string? Range) SplitRange(string text)
    {
        var at = text.LastIndexOf('@');
        return at > 0 && at < text.Length - 1 && char.IsAsciiDigit(text[at + 1]) ? (text[..at], text[(at + 1)..]) : (text, null);
    }
}

/// <summary>
/// The <c>probe opc.tcp://...</c> commissioning verb: lists the server's endpoints, opens a session
/// (SecurityPolicy None), browses and reads. An array prints its type, length, min, max and RMS.
/// Exit codes: 0 success, 2 usage, 3 connection (refused, timeout, session rejected, no suitable
/// endpoint), 4 a node could not be read or browsed, 5 the server's certificate was refused.
/// </summary>
public sealed class OpcUaProbe
{
    public const string Usage = "usage: probe opc.tcp://HOST:PORT [--security POLICY:MODE [--accept-server-certificate] [--pki DIR]] [--browse [NODEID]] [--read NODEID[@RANGE]]... [--timeout MS] [--user NAME --password-file FILE]\n" +
        "  POLICY: Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss or None; MODE: Sign or SignAndEncrypt. Without --security: SecurityPolicy None when the server offers it\n" +
        "  NODEID: i=85, ns=2;s=Name or nsu=URI;s=Name (namespace by URI, resolved through the server's NamespaceArray); RANGE: an IndexRange such as 0:9";

    public const int ExitOk = 0;
    public const int ExitUsage = 2;
    public const int ExitConnection = 3;
    public const int ExitNode = 4;
    public const int ExitCertificate = 5;

    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;

    public OpcUaProbe(ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Writes the operator's explanation of a refused server certificate: the first line
    /// <c>{prefix}: server certificate refused (status)</c>, then its subject, thumbprint, reason, where
    /// the rejected copy is and how to trust it (with <c>--pki</c> when a PKI directory was given).
    /// </summary>
    /// <param name="error">Where to write (the command's error stream).</param>
    /// <param name="prefix">What the first line begins with, e.g. <c>error: opc.tcp://host:4840</c>.</param>
    /// <param name="refused">The refusal.</param>
    /// <param name="pkiDirectory">The <c>--pki</c> directory the command was given, or null for the default.</param>
    /// <returns>A task that completes when all is written.</returns>
    public static async Task WriteCertificateRefusedAsync(TextWriter error, string prefix, CertificateRejectedException refused, string? pkiDirectory)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(refused);
        await error.WriteLineAsync($"{prefix}: server certificate refused ({Encoding.StatusCodes.Name(refused.StatusCode)})").ConfigureAwait(false);
        await error.WriteLineAsync($"  subject:    {refused.Subject}").ConfigureAwait(false);
        await error.WriteLineAsync($"  thumbprint: {refused.Thumbprint}").ConfigureAwait(false);
        await error.WriteLineAsync($"  reason:     {refused.Validation.Reason}").ConfigureAwait(false);
        if (refused.RejectedPath is not null)
        {
            await error.WriteLineAsync($"  copied to:  {refused.RejectedPath}").ConfigureAwait(false);
        }

        if (refused.TrustCommand is { } trust)
        {
            await error.WriteLineAsync($"  to trust it (after comparing the thumbprint with the server's): {trust}{(pkiDirectory is null ? "" : " --pki " + pkiDirectory)}").ConfigureAwait(false);
            await error.WriteLineAsync("  or, for commissioning only, add --accept-server-certificate").ConfigureAwait(false);
        }
    }

    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        OpcUaProbeRequest request;
        try
        {
            request = OpcUaProbeRequest.Parse(args);
        }
        catch (FormatException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitUsage;
        }

        return await RunAsync(request, output, error, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> RunAsync(OpcUaProbeRequest request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var identity = UserIdentity.Anonymous;
        if (request.UserName is not null)
        {
            try
            {
                var password = (await File.ReadAllTextAsync(request.PasswordFile!, cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');
                identity = UserIdentity.FromUserName(request.UserName, password);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: cannot read --password-file {request.PasswordFile}: {ex.Message}").ConfigureAwait(false);
                return ExitUsage;
            }
        }

        var channelOptions = new SecureChannelOptions { ConnectTimeout = request.Timeout, RequestTimeout = request.Timeout };
        var logger = _loggerFactory.CreateLogger<OpcUaProbe>();
        UaSecureChannel channel;
        try
        {
            channel = await UaSecureChannel.OpenAsync(request.EndpointUrl, new NoneChannelSecurity(), channelOptions, logger, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceResultException ex)
        {
            await error.WriteLineAsync($"error: {request.EndpointUrl}: {Explain(ex)}").ConfigureAwait(false);
            return ExitConnection;
        }

        await using (channel.ConfigureAwait(false))
        {
            UaClientSession session;
            EndpointChoice choice;
            try
            {
                var endpoints = await UaClientSession.GetEndpointsAsync(channel, request.EndpointUrl, request.Timeout, cancellationToken).ConfigureAwait(false);
                await PrintEndpointsAsync(request.EndpointUrl, endpoints, output).ConfigureAwait(false);
                if (request.SecurityPolicy is null)
                {
                    var none = Array.Find(endpoints, e => e.SecurityPolicyUri == SecurityPolicyUris.None && e.SecurityMode == MessageSecurityMode.None);
                    if (none is null)
                    {
                        await error.WriteLineAsync($"error: {request.EndpointUrl} offers no endpoint with SecurityPolicy None; it offers {SecureEndpoints.Offered(endpoints)}. Choose one with --security POLICY:MODE (e.g. --security {BestOffered(endpoints)}).").ConfigureAwait(false);
                        return ExitConnection;
                    }

                    await output.WriteLineAsync("security: SecurityPolicy None (no --security given and the server offers None; the gateway itself uses the strongest endpoint unless None is allowed)").ConfigureAwait(false);
                    choice = new EndpointChoice(none, null, null, "probe default");
                }
                else
                {
                    choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions { SecurityPolicy = request.SecurityPolicy, SecurityMode = request.SecurityMode });
                }
            }
            catch (ServiceResultException ex)
            {
                await error.WriteLineAsync($"error: {request.EndpointUrl}: {Explain(ex)}").ConfigureAwait(false);
                return ExitConnection;
            }

            Pki.ApplicationIdentity? application = null;
            if (!choice.IsNone)
            {
                // Secure: validate the server's certificate, then a new channel with the chosen policy.
                var pki = request.PkiDirectory ?? Pki.PkiStore.DefaultRoot;
                try
                {
                    application = Pki.ApplicationIdentity.LoadOrCreate(new Pki.PkiStore(pki), null, logger, _time);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    await error.WriteLineAsync($"error: PKI directory {pki}: {ex.Message} (choose one with --pki DIR)").ConfigureAwait(false);
                    return ExitUsage;
                }

                if (application.Created)
                {
                    await output.WriteLineAsync($"created this gateway's application certificate {application.Certificate.Thumbprint} in {application.Store.OwnCertificatePath}").ConfigureAwait(false);
                }

                try
                {
                    SecureEndpoints.CheckServerCertificate(choice, request.EndpointUrl, new ClientSecurityOptions { Application = application, AcceptUntrustedCertificates = request.AcceptServerCertificate }, logger);
                }
                catch (CertificateRejectedException ex)
                {
                    await WriteCertificateRefusedAsync(error, $"error: {request.EndpointUrl}", ex, request.PkiDirectory).ConfigureAwait(false);
                    application.Dispose();
                    return ExitCertificate;
                }

                await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    channel = await UaSecureChannel.OpenAsync(request.EndpointUrl, choice.CreateSecurity(application), channelOptions, logger, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (ServiceResultException ex)
                {
                    await error.WriteLineAsync($"error: {request.EndpointUrl}: {choice}: {Explain(ex)}").ConfigureAwait(false);
                    application.Dispose();
                    return ExitConnection;
                }
            }

            try
            {
                session = await UaClientSession.CreateAsync(channel, new SessionOptions { Identity = identity, RequestTimeout = request.Timeout, SessionName = "FactoryEdge probe" }, logger, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceResultException ex)
            {
                await error.WriteLineAsync($"error: {request.EndpointUrl}: {Explain(ex)}").ConfigureAwait(false);
                await channel.DisposeAsync().ConfigureAwait(false);
                application?.Dispose();
                return ExitConnection;
            }

            using var ownedApplication = application;
            await using var secureChannel = choice.IsNone ? null : channel;
            await using (session.ConfigureAwait(false))
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"session: {choice}, {identity}; {session.NamespaceUris.Count} namespaces")).ConfigureAwait(false);
                for (var i = 0; i < session.NamespaceUris.Count; i++)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  ns={i} {session.NamespaceUris[i]}")).ConfigureAwait(false);
                }

                var code = ExitOk;
                if (request.Browse is not null)
                {
                    code = Math.Max(code, await BrowseAsync(session, request.Browse, output, error, cancellationToken).ConfigureAwait(false));
                }

                foreach (var read in request.Reads)
                {
                    code = Math.Max(code, await ReadAsync(session, read, output, error, cancellationToken).ConfigureAwait(false));
                }

                return code;
            }
        }
    }

    /// <summary>The strongest policy:mode on offer that we support, for the hint; "POLICY:MODE" when none.</summary>
    private static string BestOffered(EndpointDescription[] endpoints)
    {
        try
        {
            var choice = SecureEndpoints.Choose(endpoints, new ClientSecurityOptions());
            return $"{choice.Policy!.Name}:{choice.Endpoint.SecurityMode}";
        }
        catch (ServiceResultException)
        {
            return "POLICY:MODE";
        }
    }

    private static async Task PrintEndpointsAsync(string url, EndpointDescription[] endpoints, TextWriter output)
    {
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"endpoints of {url}: {endpoints.Length}")).ConfigureAwait(false);
        foreach (var e in endpoints)
        {
            var policy = e.SecurityPolicyUri is { } uri && uri.Contains('#', StringComparison.Ordinal) ? uri[(uri.IndexOf('#', StringComparison.Ordinal) + 1)..] : e.SecurityPolicyUri;
            var tokens = string.Join(", ", e.UserIdentityTokens.Select(static t => t.TokenType switch
            {
                UserTokenType.Anonymous => "anonymous",
                UserTokenType.UserName => "username",
                UserTokenType.Certificate => "certificate",
                _ => "issued",
            }).Distinct(StringComparer.Ordinal));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {e.EndpointUrl}  {policy}/{e.SecurityMode}  level {e.SecurityLevel}  tokens: {tokens}")).ConfigureAwait(false);
        }
    }

    private static async Task<int> BrowseAsync(UaClientSession session, string nodeText, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var node = session.Resolve(nodeText);
            var references = (await session.BrowseAsync([node], cancellationToken: cancellationToken).ConfigureAwait(false))[0];
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"browse {nodeText}: {references.Length} references")).ConfigureAwait(false);
            foreach (var r in references)
            {
                var id = r.NodeId.NodeId;
                var uri = id.NamespaceIndex < session.NamespaceUris.Count && id.NamespaceIndex > 0 ? "nsu=" + session.NamespaceUris[id.NamespaceIndex] + ";" + id.WithNamespace(0) : id.ToString();
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {r.NodeClass,-10} {r.BrowseName,-28} {uri}")).ConfigureAwait(false);
            }

            return ExitOk;
        }
        catch (ServiceResultException ex)
        {
            await error.WriteLineAsync($"error: browse {nodeText}: {Explain(ex)}").ConfigureAwait(false);
            return ex.IsConnectionFailure ? ExitConnection : ExitNode;
        }
    }

    private static async Task<int> ReadAsync(UaClientSession session, string text, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (nodeText, range) = OpcUaProbeRequest.SplitRange(text);
        try
        {
            var node = session.Resolve(nodeText);
            var value = await session.ReadValueAsync(node, range, cancellationToken).ConfigureAwait(false);
            if (value.StatusCode.IsBad)
            {
                await error.WriteLineAsync($"error: read {text}: {value.StatusCode}{Hint(value.StatusCode.Code)}").ConfigureAwait(false);
                return ExitNode;
            }

            await output.WriteLineAsync($"read {text}: {Describe(value.Value)}  status {value.StatusCode}  source {Time(value.SourceTimestamp)}  server {Time(value.ServerTimestamp)}").ConfigureAwait(false);
            return ExitOk;
        }
        catch (ServiceResultException ex)
        {
            await error.WriteLineAsync($"error: read {text}: {Explain(ex)}").ConfigureAwait(false);
            return ex.IsConnectionFailure ? ExitConnection : ExitNode;
        }
    }

    /// <summary>A value for people: scalars as they are, numeric arrays with type, length, min, max and RMS.</summary>
    public static string Describe(Variant value)
    {
        if (!value.IsArray)
        {
            return value.IsNull ? "null" : string.Create(CultureInfo.InvariantCulture, $"{value.Type} {FormatScalar(value.Value)}");
        }

        var dims = value.Dimensions is null ? value.ArrayLength.ToString(CultureInfo.InvariantCulture) : string.Join("×", value.Dimensions.Select(static d => d.ToString(CultureInfo.InvariantCulture)));
        if (ArrayStatistics.TryCompute(value.Value as Array, out var stats))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.Type}[{dims}] length {value.ArrayLength} min {stats.Min:G7} max {stats.Max:G7} rms {stats.Rms:G7}");
        }

        if (value.Value is Array { Length: <= 16 } small)
        {
            var elements = new List<string>(small.Length);
            foreach (var element in small)
            {
                elements.Add(FormatScalar(element));
            }

            return string.Create(CultureInfo.InvariantCulture, $"{value.Type}[{dims}] [{string.Join(", ", elements)}]");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value.Type}[{dims}] length {value.ArrayLength}");
    }

    private static string FormatScalar(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        DateTime d => Time(d),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        ExtensionObject { Body: { } body } => body.GetType().Name,
        ExtensionObject x => "ExtensionObject " + x.TypeId,
        _ => value.ToString() ?? "",
    };

    private static string Time(DateTime time) => time == DateTime.MinValue ? "-" : time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Explain(ServiceResultException ex) => ex.StatusCode switch
    {
        StatusCodes.BadTimeout => "timeout: " + ex.Message,
        StatusCodes.BadNotConnected => "connection refused or unreachable: " + ex.Message,
        _ => $"{ex.StatusName}: {ex.Message}{Hint(ex.StatusCode)}",
    };

    private static string Hint(uint code) => (code & 0xFFFF0000) switch
    {
        StatusCodes.BadNodeIdUnknown => " (no such node on this server; check the id, or browse with --browse)",
        StatusCodes.BadNodeIdInvalid => " (the node id is malformed)",
        StatusCodes.BadIndexRangeNoData => " (the index range starts past the end of the array)",
        StatusCodes.BadIdentityTokenInvalid or StatusCodes.BadUserAccessDenied or StatusCodes.BadIdentityTokenRejected => " (the server refused the user; check --user and --password-file)",
        _ => "",
    };
}

/// <summary>Min, max and RMS of a numeric array.</summary>
public static class ArrayStatistics
{
    public static bool TryCompute(Array? array, out (double Min, double Max, double Rms) stats)
    {
        stats = default;
        if (array is null || array.Length == 0)
        {
            return false;
        }

        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        switch (array)
        {
            case float[] f:
                foreach (var v in f)
                {
                    Add(v, ref min, ref max, ref sum);
                }

                break;
            case double[] d:
                foreach (var v in d)
                {
                    Add(v, ref min, ref max, ref sum);
                }

                break;
            default:
                var any = false;
                foreach (var element in array)
                {
                    var v = Variant.NumberToDouble(element);
                    if (double.IsNaN(v))
                    {
                        return false;
                    }

                    any = true;
                    Add(v, ref min, ref max, ref sum);
                }

                if (!any)
                {
                    return false;
                }

                break;
        }

        stats = (min, max, Math.Sqrt(sum / array.Length));
        return true;
    }

    private static void Add(double v, ref double min, ref double max, ref double sum)
    {
        min = Math.Min(min, v);
        max = Math.Max(max, v);
        sum += v * v;
    }
}
