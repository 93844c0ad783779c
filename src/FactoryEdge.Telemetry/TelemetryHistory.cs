using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Spool;
using Microsoft.Data.Sqlite;

namespace FactoryEdge.Telemetry;

/// <summary>What <see cref="TelemetryHistory"/> reads: one channel's <c>fe_window</c> fields over a time range.</summary>
public sealed record TelemetryHistoryQuery
{
    /// <summary>The <c>rms</c>, <c>velocity_rms_mm_s</c>, <c>score</c> and <c>threshold</c> fields of <c>fe_window</c>: the trends of the dashboard.</summary>
    public static readonly IReadOnlyList<string> TrendFields = ["rms", "velocity_rms_mm_s", "score", "threshold"];

    /// <summary>Most points one query may ask for.</summary>
    public const int MaxPointsLimit = 100_000;

    /// <summary>The <c>site</c> tag (null: any).</summary>
    public string? Site { get; init; }

    /// <summary>The <c>line</c> tag (null: any).</summary>
    public string? Line { get; init; }

    /// <summary>The <c>machine</c> tag (null: any).</summary>
    public string? Machine { get; init; }

    /// <summary>The <c>sensor</c> tag (null: any).</summary>
    public string? Sensor { get; init; }

    /// <summary>The <c>axis</c> tag (null: any).</summary>
    public string? Axis { get; init; }

    /// <summary>Fields of <c>fe_window</c> to read (numbers; a point without one has NaN there).</summary>
    public IReadOnlyList<string> Fields { get; init; } = TrendFields;

    /// <summary>First point time (inclusive).</summary>
    public DateTimeOffset From { get; init; }

    /// <summary>Last point time (inclusive).</summary>
    public DateTimeOffset To { get; init; }

    /// <summary>
    /// Most points returned: the range is cut into this many equal buckets and each bucket keeps the
    /// maximum of every field (so a score spike is never decimated away).
    /// </summary>
    public int MaxPoints { get; init; } = 1000;
}

/// <summary>One decimated point: the start of its bucket and the maximum of each field in it (NaN when none).</summary>
/// <param name="UnixTimeMs">Bucket start, Unix milliseconds (UTC).</param>
/// <param name="Values">One value per <see cref="TelemetryHistoryQuery.Fields"/>, in that order.</param>
/// <param name="Windows">Windows folded into this point.</param>
public sealed record TelemetryHistoryPoint(long UnixTimeMs, double[] Values, int Windows);

/// <summary>
/// The answer of <see cref="TelemetryHistory.Read"/>: points in time order, or an empty list and
/// <see cref="Error"/> when the store cannot be read (absent, not a store, damaged).
/// </summary>
/// <param name="Fields">The fields of <see cref="TelemetryHistoryPoint.Values"/>.</param>
/// <param name="Points">Decimated points, oldest first.</param>
/// <param name="BucketMs">Width of one point's bucket, milliseconds.</param>
/// <param name="Windows">Matching windows read from the store.</param>
/// <param name="Error">Why nothing could be read (null: the store was read).</param>
public sealed record TelemetryHistoryResult(IReadOnlyList<string> Fields, IReadOnlyList<TelemetryHistoryPoint> Points, long BucketMs, long Windows, string? Error)
{
    /// <summary>True when the store was read (even if it held no matching point).</summary>
    public bool Available => Error is null;
}

/// <summary>
/// Reads the history of a channel's window results from the embedded store (the SQLite spool the
/// telemetry adapter writes; kept <see cref="SpoolOptions.RetentionHours"/>), read-only and safe while
/// the gateway writes it, decimated to at most <see cref="TelemetryHistoryQuery.MaxPoints"/> points
/// (maximum per bucket). Uses the same read path as <c>factoryedge telemetry query</c>. Blocking
/// (SQLite and gzip): call <see cref="ReadAsync"/> from request or UI code.
/// </summary>
public static class TelemetryHistory
{
    /// <summary>Reads on a thread-pool thread (never on the caller's).</summary>
    public static Task<TelemetryHistoryResult> ReadAsync(string spoolPath, TelemetryHistoryQuery query, CancellationToken cancellationToken) =>
        Task.Run(() => Read(spoolPath, query, cancellationToken), cancellationToken);

