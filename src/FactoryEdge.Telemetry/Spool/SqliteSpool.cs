using System.Globalization;
using System.IO.Compression;
using FactoryEdge.Telemetry.LineProtocol;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Telemetry.Spool;

/// <summary>Counters of the spool.</summary>
/// <param name="Records">Rows waiting (telemetry and alerts).</param>
/// <param name="Lines">Points waiting.</param>
/// <param name="AlertLines">Alert points waiting.</param>
/// <param name="Bytes">Stored bytes of the waiting rows (compressed where compressed).</param>
/// <param name="OldestCreatedUtcTicks">When the oldest waiting row was spooled (0 when empty).</param>
/// <param name="QuarantinedRecords">Rows in quarantine.</param>
/// <param name="QuarantinedLines">Points in quarantine.</param>
public sealed record SpoolStatistics(long Records, long Lines, long AlertLines, long Bytes, long OldestCreatedUtcTicks, long QuarantinedRecords, long QuarantinedLines);

/// <summary>A spooled row as read back for sending.</summary>
internal readonly record struct SpoolRow(long Id, RecordKind Kind, int Lines, long StoredBytes);

/// <summary>A point as read back by the CLI: spool row, kind and the line.</summary>
public readonly record struct StoredLine(long RowId, RecordKind Kind, long CreatedUtcTicks, TimestampPrecision Precision, string Line);

/// <summary>
/// The durable spool: one SQLite file in WAL mode. Each row holds complete lines of line protocol
/// (one record in durable mode with per-record commits, otherwise a batch, gzip-compressed when
/// large) with its kind (telemetry or alert), point-time range, precision and size. Rows leave only
/// when the server acknowledged them (<see cref="Delete"/>), when the cap evicts the oldest
/// telemetry (never alerts), when retention expires (embedded store), or into quarantine.
/// All members are thread-safe (one connection under a lock; SQLite serialises writers anyway).
/// A spool that SQLite reports corrupt is moved aside with a clear error and a new one is created.
/// </summary>
public sealed partial class SqliteSpool : IDisposable
{
    private const int CompressFromBytes = 4096;
    private const int SchemaVersion = 1;

    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly bool _compress;
    private readonly string _synchronous;
    private SqliteConnection _connection = null!;
    private SqliteCommand _insert = null!;
    private SqliteParameter _pKind = null!, _pCreated = null!, _pFirst = null!, _pLast = null!, _pLines = null!, _pRaw = null!, _pEncoding = null!, _pPrecision = null!, _pData = null!;
    private SqliteCommand _deleteOne = null!;
    private SqliteParameter _pDeleteId = null!;
    private long _records, _lines, _alertLines, _bytes, _quarantinedRecords, _quarantinedLines;
    private long _oldestCreated = -1; // -1: unknown, recompute
    private bool _disposed;

    private SqliteSpool(string path, bool compress, string synchronous, TimeProvider time, ILogger logger)
    {
        Path = path;
        _compress = compress;
        _synchronous = synchronous;
        _time = time;
        _logger = logger;
    }

    public string Path { get; }

    /// <summary>Where a corrupt spool found at open was moved (null when none was).</summary>
    public string? CorruptMovedTo { get; private set; }

    /// <summary>Opens (or creates) the spool; a corrupt file is moved aside and replaced, logged as an error.</summary>
    public static SqliteSpool Open(string path, SpoolOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        logger ??= NullLogger.Instance;
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var synchronous = string.Equals(options.Synchronous, "Full", StringComparison.OrdinalIgnoreCase) ? "FULL" : "NORMAL";
        var spool = new SqliteSpool(full, options.Compress, synchronous, time, logger);
        try
        {
            spool.OpenCore(options.CheckAtStart);
        }
        catch (Exception ex) when (IsCorruption(ex, out var reason))
        {
            spool.CloseConnection();
            var aside = MoveAside(full, time);
            LogCorrupt(logger, full, reason, aside);
            spool.CorruptMovedTo = aside;
            spool.OpenCore(check: false);
        }

        return spool;
    }

    /// <summary>Opens the spool read-only (CLI). Throws when the file does not exist.</summary>
    public static SqliteConnection OpenReadOnly(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No telemetry store at {path} (the gateway creates it when it runs; see FactoryEdge:Telemetry:Spool:Path).", path);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var busy = connection.CreateCommand();
        busy.CommandText = "PRAGMA busy_timeout = 5000;";
        busy.ExecuteNonQuery();
        return connection;
    }

