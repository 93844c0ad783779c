using System.Text;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Tests;

public sealed class TransportTests
{
    private static readonly byte[] TwoLines = Encoding.UTF8.GetBytes("m,site=a f=1 1000\nm,site=a f=2 2000\n");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));

    private static InfluxOptions V1(string url, Action<InfluxOptions>? configure = null)
    {
        var o = new InfluxOptions { Url = url, Api = "v1", Database = "plant db", RetentionPolicy = "autogen", TimeoutMs = 3000 };
        configure?.Invoke(o);
        return o;
    }

    [Fact]
    public async Task V1_Write_PostsGzippedLinesWithDatabasePrecisionAndBasicAuth()
    {
        await using var server = new LoopbackHttpServer();
        using var dir = TestData.Temp();
        var passwordFile = dir.File("pw");
        File.WriteAllText(passwordFile, "s3cret-pw\n");
        using var transport = new InfluxV1Transport(V1(server.Url, o => { o.Username = "writer"; o.PasswordFile = passwordFile; }), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Milliseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.True(server.Requests.TryDequeue(out var request));
        Assert.Equal("POST", request.Method);
        Assert.Equal("/write?db=plant%20db&rp=autogen&precision=ms", request.Target);
        Assert.Equal("gzip", request.Headers["Content-Encoding"]);
        Assert.Equal(Encoding.UTF8.GetString(TwoLines), request.Text);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:s3cret-pw")), request.Headers["Authorization"]);
        Assert.DoesNotContain("s3cret", transport.Description, StringComparison.Ordinal);
        Assert.Contains("password from file " + passwordFile, transport.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_GzipOff_PlainBody()
    {
        await using var server = new LoopbackHttpServer();
        using var transport = new InfluxV1Transport(V1(server.Url, o => o.Gzip = false), _time);
        await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.True(server.Requests.TryDequeue(out var request));
        Assert.False(request.Headers.ContainsKey("Content-Encoding"));
        Assert.Equal(TwoLines, request.Body);
        Assert.EndsWith("precision=ns", request.Target, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, WriteStatus.Rejected)]
    [InlineData(422, WriteStatus.Rejected)]
    [InlineData(413, WriteStatus.TooLarge)]
    [InlineData(401, WriteStatus.Unauthorized)]
    [InlineData(403, WriteStatus.Unauthorized)]
    [InlineData(500, WriteStatus.Unavailable)]
    [InlineData(429, WriteStatus.Throttled)]
    [InlineData(503, WriteStatus.Throttled)]
    public async Task V1_ErrorStatus_Classified(int status, WriteStatus expected)
    {
        await using var server = new LoopbackHttpServer();
        server.Script(new CannedResponse(status, "{\"error\":\"unable to parse 'bad line': missing fields\"}"));
        using var transport = new InfluxV1Transport(V1(server.Url), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(expected, result.Status);
        Assert.Equal(status, result.HttpStatus);
        Assert.Contains("missing fields", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_RetryAfterSeconds_Reported()
    {
        await using var server = new LoopbackHttpServer();
        server.Script(new CannedResponse(429, "", ("Retry-After", "17")));
        using var transport = new InfluxV1Transport(V1(server.Url), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(17), result.RetryAfter);
    }

    [Fact]
    public async Task V1_RetryAfterHttpDate_RelativeToTheClock()
    {
        await using var server = new LoopbackHttpServer();
        server.Script(new CannedResponse(503, "", ("Retry-After", "Fri, 01 May 2026 08:01:30 GMT")));
        using var transport = new InfluxV1Transport(V1(server.Url), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Throttled, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(90), result.RetryAfter);
    }

    [Fact]
    public async Task V1_NothingListening_UnavailableWithoutThrowing()
    {
        int port;
        await using (var server = new LoopbackHttpServer())
        {
            port = server.Port;
        }

        using var transport = new InfluxV1Transport(V1("http://127.0.0.1:" + port), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Unavailable, result.Status);
        Assert.Equal(0, result.HttpStatus);
        Assert.False(string.IsNullOrEmpty(result.Message));
    }

    [Fact]
    public async Task Tls_SelfSignedServer_RefusedByDefault()
    {
        await using var server = new LoopbackHttpServer(Certificates.SelfSigned("influx", "127.0.0.1"));
        using var transport = new InfluxV1Transport(V1(server.Url), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Unavailable, result.Status);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Tls_CaFileTrustsTheServer_WriteSucceeds()
    {
        using var dir = TestData.Temp();
        var certificate = Certificates.SelfSigned("influx", "127.0.0.1");
        var ca = Certificates.WritePem(certificate, dir.File("ca.pem"));
        await using var server = new LoopbackHttpServer(certificate);
        using var transport = new InfluxV1Transport(V1(server.Url, o => o.CaFile = ca), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Tls_CaFileButNameMismatch_Refused()
    {
        using var dir = TestData.Temp();
        var certificate = Certificates.SelfSigned("other", "influx.example");
        var ca = Certificates.WritePem(certificate, dir.File("ca.pem"));
        await using var server = new LoopbackHttpServer(certificate);
        using var transport = new InfluxV1Transport(V1(server.Url, o => o.CaFile = ca), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Unavailable, result.Status);
    }

    [Fact]
    public async Task Tls_AllowInvalidCertificates_Accepted()
    {
        await using var server = new LoopbackHttpServer(Certificates.SelfSigned("influx", "127.0.0.1"));
        using var transport = new InfluxV1Transport(V1(server.Url, o => o.AllowInvalidCertificates = true), _time);
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Ok, result.Status);
    }

    [Fact]
    public async Task V2_Write_PostsToApiV2WithOrgBucketPrecisionAndToken()
    {
        await using var server = new LoopbackHttpServer();
        const string variable = "FE_TEST_TOKEN_V2_WRITE";
        Environment.SetEnvironmentVariable(variable, "tok-123");
        try
        {
            using var transport = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "acme", Bucket = "plant/autogen", TokenEnv = variable, Gzip = false, TimeoutMs = 3000 });
            var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Microseconds, CancellationToken.None);
            Assert.Equal(WriteStatus.Ok, result.Status);
            Assert.True(server.Requests.TryDequeue(out var request));
            Assert.StartsWith("/api/v2/write?", request.Target, StringComparison.Ordinal);
            Assert.Contains("org=acme", request.Target, StringComparison.Ordinal);
            Assert.Contains("bucket=plant%2fautogen", request.Target, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("precision=us", request.Target, StringComparison.Ordinal);
            Assert.Equal("Token tok-123", request.Headers["Authorization"]);
            Assert.Equal(Encoding.UTF8.GetString(TwoLines).TrimEnd('\n'), request.Text.TrimEnd('\n'));
            Assert.DoesNotContain("tok-123", transport.Description, StringComparison.Ordinal);
            Assert.Contains("environment variable " + variable, transport.Description, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task V2_Gzip_BodyCompressed()
    {
        await using var server = new LoopbackHttpServer();
        using var transport = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "o", Bucket = "b", TokenEnv = "", TimeoutMs = 3000 });
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.True(server.Requests.TryDequeue(out var request));
        Assert.Equal("gzip", request.Headers["Content-Encoding"]);
        Assert.Equal(Encoding.UTF8.GetString(TwoLines).TrimEnd('\n'), request.Text.TrimEnd('\n'));
    }

    [Theory]
    [InlineData(400, WriteStatus.Rejected)]
    [InlineData(401, WriteStatus.Unauthorized)]
    [InlineData(413, WriteStatus.TooLarge)]
    [InlineData(500, WriteStatus.Unavailable)]
    public async Task V2_ErrorStatus_Classified(int status, WriteStatus expected)
    {
        await using var server = new LoopbackHttpServer();
        server.Script(new CannedResponse(status, "{\"code\":\"invalid\",\"message\":\"partial write: field type conflict\"}", ("Content-Type", "application/json")));
        using var transport = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "o", Bucket = "b", TokenEnv = "", Gzip = false, TimeoutMs = 3000 });
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(expected, result.Status);
        Assert.Equal(status, result.HttpStatus);
    }

    [Fact]
    public async Task V2_TooManyRequests_RetryAfterReported()
    {
        await using var server = new LoopbackHttpServer();
        server.Script(new CannedResponse(429, "{\"code\":\"too many requests\",\"message\":\"slow\"}", ("Retry-After", "30"), ("Content-Type", "application/json")));
        using var transport = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "o", Bucket = "b", TokenEnv = "", Gzip = false, TimeoutMs = 3000 });
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Throttled, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(30), result.RetryAfter);
    }

    [Fact]
    public async Task V2_NothingListening_Unavailable()
    {
        int port;
        await using (var server = new LoopbackHttpServer())
        {
            port = server.Port;
        }

        using var transport = new InfluxV2Transport(new InfluxOptions { Url = "http://127.0.0.1:" + port, Org = "o", Bucket = "b", TokenEnv = "", TimeoutMs = 3000 });
        var result = await transport.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None);
        Assert.Equal(WriteStatus.Unavailable, result.Status);
    }

    [Fact]
    public async Task V2_CaFile_TlsServerTrusted()
    {
        using var dir = TestData.Temp();
        var certificate = Certificates.SelfSigned("influx", "127.0.0.1");
        var ca = Certificates.WritePem(certificate, dir.File("ca.pem"));
        await using var server = new LoopbackHttpServer(certificate);
        using var refused = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "o", Bucket = "b", TokenEnv = "", TimeoutMs = 3000 });
        Assert.Equal(WriteStatus.Unavailable, (await refused.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None)).Status);
        using var trusted = new InfluxV2Transport(new InfluxOptions { Url = server.Url, Org = "o", Bucket = "b", TokenEnv = "", CaFile = ca, TimeoutMs = 3000 });
        Assert.Equal(WriteStatus.Ok, (await trusted.WriteAsync(TwoLines, TimestampPrecision.Nanoseconds, CancellationToken.None)).Status);
    }

    [Fact]
    public void Secrets_FileWinsOverEnvironment_AndIsTrimmed()
    {
        using var dir = TestData.Temp();
        var file = dir.File("token");
        File.WriteAllText(file, "  from-file \n");
        const string variable = "FE_TEST_TOKEN_SECRETS";
        Environment.SetEnvironmentVariable(variable, "from-env");
        try
        {
            Assert.Equal("from-file", InfluxSecrets.Token(new InfluxOptions { TokenFile = file, TokenEnv = variable }));
            Assert.Equal("from-env", InfluxSecrets.Token(new InfluxOptions { TokenEnv = variable }));
            Assert.Null(InfluxSecrets.Token(new InfluxOptions { TokenEnv = "FE_TEST_TOKEN_UNSET_VARIABLE" }));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
