using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Dashboard.Tests;

public sealed class AuthTests
{
    private const int FastIterations = PasswordHasher.MinimumIterations;

    [Fact]
    public void Hash_ThenVerify_AcceptsThePasswordOnly()
    {
        var hash = PasswordHasher.Hash("correct horse", FastIterations);

        Assert.StartsWith("pbkdf2-sha256$100000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct hors", hash));
        Assert.Null(PasswordHasher.Describe(hash));
    }

    [Fact]
    public void Hash_SamePasswordTwice_UsesDifferentSalts()
    {
        Assert.NotEqual(PasswordHasher.Hash("same password", FastIterations), PasswordHasher.Hash("same password", FastIterations));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plaintext")]
    [InlineData("pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("pbkdf2-sha256$x$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==")]
    public void Describe_UnusableHash_SaysWhy(string encoded)
    {
        Assert.NotNull(PasswordHasher.Describe(encoded));
        Assert.False(PasswordHasher.Verify("anything", encoded));
    }

    [Fact]
    public void Authenticate_BearerToken_GivesItsRole_WrongTokenNothing()
    {
        var token = TokenHasher.NewToken();
        var auth = new DashboardAuthenticator(Options(tokens: [new DashboardToken { Name = "scada", Role = DashboardRole.Operator, Sha256 = TokenHasher.Sha256Hex(token) }]), TimeProvider.System);

        var ok = auth.Authenticate(Request(authorization: "Bearer " + token));
        var wrong = auth.Authenticate(Request(authorization: "Bearer " + token + "x"));
        var none = auth.Authenticate(Request());

        Assert.Equal(new DashboardPrincipal("scada", DashboardRole.Operator, "token"), ok);
        Assert.Null(wrong);
        Assert.Null(none);
    }

    [Fact]
    public void Authenticate_Basic_ChecksThePassword()
    {
        var auth = new DashboardAuthenticator(Options(users: [User("ann", "ann-password", DashboardRole.Viewer)]), TimeProvider.System);

        var ok = auth.Authenticate(Request(authorization: "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:ann-password"))));
        var bad = auth.Authenticate(Request(authorization: "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:nope"))));

        Assert.Equal(DashboardRole.Viewer, ok?.Role);
        Assert.Null(bad);
    }

    [Fact]
    public void Session_RoundTrips_TamperedOrExpiredIsRefused()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var options = Options(users: [User("ann", "ann-password", DashboardRole.Operator)]);
        options.SessionHours = 1;
        var auth = new DashboardAuthenticator(options, time);
        var session = auth.IssueSession(new DashboardPrincipal("ann", DashboardRole.Operator, "session"));

        Assert.Equal(DashboardRole.Operator, auth.ReadSession(session)?.Role);
        var tampered = (session[0] == 'A' ? "B" : "A") + session[1..];
        Assert.Null(auth.ReadSession(tampered));
        Assert.Null(new DashboardAuthenticator(options, time).ReadSession(session)); // another process key (restart)

        time.Advance(TimeSpan.FromMinutes(61));
        Assert.Null(auth.ReadSession(session));
    }

    [Fact]
    public void Session_UserDemotedInConfiguration_GetsTheLowerRole()
    {
        var options = Options(users: [User("ann", "ann-password", DashboardRole.Operator)]);
        var auth = new DashboardAuthenticator(options, TimeProvider.System);
        var session = auth.IssueSession(new DashboardPrincipal("ann", DashboardRole.Operator, "session"));

        options.Users[0].Role = DashboardRole.Viewer;

        Assert.Equal(DashboardRole.Viewer, auth.ReadSession(session)?.Role);
    }

    [Fact]
    public void Authenticate_LoopbackWithoutCredentialsConfigured_IsAnonymousWithTheLocalRole()
    {
        var options = new DashboardOptions { Urls = "http://127.0.0.1:8080", LocalAnonymousRole = "Viewer" };

        var principal = new DashboardAuthenticator(options, TimeProvider.System).Authenticate(Request());

        Assert.Equal(new DashboardPrincipal("local", DashboardRole.Viewer, "anonymous"), principal);
    }

    [Fact]
    public void Authenticate_NonLoopbackBind_NeverAnonymous()
    {
        var options = Options(users: [User("ann", "ann-password", DashboardRole.Operator)]);
        options.Urls = "http://0.0.0.0:8080";

        var auth = new DashboardAuthenticator(options, TimeProvider.System);

        Assert.True(auth.RequiresAuthentication);
        Assert.Null(auth.Authenticate(Request()));
    }

    [Fact]
    public async Task HashPasswordCommand_FromStdin_PrintsAVerifiableHash()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await DashboardCommands.HashPasswordAsync(FastIterations, new StringReader("s3cret-pass\n"), output, error, interactive: false, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.True(PasswordHasher.Verify("s3cret-pass", output.ToString().Trim()));
    }

    [Fact]
    public async Task NewTokenCommand_PrintsTokenAndItsHash()
    {
        var output = new StringWriter();

        var code = await DashboardCommands.NewTokenAsync("scada", "operator", output, new StringWriter(), CancellationToken.None);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var token = lines[0].Split(": ")[1].Trim();
        Assert.Equal(0, code);
        Assert.Contains($"\"Sha256\": \"{TokenHasher.Sha256Hex(token)}\"", lines[2], StringComparison.Ordinal);
        Assert.Contains("\"Role\": \"Operator\"", lines[2], StringComparison.Ordinal);
    }

    internal static DashboardUser User(string name, string password, DashboardRole role) =>
        new() { Name = name, Role = role, PasswordHash = PasswordHasher.Hash(password, FastIterations) };

    private static DashboardOptions Options(List<DashboardUser>? users = null, List<DashboardToken>? tokens = null) =>
        new() { Urls = "http://127.0.0.1:8080", Users = users ?? [], Tokens = tokens ?? [] };

    private static DefaultHttpContext Request(string? authorization = null)
    {
        var context = new DefaultHttpContext();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        return context;
    }
}
