using FactoryEdge.Telemetry.Spool;

namespace FactoryEdge.Telemetry;

/// <summary>A snapshot of the telemetry service's counters (also exported as metrics and as <c>fe_gateway</c> fields).</summary>
public sealed record TelemetryStatistics
{
    /// <summary>WriteBehind or Durable.</summary>
    public required string Mode { get; init; }

    /// <summary>Where data goes ("embedded store" when no server is configured).</summary>
    public required string Destination { get; init; }

    /// <summary>False while the server is failing (backing off).</summary>
    public bool ServerAvailable { get; init; }

    public long WindowsWritten { get; init; }

    /// <summary>Windows skipped by decimation.</summary>
    public long WindowsDecimated { get; init; }

    public long AlertsWritten { get; init; }

    /// <summary>Points the server acknowledged (live and drained).</summary>
    public long SentLines { get; init; }

    /// <summary>Points acknowledged after waiting in the spool.</summary>
    public long DrainedLines { get; init; }

    /// <summary>Points committed to the spool.</summary>
    public long SpooledLines { get; init; }

    /// <summary>Telemetry points evicted because the spool reached its cap (never alerts).</summary>
    public long EvictedLines { get; init; }

    /// <summary>Points deleted by the embedded store's retention.</summary>
    public long ExpiredLines { get; init; }

    /// <summary>Points the server rejected as malformed, moved to quarantine.</summary>
    public long QuarantinedLines { get; init; }

    /// <summary>Points lost because neither memory nor the spool could take them.</summary>
    public long DroppedLines { get; init; }

    public long FailedRequests { get; init; }

    public long Requests { get; init; }

    /// <summary>Points waiting in memory (open batch and sealed batches).</summary>
    public long MemoryLines { get; init; }

    public long SpoolErrors { get; init; }

    public required SpoolStatistics Spool { get; init; }

    /// <summary>Seconds since the oldest waiting spool row was written (0 when empty).</summary>
    public double SpoolOldestAgeSeconds { get; init; }

    public long SpoolFileBytes { get; init; }

    /// <summary>Last failure reason (no secrets), or null.</summary>
    public string? LastError { get; init; }
}
