using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Receiver;

/// <summary>
/// The reference receiver. <c>POST /v1/batches</c> (generic ingestion: <c>Idempotency-Key</c> = SHA-256
/// of the body, verified, then the batch is parsed and checked) and <c>PUT /{bucket}/{key}</c>
/// (path-style S3 PUT Object, as AWSSDK.S3 sends it: <c>x-amz-checksum-sha256</c> /
/// <c>x-amz-content-sha256</c> verified, <c>If-None-Match: *</c> honoured). Stores atomically,
/// deduplicates, counts (<c>GET /v1/stats</c>), and injects faults on request.
/// </summary>
public static class ReceiverApp
{
    /// <summary>From the command line (<c>--urls</c>, <c>--Receiver:…</c>).</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var options = new ReceiverOptions();
        builder.Configuration.GetSection("Receiver").Bind(options);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        return Build(builder, options);
    }

    /// <summary>For tests: listens on 127.0.0.1, a free port, HTTP or (with a certificate) HTTPS.</summary>
    public static WebApplication BuildLoopback(ReceiverOptions options, X509Certificate2? certificate = null, X509Certificate2? clientCa = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateMode = clientCa is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
                        ClientCertificateValidation = clientCa is null ? null : (cert, _, _) =>
                        {
                            using var chain = new X509Chain();
                            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                            chain.ChainPolicy.CustomTrustStore.Add(clientCa);
                            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                            return chain.Build(cert);
                        },
                    });
                }
            });
        });
        return Build(builder, options);
    }

    /// <summary>The base URL the app listens on (after start).</summary>
    public static Uri BaseUrl(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
    }

    private static WebApplication Build(WebApplicationBuilder builder, ReceiverOptions options)
    {
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBatchBytes);
        var store = new ReceiverStore(options);
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FactoryEdge.Receiver");
        app.MapGet("/v1/stats", () => Results.Json(store.Stats()));
        app.MapGet("/v1/batches", () => Results.Json(store.Keys()));
        app.MapPost("/v1/batches", (HttpContext context) => store.HandleIngestAsync(context, logger));
        app.MapPut("/{bucket}/{**key}", (HttpContext context, string bucket, string key) => store.HandleS3PutAsync(context, bucket, key, logger));
        return app;
    }
}

/// <summary>Counters of the receiver (<c>GET /v1/stats</c>).</summary>
public sealed record ReceiverStats(long Stored, long Duplicates, long Rejected, long Unauthorized, long Dropped, long TimedOut, long Failed, long Unavailable, long LostAcks, long Slowed, long StoredBytes, IReadOnlyDictionary<string, int> WritesPerKey);

/// <summary>The receiver's state: stored keys, counters, fault draws.</summary>
public sealed class ReceiverStore
{
    private readonly ReceiverOptions _options;
    private readonly ConcurrentDictionary<string, int> _writes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _keyLocks = new(StringComparer.Ordinal);
    private readonly Lock _randomGate = new();
    private readonly Random _random;
    private long _stored;
    private long _duplicates;
    private long _rejected;
    private long _unauthorized;
    private long _dropped;
    private long _timedOut;
    private long _failed;
    private long _unavailable;
    private long _lostAcks;
    private long _slowed;
    private long _storedBytes;

