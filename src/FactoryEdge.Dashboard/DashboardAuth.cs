using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FactoryEdge.Dashboard;

/// <summary>
/// PBKDF2 password hashes in the form <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (salt and hash in
/// base64; 16-byte salt, 32-byte hash). Verification is constant-time.
/// </summary>
public static class PasswordHasher
{
    public const string Prefix = "pbkdf2-sha256";

    /// <summary>Default work factor (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Lowest work factor accepted in configuration.</summary>
    public const int MinimumIterations = 100_000;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    public static bool Verify(string password, string encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(encoded, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>Null when <paramref name="encoded"/> is a usable hash, else what is wrong with it.</summary>
    public static string? Describe(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded))
        {
            return "is empty; create one with: factoryedge dashboard hash-password";
        }

        if (!TryParse(encoded, out var iterations, out _, out _))
        {
            return $"is not of the form {Prefix}$ITERATIONS$SALT$HASH (factoryedge dashboard hash-password prints one)";
        }

        return iterations < MinimumIterations ? $"uses {iterations} iterations; at least {MinimumIterations} are required" : null;
    }

    private static bool TryParse(string? encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = [];
        hash = [];
        var parts = encoded?.Split('$') ?? [];
        if (parts.Length != 4 || parts[0] != Prefix || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }

        return salt.Length >= 8 && hash.Length >= 16;
    }
}

/// <summary>Bearer tokens: random, 32 bytes, base64url; configuration keeps only their SHA-256.</summary>
public static class TokenHasher
{
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Sha256Hex(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    internal static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Who is asking, and with which role.</summary>
public sealed record DashboardPrincipal(string User, DashboardRole Role, string Method)
{
    public bool IsOperator => Role == DashboardRole.Operator;
}

/// <summary>
/// Authentication of dashboard requests: bearer token (scripts), HTTP Basic (scripts), or the session
/// cookie set by the login form (browsers). Sessions are HMAC-signed with a key made at start, so a
/// restart logs everybody out; they carry user, role and expiry.
/// </summary>
public sealed class DashboardAuthenticator
{
    public const string CookieName = "fe_session";

    /// <summary>Header a browser's state-changing request must carry (a cross-site form cannot set it).</summary>
    public const string CsrfHeader = "X-FactoryEdge-Request";

    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly byte[] _sessionKey = RandomNumberGenerator.GetBytes(32);
    private readonly Dictionary<string, DashboardToken> _tokens;
    private readonly ConcurrentDictionary<string, (DashboardRole Role, long ExpiresMs)> _basicCache = new(StringComparer.Ordinal);

    // PBKDF2 is slow on purpose; one check at a time, so a flood of login attempts costs at most one
    // core and never starves the pipeline (a caller waiting longer than 5 s is refused).
    private readonly SemaphoreSlim _kdfGate = new(1, 1);

    public DashboardAuthenticator(DashboardOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _tokens = options.Tokens.GroupBy(t => t.Sha256.ToLowerInvariant(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        RequiresAuthentication = options.RequiresAuthentication;
        AnonymousRole = RequiresAuthentication ? null : options.ParsedLocalAnonymousRole;
    }

    public bool RequiresAuthentication { get; }

    /// <summary>Role of a request without credentials (null: credentials required).</summary>
    public DashboardRole? AnonymousRole { get; }

    /// <summary>Checks a user name and password against the configured users.</summary>
    public DashboardPrincipal? CheckPassword(string user, string password, string method)
    {
        if (!_kdfGate.Wait(TimeSpan.FromSeconds(5)))
        {
            return null;
        }

        try
        {
            return CheckPasswordCore(user, password, method);
        }
        finally
        {
            _kdfGate.Release();
        }
    }

    private DashboardPrincipal? CheckPasswordCore(string user, string password, string method)
    {
        var entry = _options.Users.Find(u => string.Equals(u.Name, user, StringComparison.Ordinal));
        if (entry is null)
        {
            // Same work for unknown users, so timing does not tell which names exist.
            PasswordHasher.Verify(password, PasswordHasher.Prefix + "$" + PasswordHasher.MinimumIterations + "$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
            return null;
        }

        return PasswordHasher.Verify(password, entry.PasswordHash) ? new DashboardPrincipal(entry.Name, entry.Role, method) : null;
    }

    /// <summary>Authenticates a request; null when it carries no valid credentials and anonymous access is not allowed.</summary>
    public DashboardPrincipal? Authenticate(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header[7..].Trim();
            return _tokens.TryGetValue(TokenHasher.Sha256Hex(token), out var entry) ? new DashboardPrincipal(entry.Name, entry.Role, "token") : null;
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return CheckBasic(header[6..].Trim());
        }

        if (context.Request.Cookies.TryGetValue(CookieName, out var cookie) && ReadSession(cookie) is { } session)
        {
            return session;
        }

        return AnonymousRole is { } role ? new DashboardPrincipal("local", role, "anonymous") : null;
    }

    /// <summary>A signed session value for a logged-in user.</summary>
    public string IssueSession(DashboardPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var expires = _time.GetUtcNow().AddHours(_options.SessionHours).ToUnixTimeSeconds();
        var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{principal.User}\n{(int)principal.Role}\n{expires}"));
        var mac = HMACSHA256.HashData(_sessionKey, payload);
        return TokenHasher.Base64Url(payload) + "." + TokenHasher.Base64Url(mac);
    }

    public TimeSpan SessionLifetime => TimeSpan.FromHours(_options.SessionHours);

    internal DashboardPrincipal? ReadSession(string value)
    {
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !TryFromBase64Url(value[..dot], out var payload) || !TryFromBase64Url(value[(dot + 1)..], out var mac))
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_sessionKey, payload), mac))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 3
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var role)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires < _time.GetUtcNow().ToUnixTimeSeconds())
        {
            return null;
        }

        // A user removed from configuration loses access at once; a role change applies at once.
        var user = _options.Users.Find(u => string.Equals(u.Name, parts[0], StringComparison.Ordinal));
        return user is null ? null : new DashboardPrincipal(user.Name, (DashboardRole)Math.Min(role, (int)user.Role), "session");
    }

    private DashboardPrincipal? CheckBasic(string encoded)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        var user = text[..colon];
        // PBKDF2 is slow on purpose: remember a successful check for a minute (keyed by a hash of the
        // credentials, never the password itself), so a script polling with Basic does not burn a core.
        var key = TokenHasher.Sha256Hex(text);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_basicCache.TryGetValue(key, out var cached) && cached.ExpiresMs > now)
        {
            var entry = _options.Users.Find(u => string.Equals(u.Name, user, StringComparison.Ordinal));
            return entry is null ? null : new DashboardPrincipal(user, cached.Role, "basic");
        }

        var principal = CheckPassword(user, text[(colon + 1)..], "basic");
        if (principal is not null)
        {
            if (_basicCache.Count > 1000)
            {
                _basicCache.Clear();
            }

            _basicCache[key] = (principal.Role, now + 60_000);
        }

        return principal;
    }

    private static bool TryFromBase64Url(string text, out byte[] bytes)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        try
        {
            bytes = Convert.FromBase64String(s);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
