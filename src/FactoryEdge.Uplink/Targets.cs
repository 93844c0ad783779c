using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace FactoryEdge.Uplink;

/// <summary>What an upload attempt came to.</summary>
public enum UploadOutcome
{
    /// <summary>The receiver stored the batch.</summary>
    Stored,

    /// <summary>The receiver already had it (same idempotency key): acknowledged all the same.</summary>
    Duplicate,

    /// <summary>Try again later (network, timeout, 5xx, 429, 401/403).</summary>
    Retry,

    /// <summary>The receiver refuses this batch for good (400, 413, 415, 422): quarantined.</summary>
    Rejected,
}

public readonly record struct UploadResult(UploadOutcome Outcome, string Detail, TimeSpan? RetryAfter = null);

/// <summary>One batch to send: the plain batch bytes and their identity.</summary>
public sealed record UploadItem(byte[] Content, string ContentHash, string GatewayId, DateTimeOffset StartUtc);

/// <summary>A place batches are uploaded to.</summary>
public interface IBatchTarget : IDisposable
{
    string Name { get; }

    Task<UploadResult> UploadAsync(UploadItem item, TokenBucket? throttle, CancellationToken cancellationToken);
}

/// <summary>TLS and credentials shared by the HTTP and S3 targets.</summary>
internal static class TargetTls
{
    /// <summary>A handler with system TLS validation, plus the CA file's roots if configured, and the client certificate.</summary>
    public static SocketsHttpHandler CreateHandler(UploadOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(30, options.TimeoutSeconds)),
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (!string.IsNullOrWhiteSpace(options.CaFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(options.CaFile);
            if (roots.Count == 0)
            {
                throw new InvalidOperationException($"{UplinkOptions.SectionName}:Upload:CaFile '{options.CaFile}' holds no PEM certificate.");
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false; // name mismatch or no certificate: never accepted
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var cert = new X509Certificate2(certificate);
                return chain.Build(cert);
            };
        }

        if (!string.IsNullOrWhiteSpace(options.ClientCertificateFile))
        {
            handler.SslOptions.ClientCertificates = [LoadClientCertificate(options)];
        }

        return handler;
    }

    public static X509Certificate2 LoadClientCertificate(UploadOptions options)
    {
        var file = options.ClientCertificateFile;
        if (file.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(file, Environment.GetEnvironmentVariable(options.ClientCertificatePasswordEnv));
        }

        var pem = X509Certificate2.CreateFromPemFile(file, string.IsNullOrWhiteSpace(options.ClientKeyFile) ? null : options.ClientKeyFile);
        // On some platforms an ephemeral PEM key cannot be used for TLS: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A secret from a file (first) or an environment variable; null when neither is set.</summary>
    public static (string? Value, string Source) Secret(string file, string env)
    {
        if (!string.IsNullOrWhiteSpace(file))
        {
            return (File.ReadAllText(file).Trim(), "file " + file);
        }

        return !string.IsNullOrWhiteSpace(env) && Environment.GetEnvironmentVariable(env) is { Length: > 0 } value
            ? (value.Trim(), "environment variable " + env)
            : (null, "none");
    }
}

/// <summary>
/// POSTs a batch to a generic HTTPS ingestion endpoint: body = the batch file,
/// <c>Idempotency-Key</c> = its SHA-256 (hex), <c>Content-Digest: sha-256=:BASE64:</c>,
/// <c>X-FactoryEdge-Gateway</c>, optional bearer token. 200/201 = acknowledged (200 with a
/// duplicate), 409 = already there; 400/413/415/422 = rejected; everything else is retried.
/// </summary>
public sealed class HttpBatchTarget : IBatchTarget
{
    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly UploadOptions _options;

    public HttpBatchTarget(UploadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _url = new Uri(options.Url);
        _client = new HttpClient(TargetTls.CreateHandler(options), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) };
        _options = options;
        TokenSource = TargetTls.Secret(options.TokenFile, options.TokenEnv).Source;
    }

    public string Name => "http " + _url.GetLeftPart(UriPartial.Path);

    /// <summary>Where the bearer token came from (never the token).</summary>
    public string TokenSource { get; }

