using FactoryEdge.Telemetry.LineProtocol;

namespace FactoryEdge.Telemetry.Transport;

/// <summary>What became of a write request.</summary>
public enum WriteStatus
{
    /// <summary>The server acknowledged the batch (2xx).</summary>
    Ok,

    /// <summary>The server rejected the batch as malformed (400, 422): it is quarantined, never retried.</summary>
    Rejected,

    /// <summary>The batch is larger than the server accepts (413): it is split.</summary>
    TooLarge,

    /// <summary>The server asks to wait (429, 503), possibly with Retry-After.</summary>
    Throttled,

    /// <summary>The credentials were refused (401, 403): retried slowly, never dropped.</summary>
    Unauthorized,

    /// <summary>No answer (connection refused, timeout, TLS failure) or a server error (5xx).</summary>
    Unavailable,
}

/// <summary>Outcome of one write request.</summary>
/// <param name="Status">Classification.</param>
/// <param name="HttpStatus">HTTP status code, 0 when there was no response.</param>
/// <param name="RetryAfter">The server's Retry-After, when it sent one.</param>
/// <param name="Message">Short reason (server error text, exception message); never contains secrets.</param>
public readonly record struct WriteResult(WriteStatus Status, int HttpStatus = 0, TimeSpan? RetryAfter = null, string? Message = null)
{
    public static WriteResult Success(int httpStatus = 204) => new(WriteStatus.Ok, httpStatus);

    /// <summary>Classifies an HTTP status code.</summary>
    public static WriteStatus Classify(int httpStatus) => httpStatus switch
    {
        >= 200 and < 300 => WriteStatus.Ok,
        400 or 422 => WriteStatus.Rejected,
        413 => WriteStatus.TooLarge,
        429 or 503 => WriteStatus.Throttled,
        401 or 403 => WriteStatus.Unauthorized,
        _ => WriteStatus.Unavailable,
    };
}

/// <summary>
/// Sends a batch of line protocol to a server. The engine owns batching, retries and the spool; a
/// transport only sends one request and classifies the answer. Implementations: the v1 /write
/// endpoint over HttpClient, the v2 write API through InfluxDB.Client; fakes in tests.
/// </summary>
internal interface IInfluxTransport : IDisposable
{
    /// <summary>Where data goes, for logs (no secrets).</summary>
    string Description { get; }

    /// <summary>Writes complete lines (each ending with '\n'). Never throws for server or network errors.</summary>
    Task<WriteResult> WriteAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken);
}