    /// <summary>True when <paramref name="exception"/> says the database file is damaged or not a database.</summary>
    public static bool IsCorruption(Exception exception, out string reason)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SqliteException sqlite && (sqlite.SqliteErrorCode is 11 or 26 || (sqlite.SqliteExtendedErrorCode & 0xFF) is 11 or 26))
            {
                reason = sqlite.Message;
                return true;
            }

            if (e is SpoolCorruptException corrupt)
            {
                reason = corrupt.Message;
                return true;
            }
        }

        reason = "";
        return false;
    }

    /// <summary>Moves a damaged spool (and its WAL) to <c>NAME.corrupt-yyyyMMddTHHmmssZ</c>; returns the new path.</summary>
    public static string MoveAside(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var aside = $"{path}.corrupt-{stamp}";
        for (var n = 1; File.Exists(aside); n++)
        {
            aside = string.Create(CultureInfo.InvariantCulture, $"{path}.corrupt-{stamp}-{n}");
        }

        SqliteConnection.ClearAllPools();
        if (File.Exists(path))
        {
            File.Move(path, aside);
        }

        if (File.Exists(path + "-wal"))
        {
            File.Move(path + "-wal", aside + "-wal");
        }

        if (File.Exists(path + "-shm"))
        {
            File.Delete(path + "-shm");
        }

        return aside;
    }

    private void OpenCore(bool check)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        _connection = new SqliteConnection(builder.ToString());
        _connection.Open();
        Execute("PRAGMA busy_timeout = 5000;");
        var mode = Scalar("PRAGMA journal_mode = WAL;");
        if (!string.Equals(Convert.ToString(mode, CultureInfo.InvariantCulture), "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite refused WAL mode for {Path} (got '{mode}').");
        }

        Execute($"PRAGMA synchronous = {_synchronous};");
        Execute("PRAGMA journal_size_limit = 16777216;");
        if (check)
        {
            var result = new List<string>();
            using (var cmd = _connection.CreateCommand())
            {
                cmd.CommandText = "PRAGMA quick_check;";
                using var reader = cmd.ExecuteReader();
                while (reader.Read() && result.Count < 5)
                {
                    result.Add(reader.GetString(0));
                }
            }

            if (result.Count != 1 || result[0] != "ok")
            {
                throw new SpoolCorruptException("quick_check: " + string.Join("; ", result));
            }
        }

        Execute("""
            CREATE TABLE IF NOT EXISTS records(
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              kind INTEGER NOT NULL,
              created INTEGER NOT NULL,
              first_time INTEGER NOT NULL,
              last_time INTEGER NOT NULL,
              lines INTEGER NOT NULL,
              raw_bytes INTEGER NOT NULL,
              encoding INTEGER NOT NULL,
              precision INTEGER NOT NULL,
              data BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS records_kind ON records(kind, id);
            CREATE TABLE IF NOT EXISTS quarantine(
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              original_id INTEGER,
              kind INTEGER NOT NULL,
              created INTEGER NOT NULL,
              quarantined INTEGER NOT NULL,
              lines INTEGER NOT NULL,
              encoding INTEGER NOT NULL,
              precision INTEGER NOT NULL,
              reason TEXT NOT NULL,
              data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """);
        Execute(string.Create(CultureInfo.InvariantCulture, $"INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '{SchemaVersion}');"));

        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO records(kind, created, first_time, last_time, lines, raw_bytes, encoding, precision, data) VALUES($k, $c, $f, $l, $n, $r, $e, $p, $d) RETURNING id;";
        _pKind = _insert.Parameters.Add("$k", SqliteType.Integer);
        _pCreated = _insert.Parameters.Add("$c", SqliteType.Integer);
        _pFirst = _insert.Parameters.Add("$f", SqliteType.Integer);
        _pLast = _insert.Parameters.Add("$l", SqliteType.Integer);
        _pLines = _insert.Parameters.Add("$n", SqliteType.Integer);
        _pRaw = _insert.Parameters.Add("$r", SqliteType.Integer);
        _pEncoding = _insert.Parameters.Add("$e", SqliteType.Integer);
        _pPrecision = _insert.Parameters.Add("$p", SqliteType.Integer);
        _pData = _insert.Parameters.Add("$d", SqliteType.Blob);
        _insert.Prepare();
        _deleteOne = _connection.CreateCommand();
        _deleteOne.CommandText = "DELETE FROM records WHERE id = $id;";
        _pDeleteId = _deleteOne.Parameters.Add("$id", SqliteType.Integer);
        _deleteOne.Prepare();
        RecountLocked();
    }

    /// <summary>
    /// Appends complete lines as one row, committed before this returns. Returns the row id.
    /// </summary>
    public long Append(RecordKind kind, ReadOnlySpan<byte> lines, int lineCount, long firstTime, long lastTime, TimestampPrecision precision)
    {
        byte[]? compressed = null;
        if (_compress && lines.Length >= CompressFromBytes)
        {
            compressed = Compress(lines);
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var created = _time.GetUtcNow().UtcTicks;
            _pKind.Value = (int)kind;
            _pCreated.Value = created;
            _pFirst.Value = firstTime;
            _pLast.Value = lastTime;
            _pLines.Value = lineCount;
            _pRaw.Value = lines.Length;
            _pEncoding.Value = compressed is null ? 0 : 1;
            _pPrecision.Value = (int)precision;
            _pData.Value = compressed is not null ? compressed : (object)lines.ToArray();
            var id = (long)_insert.ExecuteScalar()!;
            _records++;
            _lines += lineCount;
            if (kind == RecordKind.Alert)
            {
                _alertLines += lineCount;
            }

            _bytes += compressed?.Length ?? lines.Length;
            if (_oldestCreated <= 0)
            {
                _oldestCreated = created;
            }

            return id;
        }
    }

    /// <summary>
    /// Appends the oldest waiting rows of <paramref name="kind"/> (id greater than <paramref name="afterId"/>) to
    /// <paramref name="batch"/>, up to <paramref name="maxLines"/> lines (at least one row), all of the same precision.
    /// </summary>
    internal TimestampPrecision ReadOldest(RecordKind kind, long afterId, int maxLines, LineProtocolWriter batch, List<SpoolRow> rows)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rows);
        var precision = TimestampPrecision.Nanoseconds;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT id, lines, raw_bytes, encoding, precision, data, length(data) FROM records WHERE kind = $k AND id > $a ORDER BY id LIMIT $m;";
            cmd.Parameters.AddWithValue("$k", (int)kind);
            cmd.Parameters.AddWithValue("$a", afterId);
            cmd.Parameters.AddWithValue("$m", Math.Max(1, Math.Min(maxLines, 100_000)));
            using var reader = cmd.ExecuteReader();
            var lines = 0;
            while (reader.Read())
            {
                var rowLines = reader.GetInt32(1);
                var rowPrecision = (TimestampPrecision)reader.GetInt32(4);
                if (rows.Count > 0 && (lines + rowLines > maxLines || rowPrecision != precision))
                {
                    break;
                }

                precision = rowPrecision;
                var raw = reader.GetInt32(2);
                var encoding = reader.GetInt32(3);
                var before = batch.Length;
                var beforeLines = batch.Lines;
                try
                {
                    using var blob = reader.GetStream(5);
                    using var source = encoding == 1 ? new GZipStream(blob, CompressionMode.Decompress) : blob;
                    var remaining = raw;
                    while (remaining > 0)
                    {
                        var span = batch.GetRawSpan(remaining);
                        var read = source.Read(span[..remaining]);
                        if (read == 0)
                        {
                            throw new SpoolCorruptException(string.Create(CultureInfo.InvariantCulture, $"row {reader.GetInt64(0)} is shorter than recorded"));
                        }

                        batch.Advance(read);
                        remaining -= read;
                    }

                    batch.AddLines(rowLines);
                }
                catch (InvalidDataException ex)
                {
                    batch.Truncate(before, beforeLines);
                    throw new SpoolCorruptException(string.Create(CultureInfo.InvariantCulture, $"row {reader.GetInt64(0)} cannot be decompressed: {ex.Message}"));
                }

                rows.Add(new SpoolRow(reader.GetInt64(0), kind, rowLines, reader.GetInt64(6)));
                lines += rowLines;
                if (lines >= maxLines)
                {
                    break;
                }
            }
        }

        return precision;
    }

    /// <summary>Removes rows the server acknowledged.</summary>
    internal void Delete(IReadOnlyList<SpoolRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var tx = _connection.BeginTransaction();
            _deleteOne.Transaction = tx;
            foreach (var row in rows)
            {
                _pDeleteId.Value = row.Id;
                _deleteOne.ExecuteNonQuery();
            }

            tx.Commit();
            _deleteOne.Transaction = null;
            Subtract(rows);
        }
    }

    /// <summary>Moves rows the server rejected as malformed into the quarantine table.</summary>
    internal void Quarantine(IReadOnlyList<SpoolRow> rows, string reason)
    {
        ArgumentNullException.ThrowIfNull(rows);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var tx = _connection.BeginTransaction();
            foreach (var row in rows)
            {
                using var move = _connection.CreateCommand();
                move.Transaction = tx;
                move.CommandText = """
                    INSERT INTO quarantine(original_id, kind, created, quarantined, lines, encoding, precision, reason, data)
                      SELECT id, kind, created, $q, lines, encoding, precision, $r, data FROM records WHERE id = $id;
                    DELETE FROM records WHERE id = $id;
                    """;
                move.Parameters.AddWithValue("$q", _time.GetUtcNow().UtcTicks);
                move.Parameters.AddWithValue("$r", reason);
                move.Parameters.AddWithValue("$id", row.Id);
                move.ExecuteNonQuery();
            }

            tx.Commit();
            Subtract(rows);
            foreach (var row in rows)
            {
                _quarantinedRecords++;
                _quarantinedLines += row.Lines;
            }
        }
    }

    /// <summary>Quarantines lines that never were in the spool (a rejected live batch).</summary>
    internal void QuarantineLines(RecordKind kind, ReadOnlySpan<byte> lines, int lineCount, TimestampPrecision precision, string reason)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "INSERT INTO quarantine(original_id, kind, created, quarantined, lines, encoding, precision, reason, data) VALUES(NULL, $k, $c, $c, $n, 0, $p, $r, $d);";
            cmd.Parameters.AddWithValue("$k", (int)kind);
            cmd.Parameters.AddWithValue("$c", _time.GetUtcNow().UtcTicks);
            cmd.Parameters.AddWithValue("$n", lineCount);
            cmd.Parameters.AddWithValue("$p", (int)precision);
            cmd.Parameters.AddWithValue("$r", reason);
            cmd.Parameters.AddWithValue("$d", lines.ToArray());
            cmd.ExecuteNonQuery();
            _quarantinedRecords++;
            _quarantinedLines += lineCount;
        }
    }

    /// <summary>
    /// Deletes the oldest telemetry rows until the stored bytes are at most <paramref name="targetBytes"/>.
    /// Alerts are never evicted. Returns what was evicted.
    /// </summary>
    public (long Records, long Lines) EvictOldestTelemetry(long targetBytes)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long records = 0, lines = 0;
            while (_bytes > targetBytes)
            {
                var ids = new List<(long Id, long Lines)>();
                long freed = 0;
                using (var cmd = _connection.CreateCommand())
                {
                    cmd.CommandText = "SELECT id, lines, length(data) FROM records WHERE kind = 0 ORDER BY id LIMIT 500;";
                    using var reader = cmd.ExecuteReader();
                    while (reader.Read() && _bytes - freed > targetBytes)
                    {
                        ids.Add((reader.GetInt64(0), reader.GetInt64(1)));
                        freed += reader.GetInt64(2);
                    }
                }

                if (ids.Count == 0)
                {
                    break; // only alerts left: they stay.
                }

                using (var tx = _connection.BeginTransaction())
                {
                    _deleteOne.Transaction = tx;
                    foreach (var (id, n) in ids)
                    {
                        _pDeleteId.Value = id;
                        _deleteOne.ExecuteNonQuery();
                        lines += n;
                    }

                    tx.Commit();
                    _deleteOne.Transaction = null;
                }

                records += ids.Count;
                _bytes -= freed;
                _records -= ids.Count;
            }

            _lines -= lines;
            _oldestCreated = -1;
            return (records, lines);
        }
    }

    /// <summary>Deletes rows (and quarantined rows) spooled before <paramref name="createdBeforeUtcTicks"/> (embedded-store retention).</summary>
    public (long Records, long Lines) DeleteOlderThan(long createdBeforeUtcTicks)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using (var q = _connection.CreateCommand())
            {
                q.CommandText = "DELETE FROM quarantine WHERE quarantined < $c;";
                q.Parameters.AddWithValue("$c", createdBeforeUtcTicks);
                if (q.ExecuteNonQuery() > 0)
                {
                    RecountLocked();
                }
            }

            // Rows are appended in time order: the boundary is the first row young enough to keep.
            long boundary;
            using (var cmd = _connection.CreateCommand())
            {
                cmd.CommandText = "SELECT id FROM records WHERE created >= $c ORDER BY id LIMIT 1;";
                cmd.Parameters.AddWithValue("$c", createdBeforeUtcTicks);
                boundary = cmd.ExecuteScalar() is long id ? id : long.MaxValue;
            }

            long records, lines, alertLines, bytes;
            using (var sum = _connection.CreateCommand())
            {
                sum.CommandText = "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(CASE WHEN kind = 1 THEN lines ELSE 0 END), 0), coalesce(sum(length(data)), 0) FROM records WHERE id < $b;";
                sum.Parameters.AddWithValue("$b", boundary);
                using var reader = sum.ExecuteReader();
                reader.Read();
                (records, lines, alertLines, bytes) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            }

            if (records == 0)
            {
                return (0, 0);
            }

            using (var delete = _connection.CreateCommand())
            {
                delete.CommandText = "DELETE FROM records WHERE id < $b;";
                delete.Parameters.AddWithValue("$b", boundary);
                delete.ExecuteNonQuery();
            }

            _records -= records;
            _lines -= lines;
            _alertLines -= alertLines;
            _bytes -= bytes;
            _oldestCreated = -1;
            return (records, lines);
        }
    }

    public SpoolStatistics GetStatistics()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return new SpoolStatistics(0, 0, 0, 0, 0, 0, 0);
            }

            if (_oldestCreated < 0)
            {
                using var cmd = _connection.CreateCommand();
                cmd.CommandText = "SELECT created FROM records ORDER BY id LIMIT 1;";
                _oldestCreated = cmd.ExecuteScalar() is long created ? created : 0;
            }

            return new SpoolStatistics(_records, _lines, _alertLines, _bytes, _oldestCreated, _quarantinedRecords, _quarantinedLines);
        }
    }

    /// <summary>Size of the database file and its WAL on disk.</summary>
    public long FileBytes
    {
        get
        {
            long size = 0;
            foreach (var f in (string[])[Path, Path + "-wal"])
            {
                var info = new FileInfo(f);
                if (info.Exists)
                {
                    size += info.Length;
                }
            }

            return size;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                // A clean close checkpoints the WAL into the database.
                Execute("PRAGMA wal_checkpoint(TRUNCATE);");
            }
            catch (SqliteException)
            {
                // Best effort.
            }

            CloseConnection();
        }
    }

    private void CloseConnection()
    {
        _insert?.Dispose();
        _deleteOne?.Dispose();
        _connection?.Dispose();
    }

    private void RecountLocked()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(CASE WHEN kind = 1 THEN lines ELSE 0 END), 0), coalesce(sum(length(data)), 0) FROM records;
            SELECT count(*), coalesce(sum(lines), 0) FROM quarantine;
            """;
        using var reader = cmd.ExecuteReader();
        reader.Read();
        _records = reader.GetInt64(0);
        _lines = reader.GetInt64(1);
        _alertLines = reader.GetInt64(2);
        _bytes = reader.GetInt64(3);
        reader.NextResult();
        reader.Read();
        _quarantinedRecords = reader.GetInt64(0);
        _quarantinedLines = reader.GetInt64(1);
        _oldestCreated = -1;
    }

    private void Subtract(IReadOnlyList<SpoolRow> rows)
    {
        foreach (var row in rows)
        {
            _records--;
            _lines -= row.Lines;
            if (row.Kind == RecordKind.Alert)
            {
                _alertLines -= row.Lines;
            }

            _bytes -= row.StoredBytes;
        }

        _oldestCreated = -1;
    }

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream(Math.Max(256, data.Length / 4));
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Error, Message = "Telemetry spool {Path} is corrupt ({Reason}); it was moved to {Aside} and a new spool was created. The service keeps running; the old file can be inspected with sqlite3")]
    private static partial void LogCorrupt(ILogger logger, string path, string reason, string aside);
}

/// <summary>The spool's contents are damaged (a check failed, a row cannot be read).</summary>
public sealed class SpoolCorruptException : Exception
{
    public SpoolCorruptException()
    {
    }

    public SpoolCorruptException(string message)
        : base(message)
    {
    }

    public SpoolCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