    public async Task<UploadResult> UploadAsync(UploadItem item, TokenBucket? throttle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        using var request = new HttpRequestMessage(HttpMethod.Post, _url);
        request.Content = new ThrottledContent(item.Content, throttle);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(BatchFormat.MediaType);
        request.Content.Headers.TryAddWithoutValidation("Content-Digest", "sha-256=:" + Convert.ToBase64String(Convert.FromHexString(item.ContentHash)) + ":");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", item.ContentHash);
        request.Headers.TryAddWithoutValidation("X-FactoryEdge-Gateway", item.GatewayId);
        // Read for every batch: a rotated token file takes effect without a restart.
        string? token;
        try
        {
            token = TargetTls.Secret(_options.TokenFile, _options.TokenEnv).Value;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new UploadResult(UploadOutcome.Retry, "token file unreadable: " + ex.Message);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var body = await ReadShortAsync(response, cancellationToken).ConfigureAwait(false);
            var detail = string.Create(CultureInfo.InvariantCulture, $"HTTP {code} {body}").Trim();
            return code switch
            {
                201 => new UploadResult(UploadOutcome.Stored, detail),
                200 or 202 or 204 => new UploadResult(body.Contains("duplicate", StringComparison.OrdinalIgnoreCase) ? UploadOutcome.Duplicate : UploadOutcome.Stored, detail),
                409 => new UploadResult(UploadOutcome.Duplicate, detail),
                400 or 413 or 415 or 422 => new UploadResult(UploadOutcome.Rejected, detail),
                _ => new UploadResult(UploadOutcome.Retry, detail, RetryAfter(response)),
            };
        }
        catch (HttpRequestException ex)
        {
            return new UploadResult(UploadOutcome.Retry, "network: " + ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new UploadResult(UploadOutcome.Retry, "timeout");
        }
        catch (IOException ex)
        {
            return new UploadResult(UploadOutcome.Retry, "connection: " + ex.Message);
        }
    }

    public void Dispose() => _client.Dispose();

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        // Only the delta form: the date form would need the host clock to agree with the server's.
        return response.Headers.RetryAfter?.Delta;
    }

    private static async Task<string> ReadShortAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return text.Length > 300 ? text[..300] : text;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return "";
        }
    }
}

/// <summary>
/// PUT Object to S3-compatible storage (AWSSDK.S3): key <c>PREFIX/GATEWAY/yyyy/MM/dd/HASH.feb</c>
/// (so a resend overwrites the same object with the same bytes), <c>x-amz-checksum-sha256</c> (the
/// store verifies the body), <c>If-None-Match: *</c> (a store that has it answers 412 = duplicate).
/// The SDK's own retries are off: the uploader's backoff applies.
/// </summary>
public sealed class S3BatchTarget : IBatchTarget
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3BatchTarget(UploadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var accessKey = Environment.GetEnvironmentVariable(options.AccessKeyEnv);
        var (secret, _) = TargetTls.Secret(options.SecretKeyFile, options.SecretKeyEnv);
        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secret))
        {
            throw new InvalidOperationException($"S3 credentials missing: set environment variable {options.AccessKeyEnv} and {UplinkOptions.SectionName}:Upload:SecretKeyFile or environment variable {options.SecretKeyEnv}.");
        }

        var config = new AmazonS3Config
        {
            ServiceURL = options.Url,
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            HttpClientFactory = new TlsHttpClientFactory(options),
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secret), config);
        _bucket = options.Bucket;
        _prefix = options.Prefix.Trim('/');
    }

    public string Name => "s3 " + _bucket + "/" + _prefix;

    public static string ObjectKey(string prefix, string gatewayId, DateTimeOffset start, string hash) =>
        string.Create(CultureInfo.InvariantCulture, $"{(prefix.Length > 0 ? prefix + "/" : "")}{gatewayId}/{start.UtcDateTime:yyyy/MM/dd}/{hash}{BatchFormat.FileExtension}");

    public async Task<UploadResult> UploadAsync(UploadItem item, TokenBucket? throttle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (throttle is not null)
        {
            await throttle.AcquireAsync(item.Content.Length, cancellationToken).ConfigureAwait(false);
        }

        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(_prefix, item.GatewayId, item.StartUtc, item.ContentHash),
            InputStream = new MemoryStream(item.Content, writable: false),
            ContentType = BatchFormat.MediaType,
            ChecksumSHA256 = Convert.ToBase64String(Convert.FromHexString(item.ContentHash)),
            UseChunkEncoding = false,
            IfNoneMatch = "*",
        };
        request.Metadata["idempotency-key"] = item.ContentHash;
        request.Metadata["gateway"] = item.GatewayId;
        try
        {
            var response = await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return new UploadResult(UploadOutcome.Stored, string.Create(CultureInfo.InvariantCulture, $"S3 {(int)response.HttpStatusCode} etag {response.ETag}"));
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return new UploadResult(UploadOutcome.Duplicate, "S3 412: object exists");
        }
        catch (AmazonS3Exception ex) when ((int)ex.StatusCode is 400 or 413 && ex.ErrorCode is "BadDigest" or "InvalidDigest" or "EntityTooLarge" or "XAmzContentSHA256Mismatch")
        {
            return new UploadResult(UploadOutcome.Rejected, string.Create(CultureInfo.InvariantCulture, $"S3 {(int)ex.StatusCode} {ex.ErrorCode}: {ex.Message}"));
        }
        catch (AmazonServiceException ex)
        {
            return new UploadResult(UploadOutcome.Retry, string.Create(CultureInfo.InvariantCulture, $"S3 {(int)ex.StatusCode} {ex.ErrorCode}: {ex.Message}"));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or AmazonClientException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new UploadResult(UploadOutcome.Retry, "network: " + ex.Message);
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Gives the SDK an HttpClient with the uplink's TLS settings (CA file, client certificate).</summary>
    private sealed class TlsHttpClientFactory(UploadOptions options) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(TargetTls.CreateHandler(options), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) };

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}
