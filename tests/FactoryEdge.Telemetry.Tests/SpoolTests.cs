using System.Text;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Spool;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Tests;

public sealed class SpoolTests
{
    private static byte[] Lines(int from, int count, int pad = 0)
    {
        var sb = new StringBuilder();
        for (var i = from; i < from + count; i++)
        {
            sb.Append("m,k=v f=").Append(i).Append("i,p=\"").Append('x', pad).Append("\" ").Append(i).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static List<string> ReadAll(SqliteSpool spool, RecordKind kind, List<SpoolRow>? rows = null)
    {
        using var batch = new LineProtocolWriter();
        rows ??= [];
        spool.ReadOldest(kind, 0, 1_000_000, batch, rows);
        return [.. batch.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    [Fact]
    public void Append_ThenReadOldest_OrderKeptAndCompressedRowsRestored()
    {
        using var dir = TestData.Temp();
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions());
        spool.Append(RecordKind.Telemetry, Lines(0, 3), 3, 0, 2, TimestampPrecision.Nanoseconds);
        spool.Append(RecordKind.Telemetry, Lines(3, 200, pad: 40), 200, 3, 202, TimestampPrecision.Nanoseconds); // > 4 KB: gzip
        spool.Append(RecordKind.Telemetry, Lines(203, 1), 1, 203, 203, TimestampPrecision.Nanoseconds);
        var lines = ReadAll(spool, RecordKind.Telemetry);
        Assert.Equal(204, lines.Count);
        Assert.Equal(Enumerable.Range(0, 204).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Select(l => l[(l.LastIndexOf(' ') + 1)..]));
        var stats = spool.GetStatistics();
        Assert.Equal(3, stats.Records);
        Assert.Equal(204, stats.Lines);
        Assert.True(stats.Bytes < Lines(0, 204, 40).Length, "the large row is stored compressed");
    }

    [Fact]
    public void ReadOldest_MaxLines_StopsAtRowBoundaryButTakesAtLeastOneRow()
    {
        using var dir = TestData.Temp();
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions());
        spool.Append(RecordKind.Telemetry, Lines(0, 10), 10, 0, 9, TimestampPrecision.Nanoseconds);
        spool.Append(RecordKind.Telemetry, Lines(10, 10), 10, 10, 19, TimestampPrecision.Nanoseconds);
        using var batch = new LineProtocolWriter();
        var rows = new List<SpoolRow>();
        spool.ReadOldest(RecordKind.Telemetry, 0, 5, batch, rows);
        Assert.Single(rows);
        Assert.Equal(10, batch.Lines);
        batch.Clear();
        rows.Clear();
        spool.ReadOldest(RecordKind.Telemetry, 0, 15, batch, rows);
        Assert.Single(rows);
    }

    [Fact]
    public void ReadOldest_MixedPrecisions_OneBatchPerPrecision()
    {
        using var dir = TestData.Temp();
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions());
        spool.Append(RecordKind.Telemetry, Lines(0, 1), 1, 0, 0, TimestampPrecision.Nanoseconds);
        spool.Append(RecordKind.Telemetry, Lines(1, 1), 1, 1, 1, TimestampPrecision.Milliseconds);
        using var batch = new LineProtocolWriter();
        var rows = new List<SpoolRow>();
        Assert.Equal(TimestampPrecision.Nanoseconds, spool.ReadOldest(RecordKind.Telemetry, 0, 100, batch, rows));
        Assert.Single(rows);
        spool.Delete(rows);
        rows.Clear();
        batch.Clear();
        Assert.Equal(TimestampPrecision.Milliseconds, spool.ReadOldest(RecordKind.Telemetry, 0, 100, batch, rows));
    }

    [Fact]
    public void Delete_AcknowledgedRows_GoneAndCountersFollow()
    {
        using var dir = TestData.Temp();
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions());
        spool.Append(RecordKind.Telemetry, Lines(0, 2), 2, 0, 1, TimestampPrecision.Nanoseconds);
        spool.Append(RecordKind.Alert, Lines(2, 1), 1, 2, 2, TimestampPrecision.Nanoseconds);
        var rows = new List<SpoolRow>();
        ReadAll(spool, RecordKind.Telemetry, rows);
        spool.Delete(rows);
        var stats = spool.GetStatistics();
        Assert.Equal(1, stats.Records);
        Assert.Equal(1, stats.Lines);
        Assert.Equal(1, stats.AlertLines);
        Assert.Empty(ReadAll(spool, RecordKind.Telemetry));
        Assert.Single(ReadAll(spool, RecordKind.Alert));
    }

    [Fact]
    public void Quarantine_RejectedRows_MovedOutOfTheQueueWithReason()
    {
        using var dir = TestData.Temp();
        using (var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions()))
        {
            spool.Append(RecordKind.Telemetry, Lines(0, 2), 2, 0, 1, TimestampPrecision.Nanoseconds);
            spool.Append(RecordKind.Telemetry, Lines(2, 2), 2, 2, 3, TimestampPrecision.Nanoseconds);
            var rows = new List<SpoolRow>();
            using var batch = new LineProtocolWriter();
            spool.ReadOldest(RecordKind.Telemetry, 0, 2, batch, rows);
            spool.Quarantine(rows, "HTTP 400: bad field");
            var stats = spool.GetStatistics();
            Assert.Equal(2, stats.Lines);
            Assert.Equal(2, stats.QuarantinedLines);
            Assert.Equal(["m,k=v f=2i,p=\"\" 2", "m,k=v f=3i,p=\"\" 3"], ReadAll(spool, RecordKind.Telemetry));
        }