    /// <summary>Reads the store at <paramref name="spoolPath"/>; an absent or unreadable store gives a result with <see cref="TelemetryHistoryResult.Error"/>.</summary>
    public static TelemetryHistoryResult Read(string spoolPath, TelemetryHistoryQuery query, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spoolPath);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.MaxPoints, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.MaxPoints, TelemetryHistoryQuery.MaxPointsLimit);
        if (query.Fields.Count == 0)
        {
            throw new ArgumentException("At least one field is needed.", nameof(query));
        }

        var fields = query.Fields.ToArray();
        var fromTicks = query.From.UtcTicks;
        var toTicks = query.To.UtcTicks;
        if (toTicks < fromTicks)
        {
            return new TelemetryHistoryResult(fields, [], 0, 0, null);
        }

        // Bucket width: whole milliseconds, at least one.
        var span = toTicks - fromTicks + 1;
        var bucketTicks = Math.Max(TimeSpan.TicksPerMillisecond, (span + query.MaxPoints - 1) / query.MaxPoints);
        bucketTicks = (bucketTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond;
        var buckets = (int)Math.Min(query.MaxPoints, ((span - 1) / bucketTicks) + 1);

        SqliteConnection connection;
        try
        {
            connection = SqliteSpool.OpenReadOnly(spoolPath);
        }
        catch (FileNotFoundException)
        {
            return Failed(fields, "no telemetry store at " + spoolPath + " (telemetry disabled, or nothing written yet)");
        }
        catch (SqliteException ex)
        {
            return Failed(fields, "cannot open the telemetry store " + spoolPath + ": " + ex.Message);
        }

        var values = new double[buckets * fields.Length];
        Array.Fill(values, double.NaN);
        var counts = new int[buckets];
        long windows = 0;
        using (connection)
        {
            try
            {
                var filter = new SpoolReader.LineFilter(TelemetrySchema.WindowMeasurement, query.Machine, query.Sensor, query.Axis, fromTicks, toTicks);
                foreach (var row in SpoolReader.ReadRows(connection, descending: false, afterId: 0, fromTicks, toTicks))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    row.ForEachLine(line =>
                    {
                        if (!filter.Matches(line, row.Precision))
                        {
                            return;
                        }

                        var point = LineProtocolParser.Parse(line);
                        if ((query.Site is not null && point.Tag("site") != query.Site) || (query.Line is not null && point.Tag("line") != query.Line))
                        {
                            return;
                        }

                        var bucket = (int)((TelemetrySchema.ToUtcTicks(point.Timestamp, row.Precision) - fromTicks) / bucketTicks);
                        if ((uint)bucket >= (uint)buckets)
                        {
                            return;
                        }

                        windows++;
                        counts[bucket]++;
                        for (var f = 0; f < fields.Length; f++)
                        {
                            if (point.Field(fields[f]) is { } value && value.Type is FieldType.Float or FieldType.Integer)
                            {
                                var v = value.AsDouble();
                                ref var slot = ref values[(bucket * fields.Length) + f];
                                if (double.IsFinite(v) && (double.IsNaN(slot) || v > slot))
                                {
                                    slot = v;
                                }
                            }
                        }
                    });
                }
            }
            catch (Exception ex) when (ex is SqliteException or InvalidDataException or FormatException)
            {
                return Failed(fields, "cannot read the telemetry store " + spoolPath + ": " + ex.Message);
            }
        }

        var points = new List<TelemetryHistoryPoint>();
        var fromMs = (fromTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
        var bucketMs = bucketTicks / TimeSpan.TicksPerMillisecond;
        for (var b = 0; b < buckets; b++)
        {
            if (counts[b] > 0)
            {
                points.Add(new TelemetryHistoryPoint(fromMs + (b * bucketMs), values.AsSpan(b * fields.Length, fields.Length).ToArray(), counts[b]));
            }
        }

        return new TelemetryHistoryResult(fields, points, bucketMs, windows, null);
    }

    private static TelemetryHistoryResult Failed(string[] fields, string error) => new(fields, [], 0, 0, error);
}
