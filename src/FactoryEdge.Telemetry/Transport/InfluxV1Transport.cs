using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using FactoryEdge.Telemetry.LineProtocol;

namespace FactoryEdge.Telemetry.Transport;

/// <summary>
/// The InfluxDB 1.x <c>/write</c> endpoint over HttpClient: database, retention policy, precision
/// in the query string, basic authentication (user and password from a file or an environment
/// variable), optional gzip body. VictoriaMetrics serves the same endpoint.
/// </summary>
internal sealed class InfluxV1Transport : IInfluxTransport
{
    private readonly HttpClient _http;
    private readonly string _writeBase;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly bool _gzip;
    private readonly TimeProvider _time;

    public InfluxV1Transport(InfluxOptions options, TimeProvider time, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _http = http ?? InfluxHttp.CreateClient(options);
        _gzip = options.Gzip;
        var query = new StringBuilder("db=").Append(Uri.EscapeDataString(options.Database));
        if (!string.IsNullOrWhiteSpace(options.RetentionPolicy))
        {
            query.Append("&rp=").Append(Uri.EscapeDataString(options.RetentionPolicy));
        }

        var baseUri = options.Url.TrimEnd('/');
        _writeBase = $"{baseUri}/write?{query}&precision=";
        if (!string.IsNullOrWhiteSpace(options.Username))
        {
            var password = InfluxSecrets.Password(options) ?? "";
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.Username + ":" + password)));
        }

        Description = string.Create(CultureInfo.InvariantCulture, $"InfluxDB v1 {baseUri} database '{options.Database}'{(string.IsNullOrWhiteSpace(options.RetentionPolicy) ? "" : $" rp '{options.RetentionPolicy}'")}{(string.IsNullOrWhiteSpace(options.Username) ? "" : $" as '{options.Username}' (password from {InfluxSecrets.Source(options.PasswordFile, options.PasswordEnv)})")}");
    }

    public string Description { get; }

    public async Task<WriteResult> WriteAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _writeBase + TelemetrySchema.V1Name(precision));
        request.Headers.Authorization = _authorization;
        ByteArrayContent content;
        if (_gzip)
        {
            content = new ByteArrayContent(InfluxHttp.Gzip(lines.Span));
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new ReadOnlyMemoryByteArrayContent(lines);
        }

        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        request.Content = content;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var status = WriteResult.Classify(code);
            if (status == WriteStatus.Ok)
            {
                return WriteResult.Success(code);
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new WriteResult(status, code, InfluxHttp.RetryAfter(response.Headers.RetryAfter, _time.GetUtcNow()), InfluxHttp.Excerpt(body));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return new WriteResult(WriteStatus.Unavailable, 0, null, Describe(ex));
        }
    }

    public void Dispose() => _http.Dispose();

    internal static string Describe(Exception ex)
    {
        var text = ex is TaskCanceledException ? "timeout" : ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            text += " → " + inner.Message;
        }

        return InfluxHttp.Excerpt(text);
    }

    /// <summary>Sends a slice of a pooled buffer without copying it.</summary>
    private sealed class ReadOnlyMemoryByteArrayContent(ReadOnlyMemory<byte> data) : ByteArrayContent([])
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            stream.WriteAsync(data).AsTask();

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            stream.WriteAsync(data, cancellationToken).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }
}
