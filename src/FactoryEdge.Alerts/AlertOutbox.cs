using FactoryEdge.Core;
using Microsoft.Data.Sqlite;

namespace FactoryEdge.Alerts;

/// <summary>An alert waiting for one notifier. Key: notifier, alert id, state.</summary>
public sealed record OutboxEntry(string Notifier, string AlertId, AlertState State, byte[] Payload, long CreatedUtcTicks, int Attempts, long NextDueUtcTicks);

/// <summary>Keeps alerts until a notifier has delivered them. Thread-safe.</summary>
public interface IAlertOutbox : IDisposable
{
    /// <summary>Stores an entry; an existing one with the same key is kept (its attempts count too).</summary>
    void Add(OutboxEntry entry);

    void Remove(string notifier, string alertId, AlertState state);

    /// <summary>Entries of <paramref name="notifier"/> due at <paramref name="nowUtcTicks"/>, oldest first.</summary>
    IReadOnlyList<OutboxEntry> Due(string notifier, long nowUtcTicks, int max);

    void Reschedule(string notifier, string alertId, AlertState state, int attempts, long nextDueUtcTicks);

    int Count(string notifier);
}

/// <summary>Outbox in memory (no <c>OutboxPath</c>): survives broker outages, not restarts.</summary>
public sealed class InMemoryAlertOutbox : IAlertOutbox
{
    private readonly Lock _lock = new();
    private readonly List<OutboxEntry> _entries = [];

    public void Add(OutboxEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            if (_entries.FindIndex(e => Same(e, entry.Notifier, entry.AlertId, entry.State)) < 0)
            {
                _entries.Add(entry);
            }
        }
    }

    public void Remove(string notifier, string alertId, AlertState state)
    {
        lock (_lock)
        {
            _entries.RemoveAll(e => Same(e, notifier, alertId, state));
        }
    }

    public IReadOnlyList<OutboxEntry> Due(string notifier, long nowUtcTicks, int max)
    {
        lock (_lock)
        {
            return [.. _entries.Where(e => e.Notifier == notifier && e.NextDueUtcTicks <= nowUtcTicks).OrderBy(e => e.CreatedUtcTicks).Take(max)];
        }
    }

    public void Reschedule(string notifier, string alertId, AlertState state, int attempts, long nextDueUtcTicks)
    {
        lock (_lock)
        {
            var i = _entries.FindIndex(e => Same(e, notifier, alertId, state));
            if (i >= 0)
            {
                _entries[i] = _entries[i] with { Attempts = attempts, NextDueUtcTicks = nextDueUtcTicks };
            }
        }
    }

    public int Count(string notifier)
    {
        lock (_lock)
        {
            return _entries.Count(e => e.Notifier == notifier);
        }
    }

    public void Dispose()
    {
    }

    private static bool Same(OutboxEntry e, string notifier, string alertId, AlertState state) =>
        e.Notifier == notifier && e.AlertId == alertId && e.State == state;
}

/// <summary>Outbox in a SQLite file (WAL): alerts outlive broker outages and restarts of the gateway.</summary>
public sealed class SqliteAlertOutbox : IAlertOutbox
{
    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;

    public SqliteAlertOutbox(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        Path = path;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS alert_outbox (
              notifier TEXT NOT NULL, alert_id TEXT NOT NULL, state INTEGER NOT NULL,
              payload BLOB NOT NULL, created INTEGER NOT NULL, attempts INTEGER NOT NULL, next_due INTEGER NOT NULL,
              PRIMARY KEY (notifier, alert_id, state));
            CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (notifier, next_due);
            """);
    }

    public string Path { get; }

    public void Add(OutboxEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO alert_outbox VALUES ($n, $a, $s, $p, $c, $t, $d);";
            command.Parameters.AddWithValue("$n", entry.Notifier);
            command.Parameters.AddWithValue("$a", entry.AlertId);
            command.Parameters.AddWithValue("$s", (int)entry.State);
            command.Parameters.AddWithValue("$p", entry.Payload);
            command.Parameters.AddWithValue("$c", entry.CreatedUtcTicks);
            command.Parameters.AddWithValue("$t", entry.Attempts);
            command.Parameters.AddWithValue("$d", entry.NextDueUtcTicks);
            command.ExecuteNonQuery();
        }
    }

    public void Remove(string notifier, string alertId, AlertState state)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM alert_outbox WHERE notifier = $n AND alert_id = $a AND state = $s;";
            command.Parameters.AddWithValue("$n", notifier);
            command.Parameters.AddWithValue("$a", alertId);
            command.Parameters.AddWithValue("$s", (int)state);
            command.ExecuteNonQuery();
        }
    }

    public IReadOnlyList<OutboxEntry> Due(string notifier, long nowUtcTicks, int max)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT alert_id, state, payload, created, attempts, next_due FROM alert_outbox
                WHERE notifier = $n AND next_due <= $now ORDER BY created, rowid LIMIT $max;
                """;
            command.Parameters.AddWithValue("$n", notifier);
            command.Parameters.AddWithValue("$now", nowUtcTicks);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var result = new List<OutboxEntry>();
            while (reader.Read())
            {
                result.Add(new OutboxEntry(notifier, reader.GetString(0), (AlertState)reader.GetInt32(1), (byte[])reader.GetValue(2),
                    reader.GetInt64(3), reader.GetInt32(4), reader.GetInt64(5)));
            }

            return result;
        }
    }

    public void Reschedule(string notifier, string alertId, AlertState state, int attempts, long nextDueUtcTicks)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE alert_outbox SET attempts = $t, next_due = $d WHERE notifier = $n AND alert_id = $a AND state = $s;";
            command.Parameters.AddWithValue("$n", notifier);
            command.Parameters.AddWithValue("$a", alertId);
            command.Parameters.AddWithValue("$s", (int)state);
            command.Parameters.AddWithValue("$t", attempts);
            command.Parameters.AddWithValue("$d", nextDueUtcTicks);
            command.ExecuteNonQuery();
        }
    }

    public int Count(string notifier)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM alert_outbox WHERE notifier = $n;";
            command.Parameters.AddWithValue("$n", notifier);
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _connection.Dispose();
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
