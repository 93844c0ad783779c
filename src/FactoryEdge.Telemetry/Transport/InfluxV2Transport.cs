using System.Globalization;
using FactoryEdge.Telemetry.LineProtocol;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Api.Service;
using InfluxDB.Client.Core.Exceptions;

namespace FactoryEdge.Telemetry.Transport;

/// <summary>
/// The InfluxDB v2 write API (<c>/api/v2/write</c>: InfluxDB 2.x, 3.x, Cloud, 1.8+ with
/// org/bucket/token, VictoriaMetrics) through InfluxDB.Client's generated WriteService: the body is
/// our own line protocol as bytes (gzip-compressed here at the fastest level), so the client builds
/// no per-point objects and no strings. Authentication, errors (with Retry-After) and the request
/// come from the client; TLS validation from our HttpClient handler.
/// </summary>
internal sealed class InfluxV2Transport : IInfluxTransport
{
    private readonly InfluxDBClient _client;
    private readonly WriteService _write;
    private readonly bool _gzip;
    private readonly string _bucket;
    private readonly string _org;

    public InfluxV2Transport(InfluxOptions options, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var token = InfluxSecrets.Token(options);
        var clientOptions = new InfluxDBClientOptions(options.Url.TrimEnd('/'))
        {
            Org = options.Org,
            Bucket = options.Bucket,
            Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs),
            HttpClient = http ?? InfluxHttp.CreateClient(options),
            AllowHttpRedirects = false,
        };
        if (token is not null)
        {
            clientOptions.Token = token;
        }

        _client = new InfluxDBClient(clientOptions);
        _gzip = options.Gzip;
        _write = _client.CreateService<WriteService>(typeof(WriteService));
        _bucket = options.Bucket;
        _org = options.Org;
        Description = string.Create(CultureInfo.InvariantCulture, $"InfluxDB v2 {options.Url.TrimEnd('/')} org '{options.Org}' bucket '{options.Bucket}' (token from {InfluxSecrets.Source(options.TokenFile, options.TokenEnv)})");
    }

    public string Description { get; }

    public async Task<WriteResult> WriteAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken)
    {
        var span = lines.Span;
        if (span.Length > 0 && span[^1] == (byte)'\n')
        {
            span = span[..^1];
        }

        // One array per batch (not per point).
        var body = _gzip ? InfluxHttp.Gzip(span) : span.ToArray();
        try
        {
            var writePrecision = precision switch
            {
                TimestampPrecision.Nanoseconds => WritePrecision.Ns,
                TimestampPrecision.Microseconds => WritePrecision.Us,
                TimestampPrecision.Milliseconds => WritePrecision.Ms,
                _ => WritePrecision.S,
            };
            await _write.PostWriteAsync(_org, _bucket, body, null, _gzip ? "gzip" : "identity", "text/plain; charset=utf-8", body.Length, "application/json", null, writePrecision, cancellationToken).ConfigureAwait(false);
            return WriteResult.Success();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (HttpException ex) when (ex.Status > 0)
        {
            TimeSpan? retryAfter = ex.RetryAfter is { } seconds ? TimeSpan.FromSeconds(Math.Max(0, seconds)) : null;
            return new WriteResult(WriteResult.Classify(ex.Status), ex.Status, retryAfter, InfluxHttp.Excerpt(ex.Message));
        }
        catch (Exception ex) when (ex is HttpException or HttpRequestException or TaskCanceledException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return new WriteResult(WriteStatus.Unavailable, 0, null, InfluxV1Transport.Describe(ex));
        }
    }

    public void Dispose() => _client.Dispose();
}
