using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Dashboard;

/// <summary>Dashboard roles: a viewer reads; an operator may also acknowledge and shelve alarms.</summary>
public enum DashboardRole
{
    Viewer = 1,
    Operator = 2,
}

/// <summary>A dashboard user: name, role and a PBKDF2 hash of the password (<c>factoryedge dashboard hash-password</c>).</summary>
public sealed class DashboardUser
{
    public string Name { get; set; } = "";

    public DashboardRole Role { get; set; } = DashboardRole.Viewer;

    /// <summary><c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (base64), as printed by <c>factoryedge dashboard hash-password</c>.</summary>
    public string PasswordHash { get; set; } = "";
}

/// <summary>A bearer token for scripts (curl): name, role and the SHA-256 of the token (<c>factoryedge dashboard new-token</c>).</summary>
public sealed class DashboardToken
{
    public string Name { get; set; } = "";

    public DashboardRole Role { get; set; } = DashboardRole.Viewer;

    /// <summary>Lower-case hex SHA-256 of the token's UTF-8 bytes.</summary>
    public string Sha256 { get; set; } = "";
}

/// <summary>Section <c>FactoryEdge:Dashboard</c>: the web page served by the gateway.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "FactoryEdge:Dashboard";

    public bool Enabled { get; set; } = true;

    /// <summary>Where to listen: one or more URLs separated by ';' (http or https, IP address, localhost, or 0.0.0.0 / [::] for all). Port 0 = any free port.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Server certificate for https URLs: a PKCS#12 file (.pfx/.p12) or a PEM certificate (with <see cref="CertificateKeyPath"/>).</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>PEM private key of a PEM certificate.</summary>
    public string CertificateKeyPath { get; set; } = "";

    /// <summary>Password of the PKCS#12 file (or of an encrypted PEM key).</summary>
    public string CertificatePassword { get; set; } = "";

    public List<DashboardUser> Users { get; set; } = [];

    public List<DashboardToken> Tokens { get; set; } = [];

    /// <summary>
    /// Role of a request without credentials when the dashboard listens on loopback addresses only and
    /// no user or token is configured: Operator (default), Viewer, or None (always log in).
    /// </summary>
    public string LocalAnonymousRole { get; set; } = "Operator";

    /// <summary>Lifetime of a login (session cookie).</summary>
    public double SessionHours { get; set; } = 12;

    /// <summary>How often live data is pushed to the browsers.</summary>
    public int PushIntervalMs { get; set; } = 500;

    /// <summary>Messages queued per browser; a full queue drops (the browser gets fewer frames).</summary>
    public int ClientQueueCapacity { get; set; } = 16;

    /// <summary>A browser whose queue stayed full this long is disconnected (it reconnects when it reads again).</summary>
    public double StalledClientSeconds { get; set; } = 10;

    /// <summary>Live connections at most; more are refused with 503.</summary>
    public int MaxClients { get; set; } = 32;

    /// <summary>Trend points kept in memory per channel.</summary>
    public int TrendPoints { get; set; } = 3600;

    /// <summary>One trend point per channel per this many seconds (maximum score and RMS of the windows in it).</summary>
    public double TrendIntervalSeconds { get; set; } = 1;

    /// <summary>Compute waveform, spectrum and envelope spectrum for channels being viewed (a copy of each window).</summary>
    public bool LiveSpectra { get; set; } = true;

    /// <summary>Channels analysed for display at once at most (the ones being viewed).</summary>
    public int MaxAnalyzedChannels { get; set; } = 8;

    /// <summary>Keep analysing a channel this long after its last viewer left.</summary>
    public double WatchSeconds { get; set; } = 30;

    public DashboardRole? ParsedLocalAnonymousRole =>
        LocalAnonymousRole.Equals("None", StringComparison.OrdinalIgnoreCase)
            ? null
            : Enum.TryParse<DashboardRole>(LocalAnonymousRole, ignoreCase: true, out var role) ? role : null;

    /// <summary>The URLs, parsed (throws <see cref="FormatException"/> naming the bad one).</summary>
    public IReadOnlyList<ListenAddress> ParseUrls() =>
        [.. Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ListenAddress.Parse)];

    /// <summary>True when every URL binds a loopback address.</summary>
    public bool IsLoopbackOnly() => ParseUrls().All(u => u.IsLoopback);

    /// <summary>True when requests must carry credentials.</summary>
    public bool RequiresAuthentication => Users.Count > 0 || Tokens.Count > 0 || !IsLoopbackOnly() || ParsedLocalAnonymousRole is null;
}

/// <summary>One listen address: scheme, host (an IP, localhost, or any) and port.</summary>
public sealed record ListenAddress(bool Https, string Host, IPAddress? Address, int Port)
{
    public bool IsLoopback => Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (Address is not null && IPAddress.IsLoopback(Address));

