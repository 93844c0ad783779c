using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Dashboard;

/// <summary>
/// The dashboard's HTTP surface: the page and its assets (embedded), login/logout, the JSON API
/// (overview, machine, spectrum, alarms, audit, models), the operator actions
/// (<c>POST /api/alarms/{id}/ack|shelve|unshelve</c>, role operator) and the live stream
/// (<c>GET /api/events</c>, Server-Sent Events).
/// </summary>
internal sealed partial class DashboardEndpoints
{
    private const string PrincipalKey = "fe.principal";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType, string ETag)> Assets = LoadAssets();

    private readonly DashboardOptions _options;
    private readonly DashboardAuthenticator _auth;
    private readonly DashboardViews _views;
    private readonly LiveHub _hub;
    private readonly DisplayTap _tap;
    private readonly ILogger _logger;

    public DashboardEndpoints(DashboardOptions options, DashboardAuthenticator auth, DashboardViews views, LiveHub hub, DisplayTap tap, ILogger logger)
    {
        _options = options;
        _auth = auth;
        _views = views;
        _hub = hub;
        _tap = tap;
        _logger = logger;
    }

    public void Map(WebApplication app)
    {
        app.Use(SecurityHeaders);
        app.Use(Authenticate);

        app.MapGet("/", (HttpContext c) => Asset(c, "index.html"));
        app.MapGet("/assets/{name}", (HttpContext c, string name) => Asset(c, name));
        app.MapGet("/login", (HttpContext c) => Asset(c, "login.html"));
        app.MapPost("/login", (Delegate)Login);
        app.MapPost("/logout", Logout);

        app.MapGet("/api/me", (HttpContext c) => Results.Json(new { user = P(c).User, role = P(c).Role.ToString().ToLowerInvariant(), method = P(c).Method, board = _views.Board is not null }, DashboardViews.Json));
        app.MapGet("/api/overview", () => Results.Json(_views.Overview(), DashboardViews.Json));
        app.MapGet("/api/machine", (string key) => _views.Machine(key) is { } m ? Results.Json(m, DashboardViews.Json) : Results.NotFound(new { error = $"no machine '{key}'" }));
        app.MapGet("/api/spectrum", (string channel) => SpectrumOf(channel));
        app.MapGet("/api/trend", (HttpContext c, string channel, string? since, int? points) => TrendOfAsync(channel, since, points, c.RequestAborted));
        app.MapGet("/api/alarms", () => Results.Json(_views.Alarms(), DashboardViews.Json));
        app.MapGet("/api/audit", (int? max) => _views.Board is { } board
            ? Results.Json(board.Audit(Math.Clamp(max ?? 100, 1, 1000)).Select(a => new { time = a.Time, user = a.User, source = a.Source.ToString().ToLowerInvariant(), action = a.Action, target = a.Target, succeeded = a.Succeeded, detail = a.Detail }), DashboardViews.Json)
            : Results.Json(Array.Empty<object>(), DashboardViews.Json));
        app.MapGet("/api/models", () => Results.Json(_views.Models(), DashboardViews.Json));
        app.MapPost("/api/alarms/{id}/ack", (HttpContext c, string id) => ActAsync(c, id, "acknowledge"));
        app.MapPost("/api/alarms/{id}/shelve", (HttpContext c, string id) => ActAsync(c, id, "shelve"));
        app.MapPost("/api/alarms/{id}/unshelve", (HttpContext c, string id) => ActAsync(c, id, "unshelve"));
        app.MapGet("/api/events", EventsAsync);
    }

    private static DashboardPrincipal P(HttpContext context) => (DashboardPrincipal)context.Items[PrincipalKey]!;

    private static Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        var h = context.Response.Headers;
        h.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        if (context.Request.IsHttps)
        {
            h.StrictTransportSecurity = "max-age=31536000";
        }

        return next(context);
    }

    private Task Authenticate(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/login" || path == "/assets/login.css")
        {
            return next(context);
        }

        var principal = _auth.Authenticate(context);
        if (principal is null)
        {
            if (path.StartsWith("/api/", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"factoryedge\", Basic realm=\"factoryedge\"";
                return context.Response.WriteAsJsonAsync(new { error = "authentication required: log in, or send Authorization: Bearer TOKEN" });
            }

            context.Response.Redirect("/login");
            return Task.CompletedTask;
        }

        // A browser's state-changing request must carry our header: a cross-site form cannot.
        if (HttpMethods.IsPost(context.Request.Method) && path != "/logout" && principal.Method is "session" or "anonymous" && !context.Request.Headers.ContainsKey(DashboardAuthenticator.CsrfHeader))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsJsonAsync(new { error = $"missing {DashboardAuthenticator.CsrfHeader} header" });
        }

        context.Items[PrincipalKey] = principal;
        return next(context);
    }

    private async Task<IResult> Login(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            return Results.BadRequest();
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var user = form["user"].ToString();
        var principal = _auth.CheckPassword(user, form["password"].ToString(), "session");
        if (principal is null)
        {
            LogLoginFailed(_logger, user, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            return Results.Redirect("/login?failed=1");
        }

        context.Response.Cookies.Append(DashboardAuthenticator.CookieName, _auth.IssueSession(principal), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = _auth.SessionLifetime,
        });
        LogLogin(_logger, principal.User, principal.Role);
        return Results.Redirect("/");
    }

    private static IResult Logout(HttpContext context)
    {
        context.Response.Cookies.Delete(DashboardAuthenticator.CookieName, new CookieOptions { Path = "/" });
        return Results.Redirect("/login");
    }

    /// <summary>The tap's index of a channel named in a request, or the 400/404 answer that refuses it.</summary>
    private IResult? ResolveChannel(string channel, out int index)
    {
        index = -1;
        ChannelId id;
        try
        {
            id = ChannelId.Parse(channel);
        }
        catch (FormatException ex)
        {
            return Results.BadRequest(new { error = ex.Message });
        }

        index = _tap.IndexOf(id);
        return index < 0 ? Results.NotFound(new { error = $"no channel '{channel}'" }) : null;
    }

    private IResult SpectrumOf(string channel)
    {
        if (ResolveChannel(channel, out var index) is { } refused)
        {
            return refused;
        }

        _tap.Watch(index);
        return _views.Frame(index) is { } frame ? Results.Json(frame, DashboardViews.Json) : Results.Json(new { pending = true }, DashboardViews.Json, statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> TrendOfAsync(string channel, string? since, int? points, CancellationToken cancellationToken)
    {
        if (ResolveChannel(channel, out var index) is { } refused)
        {
            return refused;
        }

        var range = TrendRange(since);
        if (range is null)
        {
            return Results.BadRequest(new { error = $"since must be a duration such as 15m, 1h, 24h or 7d, at most {TrendHistory.MaxRange.TotalDays:0} days (was '{since}')" });
        }

        var trend = await _views.History.ReadAsync(index, range.Value, points ?? TrendHistory.MaxPoints, cancellationToken).ConfigureAwait(false);
        var p = trend.Points;
        return Results.Json(
            new
            {
                channel = trend.Channel,
                from = trend.FromMs,
                to = trend.ToMs,
                bucketMs = trend.BucketMs,
                t = p.Select(x => x.TimeMs).ToArray(),
                rms = p.Select(x => DashboardViews.N(x.Rms)).ToArray(),
                velocity = p.Select(x => DashboardViews.N(x.Velocity)).ToArray(),
                score = p.Select(x => DashboardViews.N(x.Score)).ToArray(),
                threshold = p.Select(x => DashboardViews.N(x.Threshold)).ToArray(),
                livePoints = trend.LivePoints,
                history = new { available = trend.History.Available, error = trend.History.Error, points = trend.History.Points, windows = trend.History.Windows },
            },
            DashboardViews.Json);
    }

    /// <summary>A duration back from now (90s, 15m, 1h, 24h, 7d; default 1 h), null when not one or too long.</summary>
    internal static TimeSpan? TrendRange(string? since)
    {
        if (string.IsNullOrWhiteSpace(since))
        {
            return TimeSpan.FromHours(1);
        }

        var now = DateTimeOffset.UnixEpoch + TrendHistory.MaxRange + TrendHistory.MaxRange;
        if (!char.IsAsciiDigit(since.Trim()[0]) || !Telemetry.Cli.TelemetryCommands.TryParseTime(since, now, out var from) || from is null)
        {
            return null;
        }

        var range = now - from.Value;
        return range > TimeSpan.Zero && range <= TrendHistory.MaxRange ? range : null;
    }

    private async Task<IResult> ActAsync(HttpContext context, string id, string action)
    {
        var principal = P(context);
        if (!principal.IsOperator)
        {
            LogRefused(_logger, principal.User, action, id);
            return Results.Json(new { error = $"{action} needs the operator role; {principal.User} is a {principal.Role.ToString().ToLowerInvariant()}" }, DashboardViews.Json, statusCode: StatusCodes.Status403Forbidden);
        }

        if (_views.Board is not { } board)
        {
            return Results.Json(new { error = "no alarm board in this gateway (FactoryEdge.Alerts not configured)" }, DashboardViews.Json, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        ActionBody body = new();
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await context.Request.ReadFromJsonAsync<ActionBody>(DashboardViews.Json, context.RequestAborted).ConfigureAwait(false) ?? new();
            }
            catch (JsonException ex)
            {
                return Results.BadRequest(new { error = "body must be JSON like {\"comment\":\"…\",\"minutes\":60}: " + ex.Message });
            }
        }

        var source = principal.Method is "token" or "basic" ? AlarmActionSource.Http : AlarmActionSource.Dashboard;
        var minutes = body.Minutes ?? (double.TryParse(context.Request.Query["minutes"], NumberStyles.Float, CultureInfo.InvariantCulture, out var q) ? q : 60);
        if (action == "shelve" && !(minutes > 0 && minutes <= 7 * 24 * 60))
        {
            return Results.BadRequest(new { error = "minutes must be in (0, 10080]" });
        }

        var result = action switch
        {
            "acknowledge" => board.Acknowledge(id, principal.User, source, body.Comment),
            "shelve" => board.Shelve(id, TimeSpan.FromMinutes(minutes), principal.User, source, body.Comment),
            _ => board.Unshelve(id, principal.User, source),
        };
        LogAction(_logger, principal.User, action, id, result.Succeeded, result.Message);
        return Results.Json(new { ok = result.Succeeded, message = result.Message }, DashboardViews.Json, statusCode: result.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    private async Task EventsAsync(HttpContext context)
    {
        var machine = context.Request.Query["machine"].ToString();
        var client = _hub.Connect(P(context), machine.Length == 0 ? null : machine);
        if (client is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        try
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, client.Aborted);
            var token = linked.Token;
            var hello = LiveHub.Format("hello", JsonSerializer.Serialize(new { id = client.Id, user = client.Principal.User, role = client.Principal.Role.ToString().ToLowerInvariant() }, DashboardViews.Json));
            await context.Response.Body.WriteAsync(hello, token).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
            await foreach (var message in client.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                await context.Response.Body.WriteAsync(message, token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            if (client.Aborted.IsCancellationRequested)
            {
                LogClientDropped(_logger, client.Id, client.Principal.User, client.Dropped);
            }

            _hub.Disconnect(client);
        }
    }

    private static IResult Asset(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Body, asset.ContentType);
    }

    private static FrozenDictionary<string, (byte[], string, string)> LoadAssets()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var result = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("wwwroot/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            var name = resource["wwwroot/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            result[name] = (bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed class ActionBody
    {
        public string? Comment { get; set; }

        public double? Minutes { get; set; }
    }

    [LoggerMessage(EventId = 9510, Level = LogLevel.Information, Message = "Dashboard: {User} {Action} alarm {AlertId}: {Succeeded} ({Message})")]
    private static partial void LogAction(ILogger logger, string user, string action, string alertId, bool succeeded, string message);

    [LoggerMessage(EventId = 9511, Level = LogLevel.Warning, Message = "Dashboard: {User} may not {Action} alarm {AlertId} (viewer)")]
    private static partial void LogRefused(ILogger logger, string user, string action, string alertId);

    [LoggerMessage(EventId = 9512, Level = LogLevel.Warning, Message = "Dashboard: failed login for '{User}' from {Remote}")]
    private static partial void LogLoginFailed(ILogger logger, string user, string remote);

    [LoggerMessage(EventId = 9513, Level = LogLevel.Information, Message = "Dashboard: {User} logged in ({Role})")]
    private static partial void LogLogin(ILogger logger, string user, DashboardRole role);

    [LoggerMessage(EventId = 9514, Level = LogLevel.Warning, Message = "Dashboard: live client {ClientId} ({User}) stopped reading and was disconnected after {Dropped} dropped messages")]
    private static partial void LogClientDropped(ILogger logger, long clientId, string user, long dropped);
}
