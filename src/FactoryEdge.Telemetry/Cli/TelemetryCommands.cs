using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Spool;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace FactoryEdge.Telemetry.Cli;

/// <summary>Settings of <c>factoryedge telemetry tail</c>.</summary>
public sealed record TelemetryTailSettings
{
    /// <summary>Spool file (null: the configured or default one, see <see cref="TelemetryCommands.ResolveSpoolPath(string, string)"/>).</summary>
    public string? SpoolPath { get; init; }

    /// <summary>Only this machine (the <c>machine</c> tag).</summary>
    public string? Machine { get; init; }

    /// <summary>Only this measurement (fe_window, fe_alert, fe_channel_health, fe_scalar, fe_gateway).</summary>
    public string? Measurement { get; init; }

    /// <summary>Points shown at first.</summary>
    public int Count { get; init; } = 20;

    /// <summary>Keep printing new points until cancelled.</summary>
    public bool Follow { get; init; }

    /// <summary>How often to look for new points while following.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>table (default), csv, json or lp (line protocol as stored).</summary>
    public string Format { get; init; } = "table";
}

/// <summary>Settings of <c>factoryedge telemetry query</c>.</summary>
public sealed record TelemetryQuerySettings
{
    public string? SpoolPath { get; init; }

    /// <summary>Measurement (default fe_window).</summary>
    public string Measurement { get; init; } = TelemetrySchema.WindowMeasurement;

    public string? Machine { get; init; }

    public string? Sensor { get; init; }

    public string? Axis { get; init; }

    /// <summary>Fields to show (empty: a useful default per measurement; "*" for all).</summary>
    public IReadOnlyList<string> Fields { get; init; } = [];

    /// <summary>From (ISO 8601, or a duration back from now such as 15m, 2h, 7d). Null: everything.</summary>
    public string? Since { get; init; }

    /// <summary>Until (ISO 8601 or a duration back from now). Null: now.</summary>
    public string? Until { get; init; }

    /// <summary>Most points printed (the newest are kept).</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>table (default), csv, json or lp.</summary>
    public string Format { get; init; } = "table";

    /// <summary>List quarantined batches (rejected by the server) instead of stored points.</summary>
    public bool Quarantine { get; init; }
}