    public ReceiverStore(ReceiverOptions options)
    {
        _options = options;
        _random = options.Faults.Seed == 0 ? new Random() : new Random(options.Faults.Seed);
        Root = Path.GetFullPath(options.Directory);
        System.IO.Directory.CreateDirectory(Root);
        foreach (var file in System.IO.Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)))
        {
            _writes.TryAdd(KeyOf(file), 0); // stored before a restart: known, not written this run
        }
    }

    public string Root { get; }

    /// <summary>Faults can be changed while running (tests).</summary>
    public FaultOptions Faults => _options.Faults;

    public ReceiverStats Stats() => new(
        Interlocked.Read(ref _stored), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _rejected), Interlocked.Read(ref _unauthorized),
        Interlocked.Read(ref _dropped), Interlocked.Read(ref _timedOut), Interlocked.Read(ref _failed), Interlocked.Read(ref _unavailable),
        Interlocked.Read(ref _lostAcks), Interlocked.Read(ref _slowed), Interlocked.Read(ref _storedBytes),
        new Dictionary<string, int>(_writes, StringComparer.Ordinal));

    public IReadOnlyList<string> Keys() => [.. _writes.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every stored file (batch files under batches/, objects under s3/).</summary>
    public IReadOnlyList<string> Files() => [.. System.IO.Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    internal async Task HandleIngestAsync(HttpContext context, ILogger logger)
    {
        if (_options.Token.Length > 0 && context.Request.Headers.Authorization.ToString() != "Bearer " + _options.Token)
        {
            Interlocked.Increment(ref _unauthorized);
            await Text(context, 401, "missing or wrong bearer token").ConfigureAwait(false);
            return;
        }

        var fault = Draw();
        if (await InjectBeforeAsync(context, fault).ConfigureAwait(false))
        {
            return;
        }

        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length != 64 || !key.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            await Reject(context, 400, "Idempotency-Key must be the lower-case hex SHA-256 of the body").ConfigureAwait(false);
            return;
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var hash = BatchFormat.Sha256Hex(body);
        if (hash != key)
        {
            await Reject(context, 422, $"body SHA-256 {hash} does not match Idempotency-Key {key}").ConfigureAwait(false);
            return;
        }

        var gate = _keyLocks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (_writes.ContainsKey(key))
            {
                Interlocked.Increment(ref _duplicates);
                await Json(context, 200, new { status = "duplicate", key }).ConfigureAwait(false);
                return;
            }

            BatchManifest manifest;
            try
            {
                manifest = BatchFormat.Read(body).Manifest;
            }
            catch (InvalidDataException ex)
            {
                await Reject(context, 422, "not a valid batch: " + ex.Message).ConfigureAwait(false);
                return;
            }

            var gateway = Safe(manifest.GatewayId.Length > 0 ? manifest.GatewayId : context.Request.Headers["X-FactoryEdge-Gateway"].ToString());
            Store(Path.Combine(Root, "batches", gateway, key + BatchFormat.FileExtension), key, body);
            LogStored(logger, key, body.Length);
        }
        finally
        {
            gate.Release();
        }

        if (fault == Fault.LostAck)
        {
            Interlocked.Increment(ref _lostAcks);
            context.Abort();
            return;
        }

        await Json(context, 201, new { status = "stored", key }).ConfigureAwait(false);
    }

    internal async Task HandleS3PutAsync(HttpContext context, string bucket, string key, ILogger logger)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal)
            || (_options.S3AccessKey.Length > 0 && !authorization.Contains("Credential=" + _options.S3AccessKey + "/", StringComparison.Ordinal)))
        {
            Interlocked.Increment(ref _unauthorized);
            await S3Error(context, 403, "AccessDenied", "missing or wrong SigV4 credentials").ConfigureAwait(false);
            return;
        }

        var fault = Draw();
        if (await InjectBeforeAsync(context, fault).ConfigureAwait(false))
        {
            return;
        }

        if (context.Request.Headers.ContentEncoding.ToString().Contains("aws-chunked", StringComparison.Ordinal))
        {
            await S3Error(context, 501, "NotImplemented", "aws-chunked bodies are not supported by the reference receiver; send UseChunkEncoding = false").ConfigureAwait(false);
            return;
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var sha = SHA256.HashData(body);
        var contentSha = context.Request.Headers["x-amz-content-sha256"].ToString();
        if (contentSha.Length == 64 && !string.Equals(contentSha, Convert.ToHexStringLower(sha), StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _rejected);
            await S3Error(context, 400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body").ConfigureAwait(false);
            return;
        }

        var checksum = context.Request.Headers["x-amz-checksum-sha256"].ToString();
        if (checksum.Length > 0 && checksum != Convert.ToBase64String(sha))
        {
            Interlocked.Increment(ref _rejected);
            await S3Error(context, 400, "BadDigest", "x-amz-checksum-sha256 does not match the body").ConfigureAwait(false);
            return;
        }

        var name = Path.GetFileName(key);
        if (name.EndsWith(BatchFormat.FileExtension, StringComparison.Ordinal) && name.Length == 64 + BatchFormat.FileExtension.Length
            && name[..64] != Convert.ToHexStringLower(sha))
        {
            Interlocked.Increment(ref _rejected);
            await S3Error(context, 400, "BadDigest", "the object name's hash does not match the body").ConfigureAwait(false);
            return;
        }

        var objectKey = "s3/" + Safe(bucket) + "/" + string.Join('/', key.Split('/').Select(Safe));
        var gate = _keyLocks.GetOrAdd(objectKey, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (_writes.ContainsKey(objectKey))
            {
                Interlocked.Increment(ref _duplicates);
                if (context.Request.Headers.IfNoneMatch.ToString() == "*")
                {
                    await S3Error(context, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold").ConfigureAwait(false);
                    return;
                }
            }
            else
            {
                Store(Path.Combine(Root, objectKey.Replace('/', Path.DirectorySeparatorChar)), objectKey, body);
                LogStored(logger, objectKey, body.Length);
            }
        }
        finally
        {
            gate.Release();
        }

        if (fault == Fault.LostAck)
        {
            Interlocked.Increment(ref _lostAcks);
            context.Abort();
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.Headers.ETag = "\"" + Convert.ToHexStringLower(MD5.HashData(body)) + "\"";
    }

    private void Store(string path, string key, byte[] body)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(body);
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
        _writes.AddOrUpdate(key, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _stored);
        Interlocked.Add(ref _storedBytes, body.Length);
    }

    private string KeyOf(string file)
    {
        var relative = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
        return relative.StartsWith("s3/", StringComparison.Ordinal) ? relative : Path.GetFileNameWithoutExtension(file);
    }

    private enum Fault
    {
        None,
        Drop,
        Timeout,
        Failure,
        Unavailable,
        LostAck,
        Slow,
    }

    private Fault Draw()
    {
        var f = _options.Faults;
        double x;
        lock (_randomGate)
        {
            x = _random.NextDouble();
        }

        foreach (var (rate, fault) in new[] { (f.DropRate, Fault.Drop), (f.TimeoutRate, Fault.Timeout), (f.FailureRate, Fault.Failure), (f.UnavailableRate, Fault.Unavailable), (f.LostAckRate, Fault.LostAck), (f.SlowRate, Fault.Slow) })
        {
            if (x < rate)
            {
                return fault;
            }

            x -= rate;
        }

        return Fault.None;
    }

    /// <summary>Faults that strike before the batch is stored; true when the request is answered (or abandoned).</summary>
    private async Task<bool> InjectBeforeAsync(HttpContext context, Fault fault)
    {
        switch (fault)
        {
            case Fault.Drop:
                Interlocked.Increment(ref _dropped);
                context.Abort();
                return true;
            case Fault.Timeout:
                Interlocked.Increment(ref _timedOut);
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                return true;
            case Fault.Failure:
                Interlocked.Increment(ref _failed);
                await Text(context, 500, "injected failure").ConfigureAwait(false);
                return true;
            case Fault.Unavailable:
                Interlocked.Increment(ref _unavailable);
                context.Response.Headers.RetryAfter = "1";
                await Text(context, 503, "injected unavailability").ConfigureAwait(false);
                return true;
            case Fault.Slow:
                Interlocked.Increment(ref _slowed);
                try
                {
                    await Task.Delay(_options.Faults.SlowMilliseconds, context.RequestAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return true;
                }

                return false;
            default:
                return false;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private async Task Reject(HttpContext context, int status, string message)
    {
        Interlocked.Increment(ref _rejected);
        await Text(context, status, message).ConfigureAwait(false);
    }

    private static Task Text(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsync(message, context.RequestAborted);
    }

    private static Task Json(HttpContext context, int status, object value)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(value, context.RequestAborted);
    }

    private static Task S3Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        return context.Response.WriteAsync($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>", context.RequestAborted);
    }

    private static string Safe(string part)
    {
        var chars = part.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var text = new string(chars).Trim('.');
        return text.Length > 0 ? text : "_";
    }

    private static void LogStored(ILogger logger, string key, int bytes) => ReceiverLog.Stored(logger, key, bytes);
}

internal static partial class ReceiverLog
{
    [LoggerMessage(EventId = 9101, Level = LogLevel.Information, Message = "Stored {Key} ({Bytes} B)")]
    public static partial void Stored(ILogger logger, string key, int bytes);
}