    public bool IsAny => Address is not null && (Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any));

    public static ListenAddress Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || (uri.AbsolutePath != "/" && uri.AbsolutePath.Length > 0))
        {
            throw new FormatException($"'{url}' is not an http:// or https:// URL without a path (e.g. http://127.0.0.1:8080).");
        }

        var host = uri.Host.Trim('[', ']');
        IPAddress? address = null;
        if (host is "*" or "+")
        {
            address = IPAddress.Any;
        }
        else if (!host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (!IPAddress.TryParse(host, out address))
            {
                throw new FormatException($"'{url}': the host must be an IP address, localhost, or 0.0.0.0 / [::] for all interfaces (host names are not bound).");
            }
        }

        return new ListenAddress(uri.Scheme == Uri.UriSchemeHttps, host, address, uri.Port);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(Https ? "https" : "http")}://{(Address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + Host + "]" : Host)}:{Port}");
}

public sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    private const string S = DashboardOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, DashboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        IReadOnlyList<ListenAddress> urls = [];
        try
        {
            urls = options.ParseUrls();
            if (urls.Count == 0)
            {
                failures.Add($"{S}:Urls is empty; allowed: one or more http(s)://ADDRESS:PORT separated by ';'.");
            }
        }
        catch (FormatException ex)
        {
            failures.Add($"{S}:Urls: {ex.Message}");
        }

        if (urls.Any(u => u.Https) && options.CertificatePath.Length == 0)
        {
            failures.Add($"{S}:CertificatePath is required for an https URL in {S}:Urls.");
        }

        if (options.CertificatePath.Length > 0 && !File.Exists(options.CertificatePath))
        {
            failures.Add($"{S}:CertificatePath '{options.CertificatePath}' does not exist.");
        }

        if (options.CertificateKeyPath.Length > 0 && !File.Exists(options.CertificateKeyPath))
        {
            failures.Add($"{S}:CertificateKeyPath '{options.CertificateKeyPath}' does not exist.");
        }

        if (urls.Count > 0 && !urls.All(u => u.IsLoopback) && options.Users.Count == 0 && options.Tokens.Count == 0)
        {
            failures.Add($"{S}:Urls binds a non-loopback address ({string.Join(", ", urls.Where(u => !u.IsLoopback))}): configure {S}:Users (factoryedge dashboard hash-password) or {S}:Tokens (factoryedge dashboard new-token); unauthenticated access is only allowed on 127.0.0.1.");
        }

        if (!options.LocalAnonymousRole.Equals("None", StringComparison.OrdinalIgnoreCase) && !Enum.TryParse<DashboardRole>(options.LocalAnonymousRole, ignoreCase: true, out _))
        {
            failures.Add($"{S}:LocalAnonymousRole is '{options.LocalAnonymousRole}'; allowed: Operator, Viewer, None.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            if (string.IsNullOrWhiteSpace(user.Name) || user.Name.Contains(':', StringComparison.Ordinal) || user.Name.Length > 64)
            {
                failures.Add($"{S}:Users:{i}:Name '{user.Name}' is not allowed: 1–64 characters without ':'.");
            }
            else if (!names.Add(user.Name))
            {
                failures.Add($"{S}:Users:{i}:Name '{user.Name}' appears twice.");
            }

            CheckRole(failures, $"{S}:Users:{i}:Role", user.Role);
            if (PasswordHasher.Describe(user.PasswordHash) is { } problem)
            {
                failures.Add($"{S}:Users:{i}:PasswordHash {problem}");
            }
        }

        for (var i = 0; i < options.Tokens.Count; i++)
        {
            var token = options.Tokens[i];
            if (string.IsNullOrWhiteSpace(token.Name))
            {
                failures.Add($"{S}:Tokens:{i}:Name is empty.");
            }

            CheckRole(failures, $"{S}:Tokens:{i}:Role", token.Role);
            if (token.Sha256.Length != 64 || !token.Sha256.All(Uri.IsHexDigit))
            {
                failures.Add($"{S}:Tokens:{i}:Sha256 must be 64 hex digits (the SHA-256 of the token, as printed by factoryedge dashboard new-token).");
            }
        }

        Range(failures, "SessionHours", options.SessionHours, 0.05, 24 * 30);
        Range(failures, "PushIntervalMs", options.PushIntervalMs, 50, 60000);
        Range(failures, "ClientQueueCapacity", options.ClientQueueCapacity, 2, 4096);
        Range(failures, "StalledClientSeconds", options.StalledClientSeconds, 0.5, 3600);
        Range(failures, "MaxClients", options.MaxClients, 1, 10000);
        Range(failures, "TrendPoints", options.TrendPoints, 10, 1_000_000);
        Range(failures, "TrendIntervalSeconds", options.TrendIntervalSeconds, 0.05, 3600);
        Range(failures, "MaxAnalyzedChannels", options.MaxAnalyzedChannels, 1, 1000);
        Range(failures, "WatchSeconds", options.WatchSeconds, 1, 86400);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRole(List<string> failures, string key, DashboardRole role)
    {
        if (!Enum.IsDefined(role))
        {
            failures.Add($"{key} is '{role}'; allowed: Viewer, Operator.");
        }
    }

    private static void Range(List<string> failures, string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{S}:{key} is {value}; allowed: {min}..{max}."));
        }
    }
}