/// <summary>
/// The logic of the <c>telemetry</c> verbs over the embedded store (the spool): <c>tail</c> shows the
/// newest points and follows new ones, <c>query</c> selects by measurement, machine, sensor, axis,
/// fields and time, <c>status</c> shows the spool's depth, size, age and quarantine. Reads the SQLite
/// file read-only, so it works while the gateway runs. Exit codes: 0 ok, 1 failure, 2 usage, 3 no store.
/// </summary>
public static class TelemetryCommands
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NoStore = 3;

    private static readonly string[] Formats = ["table", "csv", "json", "lp"];

    /// <summary>The spool file that configuration uses (FactoryEdge:Telemetry:Spool:Path, else the default location).</summary>
    public static string ResolveSpoolPath(IConfiguration? configuration)
    {
        var path = configuration?[TelemetryOptions.SectionName + ":Spool:Path"];
        return new SpoolOptions { Path = path ?? "" }.ResolvePath();
    }

    /// <summary>
    /// The store the CLI verbs read: <paramref name="spoolOption"/> (<c>--spool</c>) when given, else
    /// <c>FactoryEdge:Telemetry:Spool:Path</c> of <paramref name="configFile"/> (JSON with comments;
    /// <c>FACTORYEDGE__</c> environment variables override it, as for <c>run</c>), else the default location.
    /// </summary>
    public static string ResolveSpoolPath(string? spoolOption, string? configFile)
    {
        if (!string.IsNullOrWhiteSpace(spoolOption))
        {
            return Path.GetFullPath(spoolOption);
        }

        var builder = new ConfigurationBuilder();
        if (!string.IsNullOrWhiteSpace(configFile) && File.Exists(configFile))
        {
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: true, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("FACTORYEDGE__");
        return ResolveSpoolPath(builder.Build());
    }

    /// <summary>
    /// Configuration overrides for <c>demo --influx URL [--influx-api v1|v2] [--influx-bucket B | --influx-db D]</c>
    /// (the same keys <c>run</c> reads from its file). Returns nothing when <paramref name="url"/> is null.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> InfluxOverrides(string? url, string? api = null, string? bucket = null, string? database = null, string? org = null)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            yield break;
        }

        const string P = TelemetryOptions.SectionName + ":Influx:";
        var v1 = string.Equals(api, "v1", StringComparison.OrdinalIgnoreCase) || (api is null && database is not null && bucket is null);
        yield return new(P + "Url", url);
        yield return new(P + "Api", v1 ? "v1" : "v2");
        if (v1)
        {
            yield return new(P + "Database", database ?? "factoryedge");
        }
        else
        {
            yield return new(P + "Bucket", bucket ?? "factoryedge");
            yield return new(P + "Org", org ?? "factoryedge");
        }
    }

    public static async Task<int> TailAsync(TelemetryTailSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!CheckFormat(settings.Format, error) || !CheckPositive("--count", settings.Count, error))
        {
            return Usage;
        }

        var path = settings.SpoolPath ?? SpoolOptions.DefaultPath();
        if (await OpenStoreAsync(path, error).ConfigureAwait(false) is not { } connection)
        {
            return NoStore;
        }

        using (connection)
        {
            var filter = new SpoolReader.LineFilter(settings.Measurement, settings.Machine, null, null, long.MinValue, long.MaxValue);
            var printer = new Printer(output, settings.Format, []);
            try
            {
                long lastId = 0;
                var newest = NewestMatching(connection, filter, long.MinValue, long.MaxValue, settings.Count, id => lastId = Math.Max(lastId, id), cancellationToken);
                newest.Reverse();
                foreach (var line in newest)
                {
                    printer.Print(line);
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (lastId == 0)
                {
                    lastId = MaxId(connection);
                }

                while (settings.Follow && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(settings.PollInterval, cancellationToken).ConfigureAwait(false);
                    foreach (var row in SpoolReader.ReadRows(connection, descending: false, afterId: lastId, long.MinValue, long.MaxValue))
                    {
                        lastId = row.Id;
                        row.ForEachLine(line =>
                        {
                            if (filter.Matches(line, row.Precision))
                            {
                                printer.Print(new StoredLine(row.Id, row.Kind, row.Created, row.Precision, Encoding.UTF8.GetString(line)));
                            }
                        });
                    }

                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Ok;
            }
            catch (Exception ex) when (ex is SqliteException or InvalidDataException or FormatException)
            {
                await error.WriteLineAsync("error: cannot read the telemetry store " + path + ": " + ex.Message).ConfigureAwait(false);
                return Failure;
            }
        }

        return Ok;
    }

    public static async Task<int> QueryAsync(TelemetryQuerySettings settings, TextWriter output, TextWriter error, TimeProvider? time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        time ??= TimeProvider.System;
        if (!CheckFormat(settings.Format, error) || !CheckPositive("--limit", settings.Limit, error))
        {
            return Usage;
        }

        var now = time.GetUtcNow();
        if (!TryParseTime(settings.Since, now, out var since) || !TryParseTime(settings.Until, now, out var until))
        {
            await error.WriteLineAsync("error: --since/--until take an ISO 8601 time (2026-05-01T08:00:00Z) or a duration back from now (90s, 15m, 2h, 7d).").ConfigureAwait(false);
            return Usage;
        }

        var fromTicks = since?.UtcTicks ?? long.MinValue;
        var toTicks = until?.UtcTicks ?? long.MaxValue;
        var path = settings.SpoolPath ?? SpoolOptions.DefaultPath();
        if (await OpenStoreAsync(path, error).ConfigureAwait(false) is not { } connection)
        {
            return NoStore;
        }

        using (connection)
        {
            try
            {
                if (settings.Quarantine)
                {
                    return await ListQuarantineAsync(connection, settings.Limit, output).ConfigureAwait(false);
                }

                var filter = new SpoolReader.LineFilter(settings.Measurement, settings.Machine, settings.Sensor, settings.Axis, fromTicks, toTicks);
                var fields = settings.Fields.Count > 0 ? settings.Fields : DefaultFields(settings.Measurement);
                var newest = NewestMatching(connection, filter, fromTicks, toTicks, settings.Limit, null, cancellationToken);

                // Points in time order (rows arrive in time order per series; sort across series).
                var parsed = newest.Select(l => (Line: l, Point: LineProtocolParser.Parse(l.Line))).OrderBy(p => TelemetrySchema.ToUtcTicks(p.Point.Timestamp, p.Line.Precision)).ToList();
                var printer = new Printer(output, settings.Format, fields);
                foreach (var (line, _) in parsed)
                {
                    printer.Print(line);
                }

                if (settings.Format == "table" && parsed.Count == 0)
                {
                    await output.WriteLineAsync("(no points)").ConfigureAwait(false);
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                return Ok;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Failure;
            }
            catch (Exception ex) when (ex is SqliteException or InvalidDataException or FormatException)
            {
                await error.WriteLineAsync("error: cannot read the telemetry store " + path + ": " + ex.Message).ConfigureAwait(false);
                return Failure;
            }
        }
    }

    /// <summary>Depth, size, age and quarantine of the store.</summary>
    public static async Task<int> StatusAsync(string? spoolPath, TextWriter output, TextWriter error, TimeProvider? time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        time ??= TimeProvider.System;
        var path = spoolPath ?? SpoolOptions.DefaultPath();
        if (await OpenStoreAsync(path, error).ConfigureAwait(false) is not { } connection)
        {
            return NoStore;
        }

        using (connection)
        {
            try
            {
                using var cmd = connection.CreateCommand();
                cmd.CommandText = """
                    SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(CASE WHEN kind = 1 THEN lines ELSE 0 END), 0), coalesce(sum(length(data)), 0), coalesce(sum(raw_bytes), 0), min(created), max(created) FROM records;
                    SELECT count(*), coalesce(sum(lines), 0) FROM quarantine;
                    """;
                using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                reader.Read();
                var rows = reader.GetInt64(0);
                var lines = reader.GetInt64(1);
                var alerts = reader.GetInt64(2);
                var stored = reader.GetInt64(3);
                var raw = reader.GetInt64(4);
                var oldest = reader.IsDBNull(5) ? (long?)null : reader.GetInt64(5);
                var newest = reader.IsDBNull(6) ? (long?)null : reader.GetInt64(6);
                reader.NextResult();
                reader.Read();
                var quarantinedRows = reader.GetInt64(0);
                var quarantinedLines = reader.GetInt64(1);
                var now = time.GetUtcNow().UtcTicks;
                var file = new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);
                var inv = CultureInfo.InvariantCulture;
                await output.WriteLineAsync($"store        {path}").ConfigureAwait(false);
                await output.WriteLineAsync(string.Create(inv, $"points       {lines} ({alerts} alerts) in {rows} rows")).ConfigureAwait(false);
                await output.WriteLineAsync(string.Create(inv, $"bytes        {stored} stored ({raw} as line protocol), file {file}")).ConfigureAwait(false);
                if (oldest is { } o && newest is { } n)
                {
                    await output.WriteLineAsync(string.Create(inv, $"spooled      {new DateTime(o, DateTimeKind.Utc):yyyy-MM-ddTHH:mm:ss}Z … {new DateTime(n, DateTimeKind.Utc):yyyy-MM-ddTHH:mm:ss}Z (oldest {TimeSpan.FromTicks(now - o).TotalSeconds:0} s ago)")).ConfigureAwait(false);
                }

                await output.WriteLineAsync(string.Create(inv, $"quarantine   {quarantinedLines} points in {quarantinedRows} batches{(quarantinedRows > 0 ? " (telemetry query --quarantine lists them)" : "")}")).ConfigureAwait(false);
                return Ok;
            }
            catch (SqliteException ex)
            {
                await error.WriteLineAsync("error: cannot read the telemetry store " + path + ": " + ex.Message).ConfigureAwait(false);
                return Failure;
            }
        }
    }

    /// <summary>Parses an ISO 8601 time or a duration back from <paramref name="now"/> (90s, 15m, 2h, 7d).</summary>
    public static bool TryParseTime(string? text, DateTimeOffset now, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        text = text.Trim();
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && text[^1] is 's' or 'm' or 'h' or 'd' && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
        {
            var span = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            time = now - span;
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        return false;
    }

    private static IReadOnlyList<string> DefaultFields(string measurement) => measurement switch
    {
        TelemetrySchema.WindowMeasurement => ["score", "threshold", "anomalous", "rms", "peak", "kurtosis", "velocity_rms_mm_s", "health", "machine_state"],
        TelemetrySchema.AlertMeasurement => ["score", "threshold", "alert_id", "message"],
        _ => ["*"],
    };

    private static async Task<int> ListQuarantineAsync(SqliteConnection connection, int limit, TextWriter output)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT id, original_id, kind, quarantined, lines, encoding, reason, data FROM quarantine ORDER BY id DESC LIMIT $l;";
        cmd.Parameters.AddWithValue("$l", limit);
        using var reader = cmd.ExecuteReader();
        var any = false;
        while (reader.Read())
        {
            any = true;
            var when = new DateTime(reader.GetInt64(3), DateTimeKind.Utc);
            var data = (byte[])reader["data"];
            if (reader.GetInt32(5) == 1)
            {
                data = SpoolReader.Decompress(data);
            }

            var end = Array.IndexOf(data, (byte)'\n');
            var first = Encoding.UTF8.GetString(data, 0, end > 0 ? end : data.Length);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"#{reader.GetInt64(0)} {when:yyyy-MM-ddTHH:mm:ss}Z {(RecordKind)reader.GetInt32(2)} {reader.GetInt32(4)} points: {reader.GetString(6)}")).ConfigureAwait(false);
            await output.WriteLineAsync("  first line: " + first).ConfigureAwait(false);
        }

        if (!any)
        {
            await output.WriteLineAsync("(quarantine is empty)").ConfigureAwait(false);
        }

        return Ok;
    }

    private static long MaxId(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT coalesce(max(id), 0) FROM records;";
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>Opens the store read-only, or says why it cannot (missing file, not a store) and returns null.</summary>
    private static async Task<SqliteConnection?> OpenStoreAsync(string path, TextWriter error)
    {
        try
        {
            return SqliteSpool.OpenReadOnly(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or SqliteException)
        {
            await error.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The newest <paramref name="limit"/> stored lines that match, newest first.</summary>
    private static List<StoredLine> NewestMatching(SqliteConnection connection, SpoolReader.LineFilter filter, long fromTicks, long toTicks, int limit, Action<long>? onRow, CancellationToken cancellationToken)
    {
        var newest = new List<StoredLine>();
        foreach (var row in SpoolReader.ReadRows(connection, descending: true, afterId: 0, fromTicks, toTicks))
        {
            cancellationToken.ThrowIfCancellationRequested();
            onRow?.Invoke(row.Id);
            var lines = new List<StoredLine>();
            row.ForEachLine(line =>
            {
                if (filter.Matches(line, row.Precision))
                {
                    lines.Add(new StoredLine(row.Id, row.Kind, row.Created, row.Precision, Encoding.UTF8.GetString(line)));
                }
            });
            for (var i = lines.Count - 1; i >= 0 && newest.Count < limit; i--)
            {
                newest.Add(lines[i]);
            }

            if (newest.Count >= limit)
            {
                break;
            }
        }

        return newest;
    }

    private static bool CheckFormat(string format, TextWriter error)
    {
        if (Array.IndexOf(Formats, format) >= 0)
        {
            return true;
        }

        error.WriteLine($"error: --format {format} is not allowed: use {string.Join(", ", Formats)}.");
        return false;
    }

    private static bool CheckPositive(string option, int value, TextWriter error)
    {
        if (value > 0)
        {
            return true;
        }

        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: {option} must be at least 1 (was {value})."));
        return false;
    }

    /// <summary>Prints points as a table, CSV, JSON lines or line protocol.</summary>
    private sealed class Printer(TextWriter output, string format, IReadOnlyList<string> fields)
    {
        private bool _headerDone;

        public void Print(StoredLine stored)
        {
            if (format == "lp")
            {
                output.WriteLine(stored.Line);
                return;
            }

            var point = LineProtocolParser.Parse(stored.Line);
            var time = new DateTime(TelemetrySchema.ToUtcTicks(point.Timestamp, stored.Precision), DateTimeKind.Utc);
            var timeText = time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var selected = Select(point);
            switch (format)
            {
                case "json":
                    output.WriteLine(Json(point, timeText));
                    break;
                case "csv":
                    if (!_headerDone && fields.Count > 0 && fields[0] != "*")
                    {
                        output.WriteLine("time,measurement,site,line,machine,sensor,axis," + string.Join(',', fields));
                        _headerDone = true;
                    }

                    output.WriteLine(string.Join(',', [timeText, point.Measurement, .. TelemetrySchema.TagKeys.Select(k => Csv(point.Tag(k) ?? "")), .. selected.Select(f => Csv(f.Value?.ToString() ?? ""))]));
                    break;
                default:
                    var who = point.Tag("machine") is { } machine
                        ? string.Join('/', TelemetrySchema.TagKeys.Select(k => point.Tag(k)).Where(v => v is not null))
                        : string.Join(',', point.Tags.Select(t => t.Key + "=" + t.Value));
                    var extra = point.Measurement == TelemetrySchema.AlertMeasurement ? $" {point.Tag("state")} {point.Tag("severity")}" : "";
                    var values = string.Join(' ', selected.Where(f => f.Value is not null).Select(f => f.Key + "=" + Short(f.Value!.Value)));
                    output.WriteLine($"{timeText} {point.Measurement} {who}{extra} {values}");
                    break;
            }
        }

        private List<KeyValuePair<string, FieldValue?>> Select(ParsedPoint point)
        {
            if (fields.Count == 0 || (fields.Count == 1 && fields[0] == "*"))
            {
                return [.. point.Fields.Select(f => new KeyValuePair<string, FieldValue?>(f.Key, f.Value))];
            }

            return [.. fields.Select(f => new KeyValuePair<string, FieldValue?>(f, point.Field(f)))];
        }

        private static string Short(FieldValue value) => value.Type switch
        {
            FieldType.Float => value.Number.ToString("0.####", CultureInfo.InvariantCulture),
            FieldType.String => "\"" + value.Text + "\"",
            _ => value.ToString(),
        };

        private static string Csv(string text) =>
            text.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

        private static string Json(ParsedPoint point, string time)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("time", time);
                json.WriteString("measurement", point.Measurement);
                json.WriteStartObject("tags");
                foreach (var tag in point.Tags)
                {
                    json.WriteString(tag.Key, tag.Value);
                }

                json.WriteEndObject();
                json.WriteStartObject("fields");
                foreach (var field in point.Fields)
                {
                    switch (field.Value.Type)
                    {
                        case FieldType.Float:
                            json.WriteNumber(field.Key, field.Value.Number);
                            break;
                        case FieldType.Integer:
                            json.WriteNumber(field.Key, field.Value.Integer);
                            break;
                        case FieldType.Boolean:
                            json.WriteBoolean(field.Key, field.Value.Boolean);
                            break;
                        default:
                            json.WriteString(field.Key, field.Value.Text);
                            break;
                    }
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(stream.ToArray());
        }
    }
}
