using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>
/// The audit log of operator actions: one JSON object per line, appended and flushed to disk before
/// the action is answered (accepted or refused). The newest entries are also kept in memory; at start
/// the tail of an existing file is read back, so <see cref="Recent"/> survives a restart.
/// Line format: <c>{"time":"…","user":"…","source":"mqtt","action":"acknowledge","target":"…","succeeded":true,"detail":"…"}</c>.
/// </summary>
public sealed class AlarmAuditLog : IDisposable
{
    private const int KeepInMemory = 10_000;
    private readonly Lock _lock = new();
    private readonly LinkedList<AuditEntry> _recent = new();
    private readonly FileStream? _file;

    /// <param name="path">The file; null or empty keeps the log in memory only.</param>
    public AlarmAuditLog(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        Path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (File.Exists(Path))
        {
            foreach (var line in File.ReadLines(Path))
            {
                if (TryParse(line, out var entry))
                {
                    _recent.AddFirst(entry);
                    if (_recent.Count > KeepInMemory)
                    {
                        _recent.RemoveLast();
                    }
                }
            }
        }

        _file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.None);
    }

    /// <summary>The file, or null when the log is in memory only.</summary>
    public string? Path { get; }

    /// <summary>Appends one entry (and flushes it to disk).</summary>
    public void Append(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var line = Serialize(entry);
        lock (_lock)
        {
            if (_file is not null)
            {
                _file.Write(line);
                _file.WriteByte((byte)'\n');
                _file.Flush(flushToDisk: true);
            }

            _recent.AddFirst(entry);
            if (_recent.Count > KeepInMemory)
            {
                _recent.RemoveLast();
            }
        }
    }

    /// <summary>The newest entries, newest first.</summary>
    public IReadOnlyList<AuditEntry> Recent(int max)
    {
        lock (_lock)
        {
            return [.. _recent.Take(Math.Max(0, max))];
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Dispose();
        }
    }

    public static byte[] Serialize(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", entry.Time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("user", entry.User);
            w.WriteString("source", SourceName(entry.Source));
            w.WriteString("action", entry.Action);
            w.WriteString("target", entry.Target);
            w.WriteBoolean("succeeded", entry.Succeeded);
            w.WriteString("detail", entry.Detail);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static bool TryParse(string line, out AuditEntry entry)
    {
        entry = null!;
        if (string.IsNullOrWhiteSpace(line))
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            entry = new AuditEntry(
                DateTimeOffset.Parse(r.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                r.GetProperty("user").GetString() ?? "",
                ParseSource(r.GetProperty("source").GetString()),
                r.GetProperty("action").GetString() ?? "",
                r.GetProperty("target").GetString() ?? "",
                r.GetProperty("succeeded").GetBoolean(),
                r.GetProperty("detail").GetString() ?? "");
            return true;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            // A torn last line after a crash: skipped.
            return false;
        }
    }

    public static string SourceName(AlarmActionSource source) => source switch
    {
        AlarmActionSource.Mqtt => "mqtt",
        AlarmActionSource.Http => "http",
        AlarmActionSource.Dashboard => "dashboard",
        AlarmActionSource.Cli => "cli",
        AlarmActionSource.System => "system",
        _ => "unknown",
    };

    private static AlarmActionSource ParseSource(string? text) => text switch
    {
        "mqtt" => AlarmActionSource.Mqtt,
        "http" => AlarmActionSource.Http,
        "dashboard" => AlarmActionSource.Dashboard,
        "cli" => AlarmActionSource.Cli,
        _ => AlarmActionSource.System,
    };
}