        using var connection = SqliteSpool.OpenReadOnly(dir.File("s.db"));
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT reason FROM quarantine";
        Assert.Equal("HTTP 400: bad field", cmd.ExecuteScalar());
    }

    [Fact]
    public void EvictOldestTelemetry_OverCap_AlertsNeverEvicted()
    {
        using var dir = TestData.Temp();
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions { Compress = false });
        spool.Append(RecordKind.Alert, Lines(0, 1), 1, 0, 0, TimestampPrecision.Nanoseconds);
        for (var i = 1; i <= 20; i++)
        {
            spool.Append(RecordKind.Telemetry, Lines(i * 10, 10), 10, i * 10, (i * 10) + 9, TimestampPrecision.Nanoseconds);
        }

        spool.Append(RecordKind.Alert, Lines(999, 1), 1, 999, 999, TimestampPrecision.Nanoseconds);
        var rowBytes = Lines(10, 10).Length;
        var (records, lines) = spool.EvictOldestTelemetry(5L * rowBytes);
        Assert.True(records >= 15);
        Assert.Equal(records * 10, lines);
        var stats = spool.GetStatistics();
        Assert.True(stats.Bytes <= 5L * rowBytes);
        Assert.Equal(2, stats.AlertLines);
        var kept = ReadAll(spool, RecordKind.Telemetry);
        Assert.EndsWith(" 209", kept[^1], StringComparison.Ordinal); // the newest telemetry survives
        Assert.Equal(2, ReadAll(spool, RecordKind.Alert).Count);

        var (none, _) = spool.EvictOldestTelemetry(0);
        Assert.True(none > 0);
        Assert.Equal(2, spool.GetStatistics().AlertLines); // even at a cap of zero
    }

    [Fact]
    public void DeleteOlderThan_Retention_RemovesOnlyOldRows()
    {
        using var dir = TestData.Temp();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
        using var spool = SqliteSpool.Open(dir.File("s.db"), new SpoolOptions(), time);
        spool.Append(RecordKind.Telemetry, Lines(0, 5), 5, 0, 4, TimestampPrecision.Nanoseconds);
        time.Advance(TimeSpan.FromHours(2));
        spool.Append(RecordKind.Alert, Lines(5, 1), 1, 5, 5, TimestampPrecision.Nanoseconds);
        var (records, lines) = spool.DeleteOlderThan(time.GetUtcNow().AddHours(-1).UtcTicks);
        Assert.Equal(1, records);
        Assert.Equal(5, lines);
        Assert.Equal(1, spool.GetStatistics().Lines);
    }

    [Fact]
    public void Open_GarbageFile_MovedAsideWithErrorAndFreshSpoolWorks()
    {
        using var dir = TestData.Temp();
        var path = dir.File("s.db");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes(new string('#', 8192)));
        using var logs = new ListLoggerProvider();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        using var spool = SqliteSpool.Open(path, new SpoolOptions(), time, logs.CreateLogger("t"));
        Assert.NotNull(spool.CorruptMovedTo);
        Assert.EndsWith(".corrupt-20260501T120000Z", spool.CorruptMovedTo, StringComparison.Ordinal);
        Assert.True(File.Exists(spool.CorruptMovedTo));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("is corrupt", StringComparison.Ordinal) && e.Message.Contains(spool.CorruptMovedTo, StringComparison.Ordinal));
        spool.Append(RecordKind.Alert, Lines(0, 1), 1, 0, 0, TimestampPrecision.Nanoseconds);
        Assert.Single(ReadAll(spool, RecordKind.Alert));
    }

    [Fact]
    public void Open_DamagedPages_DetectedByCheckAndReplaced()
    {
        using var dir = TestData.Temp();
        var path = dir.File("s.db");
        using (var spool = SqliteSpool.Open(path, new SpoolOptions { Compress = false }))
        {
            for (var i = 0; i < 200; i++)
            {
                spool.Append(RecordKind.Telemetry, Lines(i * 10, 10, pad: 100), 10, 0, 0, TimestampPrecision.Nanoseconds);
            }
        }

        // Scribble over the middle of the file (b-tree pages), keeping the header valid.
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 64 * 1024);
        new Random(3).NextBytes(bytes.AsSpan(bytes.Length / 3, 12 * 1024));
        File.WriteAllBytes(path, bytes);
        SqliteConnection.ClearAllPools();

        using var reopened = SqliteSpool.Open(path, new SpoolOptions());
        Assert.NotNull(reopened.CorruptMovedTo);
        Assert.Equal(0, reopened.GetStatistics().Lines);
    }

    [Fact]
    public void Open_ReopenAfterAppend_CountsRecovered()
    {
        using var dir = TestData.Temp();
        var path = dir.File("s.db");
        using (var spool = SqliteSpool.Open(path, new SpoolOptions()))
        {
            spool.Append(RecordKind.Telemetry, Lines(0, 7), 7, 0, 6, TimestampPrecision.Nanoseconds);
            spool.Append(RecordKind.Alert, Lines(7, 1), 1, 7, 7, TimestampPrecision.Nanoseconds);
        }

        using var again = SqliteSpool.Open(path, new SpoolOptions());
        Assert.Null(again.CorruptMovedTo);
        var stats = again.GetStatistics();
        Assert.Equal(8, stats.Lines);
        Assert.Equal(1, stats.AlertLines);
    }

    [Fact]
    public void Open_WalModeAndSynchronous_AsConfigured()
    {
        using var dir = TestData.Temp();
        var path = dir.File("s.db");
        using var spool = SqliteSpool.Open(path, new SpoolOptions { Synchronous = "Full" });
        using var connection = SqliteSpool.OpenReadOnly(path);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", cmd.ExecuteScalar());
    }
}
