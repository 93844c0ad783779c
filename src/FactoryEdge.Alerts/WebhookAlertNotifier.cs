using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>
/// HTTP POST of the alert JSON. Headers: <c>Idempotency-Key: {alertId}:{state}</c> (the same on every
/// retry), <c>X-FactoryEdge-Timestamp</c> (Unix seconds) and
/// <c>X-FactoryEdge-Signature: sha256={hex(HMAC-SHA256(secret, timestamp + "." + body))}</c>.
/// 2xx delivers; 408, 429, 5xx and network errors are retried with backoff; other 4xx drop the alert.
/// </summary>
public sealed partial class WebhookAlertNotifier : OutboxAlertNotifier, IDisposable
{
    public const string SignatureHeader = "X-FactoryEdge-Signature";
    public const string TimestampHeader = "X-FactoryEdge-Timestamp";
    public const string IdempotencyHeader = "Idempotency-Key";

    private readonly WebhookAlertOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly byte[] _secret;
    private readonly Uri _url;

    public WebhookAlertNotifier(WebhookAlertOptions webhook, AlertsOptions options, IAlertOutbox outbox, TimeProvider time, ILogger<WebhookAlertNotifier> logger)
        : this(webhook, options, new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }), true, outbox, time, logger)
    {
    }

    internal WebhookAlertNotifier(WebhookAlertOptions webhook, AlertsOptions options, HttpClient http, bool ownsHttp, IAlertOutbox outbox, TimeProvider time, ILogger logger)
        : base("webhook:" + webhook.Name, webhook, outbox, options.RetryScanInterval, options.MaxAlertAge, time, logger)
    {
        _options = webhook;
        _http = http;
        _ownsHttp = ownsHttp;
        _secret = Encoding.UTF8.GetBytes(webhook.Secret);
        _url = new Uri(webhook.Url, UriKind.Absolute);
    }

    protected override int MaxAttempts => _options.MaxAttempts;

    /// <summary>The signature a receiver recomputes: hex HMAC-SHA256 over <c>timestamp + "." + body</c>.</summary>
    public static string Sign(ReadOnlySpan<byte> secret, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, message));
    }

    /// <summary>Checks a signature in constant time.</summary>
    public static bool Verify(ReadOnlySpan<byte> secret, string timestamp, ReadOnlySpan<byte> body, string signature)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        var actual = Encoding.ASCII.GetBytes(signature ?? "");
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Channel-health event: one signed POST when the machine is routed here, not retried.</summary>
    public override ValueTask NotifyChannelHealthAsync(ChannelHealthEvent healthEvent, byte[] payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(healthEvent);
        return RoutesMachine(healthEvent.Channel) ? PostOnceAsync(payload, "health", cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Flood summary: one signed POST, not retried.</summary>
    public override ValueTask NotifyFloodAsync(byte[] payload, CancellationToken cancellationToken) => PostOnceAsync(payload, "flood", cancellationToken);

    private async ValueTask PostOnceAsync(byte[] payload, string kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var timestamp = Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url);
        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(IdempotencyHeader, kind + ":" + Convert.ToHexStringLower(SHA256.HashData(payload))[..32]);
        request.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(_secret, timestamp, payload));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                LogStatus(Logger, Name, kind, (int)response.StatusCode);
            }
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(Logger, Name, kind, ex.HttpRequestError, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStatus(Logger, Name, kind, (int)HttpStatusCode.RequestTimeout);
        }
    }

    protected override TimeSpan Backoff(int attempts)
    {
        var ms = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    protected override async ValueTask<DeliveryOutcome> DeliverAsync(Alert alert, byte[] payload, CancellationToken cancellationToken)
    {
        var timestamp = Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url);
        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(IdempotencyHeader, alert.AlertId + ":" + AlertJson.StateName(alert.State));
        request.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(_secret, timestamp, payload));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return DeliveryOutcome.Delivered;
            }

            LogStatus(Logger, Name, alert.AlertId, code);
            return code is 408 or 429 || code >= 500 ? DeliveryOutcome.RetryLater : DeliveryOutcome.Rejected;
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(Logger, Name, alert.AlertId, ex.HttpRequestError, ex.Message);
            return DeliveryOutcome.RetryLater;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStatus(Logger, Name, alert.AlertId, (int)HttpStatusCode.RequestTimeout);
            return DeliveryOutcome.RetryLater;
        }
    }

    [LoggerMessage(EventId = 9201, Level = LogLevel.Warning, Message = "Webhook {Notifier}: alert {AlertId} answered with HTTP {StatusCode}")]
    private static partial void LogStatus(ILogger logger, string notifier, string alertId, int statusCode);

    [LoggerMessage(EventId = 9202, Level = LogLevel.Warning, Message = "Webhook {Notifier}: alert {AlertId} not sent ({Error}): {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string notifier, string alertId, HttpRequestError error, string reason);
}
