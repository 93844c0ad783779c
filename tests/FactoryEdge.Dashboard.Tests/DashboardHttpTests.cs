using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>The dashboard's HTTP surface against its real Kestrel on loopback (no pipeline, a fake alarm board).</summary>
public sealed class DashboardHttpTests : IAsyncLifetime
{
    private readonly string _viewerToken = TokenHasher.NewToken();
    private readonly string _operatorToken = TokenHasher.NewToken();
    private readonly FakeAlarmBoard _board = new();
    private IHost _host = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        (_host, _base) = await StartAsync(new Dictionary<string, string?>
        {
            ["FactoryEdge:Dashboard:Urls"] = "http://0.0.0.0:0",
            ["FactoryEdge:Dashboard:Users:0:Name"] = "olga",
            ["FactoryEdge:Dashboard:Users:0:Role"] = "Operator",
            ["FactoryEdge:Dashboard:Users:0:PasswordHash"] = PasswordHasher.Hash("olga-password", PasswordHasher.MinimumIterations),
            ["FactoryEdge:Dashboard:Tokens:0:Name"] = "wallboard",
            ["FactoryEdge:Dashboard:Tokens:0:Role"] = "Viewer",
            ["FactoryEdge:Dashboard:Tokens:0:Sha256"] = TokenHasher.Sha256Hex(_viewerToken),
            ["FactoryEdge:Dashboard:Tokens:1:Name"] = "scada",
            ["FactoryEdge:Dashboard:Tokens:1:Role"] = "Operator",
            ["FactoryEdge:Dashboard:Tokens:1:Sha256"] = TokenHasher.Sha256Hex(_operatorToken),
        }, _board);
        _board.Add(FakeAlarmBoard.Alarm("a1"));
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    [Fact]
    public async Task NonLocalBind_WithoutCredentials_IsRefused()
    {
        using var client = Client(null, redirects: false);

        var api = await client.GetAsync(new Uri(_base, "/api/overview"));
        var page = await client.GetAsync(_base);
        var events = await client.GetAsync(new Uri(_base, "/api/events"));
        var ack = await client.PostAsync(new Uri(_base, "/api/alarms/a1/ack"), null);

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Contains("Bearer", api.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/login", page.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, events.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, ack.StatusCode);
        Assert.False(_board.Snapshot()[0].Acknowledged);
    }

    [Fact]
    public async Task Ack_ViewerToken_IsForbidden_OperatorToken_Acknowledges()
    {
        using var viewer = Client(_viewerToken);
        using var op = Client(_operatorToken);

        var refused = await viewer.PostAsync(new Uri(_base, "/api/alarms/a1/ack"), null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(_board.Snapshot()[0].Acknowledged);

        var done = await op.PostAsync(new Uri(_base, "/api/alarms/a1/ack"), new StringContent("{\"comment\":\"bearing ordered\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.True(_board.Snapshot()[0].Acknowledged);
        var audit = Assert.Single(_board.Audit(10));
        Assert.Equal(("scada", AlarmActionSource.Http, "acknowledge", "a1", "bearing ordered"), (audit.User, audit.Source, audit.Action, audit.Target, audit.Detail));
    }

    [Fact]
    public async Task Shelve_And_UnknownAlarm_AnswerAsTheBoardDoes()
    {
        using var op = Client(_operatorToken);

        var shelved = await op.PostAsync(new Uri(_base, "/api/alarms/a1/shelve?minutes=30"), null);
        var unknown = await op.PostAsync(new Uri(_base, "/api/alarms/nope/ack"), null);
        var bad = await op.PostAsync(new Uri(_base, "/api/alarms/a1/shelve"), new StringContent("{\"minutes\":-5}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, shelved.StatusCode);
        Assert.Equal(_board.Snapshot()[0].RaisedAt.AddMinutes(30), _board.Snapshot()[0].ShelvedUntil);
        Assert.Equal(HttpStatusCode.Conflict, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Login_Form_SetsSessionCookie_BrowserPostsNeedTheCsrfHeader()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler);

        var failed = await browser.PostAsync(new Uri(_base, "/login"), new FormUrlEncodedContent([new("user", "olga"), new("password", "wrong")]));
        Assert.Equal("/login?failed=1", failed.Headers.Location?.ToString());

        var login = await browser.PostAsync(new Uri(_base, "/login"), new FormUrlEncodedContent([new("user", "olga"), new("password", "olga-password")]));
        Assert.Equal("/", login.Headers.Location?.ToString());
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        var me = await browser.GetStringAsync(new Uri(_base, "/api/me"));
        Assert.Contains("\"role\":\"operator\"", me, StringComparison.Ordinal);

        var noHeader = await browser.PostAsync(new Uri(_base, "/api/alarms/a1/ack"), null);
        Assert.Equal(HttpStatusCode.Forbidden, noHeader.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "/api/alarms/a1/ack"));
        request.Headers.Add(DashboardAuthenticator.CsrfHeader, "1");
        var withHeader = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, withHeader.StatusCode);
        Assert.Equal(AlarmActionSource.Dashboard, _board.Audit(1)[0].Source);
        Assert.Equal("olga", _board.Audit(1)[0].User);
    }

    [Fact]
    public async Task Page_AssetsAreEmbedded_NothingFromAnotherOrigin()
    {
        using var client = Client(_viewerToken);

        var page = await client.GetAsync(_base);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        foreach (var asset in new[] { "/", "/assets/app.js", "/assets/charts.js", "/assets/app.css", "/login", "/assets/login.css" })
        {
            var text = await client.GetStringAsync(new Uri(_base, asset));
            Assert.DoesNotContain("http://", text, StringComparison.Ordinal);
            Assert.DoesNotContain("https://", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Events_AlarmChange_ArrivesOverServerSentEvents()
    {
        using var client = Client(_viewerToken);
        client.Timeout = TimeSpan.FromSeconds(30);
        using var response = await client.GetAsync(new Uri(_base, "/api/events"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("event: hello", await reader.ReadLineAsync());

        _board.Add(FakeAlarmBoard.Alarm("a2", "pump-1"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // The stream may first carry the board as it was when the client connected (other tests' alarms,
        // pushed on the first tick after hello); the change is in an "alarms" event that names a2.
        string? data = null;
        while (data is null)
        {
            var line = await reader.ReadLineAsync(cts.Token);
            if (line == "event: alarms")
            {
                var payload = await reader.ReadLineAsync(cts.Token);
                data = payload is not null && payload.Contains("\"id\":\"a2\"", StringComparison.Ordinal) ? payload : null;
            }
        }

        Assert.Contains("\"id\":\"a2\"", data, StringComparison.Ordinal);
        Assert.Contains("\"machine\":\"plant/line-1/pump-1\"", data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PortInUse_GatewayKeepsRunningWithoutDashboard()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((IPEndPoint)blocker.LocalEndpoint).Port;

        var (host, _) = await StartAsync(new Dictionary<string, string?> { ["FactoryEdge:Dashboard:Urls"] = $"http://127.0.0.1:{port}" }, null, expectStarted: false);
        using (host)
        {
            var server = host.Services.GetRequiredService<DashboardServer>();
            Assert.True(server.Addresses.IsFaulted);
            Assert.Contains("not available", DashboardServer.Describe(host.Services), StringComparison.Ordinal);
            await host.StopAsync();
        }
    }

    internal static async Task<(IHost Host, Uri Base)> StartAsync(Dictionary<string, string?> settings, IAlarmBoard? board, bool expectStarted = true)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        if (board is not null)
        {
            builder.Services.AddSingleton(board);
        }

        builder.Services.AddFactoryEdgeDashboard(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        var server = host.Services.GetRequiredService<DashboardServer>();
        if (!expectStarted)
        {
            return (host, new Uri("http://127.0.0.1:1/"));
        }

        var address = (await server.Addresses)[0];
        var port = new Uri(address).Port;
        return (host, new Uri($"http://127.0.0.1:{port}/"));
    }

    private static HttpClient Client(string? token, bool redirects = true)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = redirects }, disposeHandler: true);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }
}
