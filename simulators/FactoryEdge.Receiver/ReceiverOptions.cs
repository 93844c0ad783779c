namespace FactoryEdge.Receiver;

/// <summary>Settings of the reference receiver (command line: --Receiver:Directory=…, see docs/uplink.md).</summary>
public sealed class ReceiverOptions
{
    /// <summary>Where batches are stored: batches/GATEWAY/HASH.feb and s3/BUCKET/KEY.</summary>
    public string Directory { get; set; } = "received";

    /// <summary>Bearer token required on /v1/batches (empty = none).</summary>
    public string Token { get; set; } = "";

    /// <summary>S3 PUTs must carry an AWS SigV4 Authorization header with this access key id (empty = any).</summary>
    public string S3AccessKey { get; set; } = "";

    public long MaxBatchBytes { get; set; } = 256L * 1024 * 1024;

    public FaultOptions Faults { get; set; } = new();
}

/// <summary>Fault injection, each a probability per request (0–1), drawn in this order.</summary>
public sealed class FaultOptions
{
    /// <summary>Close the connection before answering (the body may be half read).</summary>
    public double DropRate { get; set; }

    /// <summary>Never answer (the client's timeout fires).</summary>
    public double TimeoutRate { get; set; }

    /// <summary>Answer 500 without storing.</summary>
    public double FailureRate { get; set; }

    /// <summary>Answer 503 with Retry-After: 1.</summary>
    public double UnavailableRate { get; set; }

    /// <summary>Store the batch, then drop the connection: the acknowledgement is lost and the client resends.</summary>
    public double LostAckRate { get; set; }

    /// <summary>Delay the answer by <see cref="SlowMilliseconds"/>.</summary>
    public double SlowRate { get; set; }

    public int SlowMilliseconds { get; set; } = 2000;

    /// <summary>Seed of the fault draws (0 = random).</summary>
    public int Seed { get; set; }
}
