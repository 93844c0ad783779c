using System.Diagnostics.Metrics;

namespace FactoryEdge.Telemetry;

/// <summary>
/// The telemetry counters as System.Diagnostics.Metrics instruments on the meter
/// <c>FactoryEdge.Telemetry</c> (dotnet-counters, OpenTelemetry): spool depth, bytes and oldest age,
/// memory depth, and cumulative sent, drained, spooled, evicted, quarantined and dropped points.
/// </summary>
public sealed class TelemetryMetrics : IDisposable
{
    public const string MeterName = "FactoryEdge.Telemetry";

    private readonly Meter _meter;

    internal TelemetryMetrics(TelemetryService service)
    {
        _meter = new Meter(MeterName);
        TelemetryStatistics Stats() => service.GetStatistics();
        _meter.CreateObservableGauge("factoryedge.telemetry.spool.depth", () => Stats().Spool.Lines, "{point}", "Points waiting in the spool");
        _meter.CreateObservableGauge("factoryedge.telemetry.spool.alerts", () => Stats().Spool.AlertLines, "{point}", "Alert points waiting in the spool");
        _meter.CreateObservableGauge("factoryedge.telemetry.spool.bytes", () => Stats().Spool.Bytes, "By", "Bytes of the waiting spool rows");
        _meter.CreateObservableGauge("factoryedge.telemetry.spool.oldest_age", () => Stats().SpoolOldestAgeSeconds, "s", "Age of the oldest waiting spool row");
        _meter.CreateObservableGauge("factoryedge.telemetry.memory.depth", () => Stats().MemoryLines, "{point}", "Points waiting in memory");
        _meter.CreateObservableCounter("factoryedge.telemetry.sent", () => Stats().SentLines, "{point}", "Points the server acknowledged");
        _meter.CreateObservableCounter("factoryedge.telemetry.drained", () => Stats().DrainedLines, "{point}", "Points acknowledged after waiting in the spool");
        _meter.CreateObservableCounter("factoryedge.telemetry.spooled", () => Stats().SpooledLines, "{point}", "Points committed to the spool");
        _meter.CreateObservableCounter("factoryedge.telemetry.evicted", () => Stats().EvictedLines, "{point}", "Telemetry points evicted at the spool cap");
        _meter.CreateObservableCounter("factoryedge.telemetry.quarantined", () => Stats().QuarantinedLines, "{point}", "Points rejected as malformed");
        _meter.CreateObservableCounter("factoryedge.telemetry.dropped", () => Stats().DroppedLines, "{point}", "Points lost with no spool and memory full");
        _meter.CreateObservableCounter("factoryedge.telemetry.requests.failed", () => Stats().FailedRequests, "{request}", "Write requests that failed");
    }

    public void Dispose() => _meter.Dispose();
}
