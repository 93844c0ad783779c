using System.Globalization;
using System.IO.Compression;
using System.Text;
using FactoryEdge.Telemetry.LineProtocol;
using Microsoft.Data.Sqlite;

namespace FactoryEdge.Telemetry.Spool;

/// <summary>
/// Reads stored rows of the embedded store (a connection from <see cref="SqliteSpool.OpenReadOnly"/>)
/// and filters their lines cheaply before parsing: the one read path of the <c>telemetry</c> CLI verbs
/// and of <see cref="TelemetryHistory"/>.
/// </summary>
internal static class SpoolReader
{
    /// <summary>Rows whose point-time range overlaps [<paramref name="fromTicks"/>, <paramref name="toTicks"/>] (UTC ticks), by id.</summary>
    public static IEnumerable<StoredRow> ReadRows(SqliteConnection connection, bool descending, long afterId, long fromTicks, long toTicks)
    {
        using var cmd = connection.CreateCommand();
        var where = new StringBuilder("id > $after");
        if (fromTicks != long.MinValue || toTicks != long.MaxValue)
        {
            // Point-time range per precision (rows keep the precision they were written with).
            where.Append(" AND (");
            var first = true;
            foreach (var p in Enum.GetValues<TimestampPrecision>())
            {
                var from = fromTicks == long.MinValue || !TelemetrySchema.TryTimestamp(fromTicks, p, out var f) ? long.MinValue : f;
                var to = toTicks == long.MaxValue ? long.MaxValue : TelemetrySchema.TryTimestamp(toTicks, p, out var t) ? t : -1;
                where.Append(first ? "" : " OR ").Append(CultureInfo.InvariantCulture, $"(precision = {(int)p} AND last_time >= {from} AND first_time <= {to})");
                first = false;
            }

            where.Append(')');
        }

        cmd.CommandText = $"SELECT id, kind, created, precision, encoding, data FROM records WHERE {where} ORDER BY id {(descending ? "DESC" : "ASC")};";
        cmd.Parameters.AddWithValue("$after", afterId);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var data = (byte[])reader["data"];
            if (reader.GetInt32(4) == 1)
            {
                data = Decompress(data);
            }

            yield return new StoredRow(reader.GetInt64(0), (RecordKind)reader.GetInt32(1), reader.GetInt64(2), (TimestampPrecision)reader.GetInt32(3), data);
        }
    }

    public static byte[] Decompress(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream(data.Length * 4);
        input.CopyTo(output);
        return output.ToArray();
    }

    public sealed record StoredRow(long Id, RecordKind Kind, long Created, TimestampPrecision Precision, byte[] Data)
    {
        public void ForEachLine(LineProtocolParser.LineAction action) => LineProtocolParser.ForEachLine(Data, action);
    }

    /// <summary>Cheap filters on the raw line before parsing it.</summary>
    public sealed class LineFilter
    {
        private readonly byte[]? _measurement;
        private readonly byte[]? _machine;
        private readonly byte[]? _sensor;
        private readonly byte[]? _axis;
        private readonly long _from;
        private readonly long _to;

        public LineFilter(string? measurement, string? machine, string? sensor, string? axis, long fromTicks, long toTicks)
        {
            _measurement = string.IsNullOrEmpty(measurement) ? null : LineProtocolWriter.EscapeMeasurement(measurement);
            _machine = Tag("machine", machine);
            _sensor = Tag("sensor", sensor);
            _axis = Tag("axis", axis);
            _from = fromTicks;
            _to = toTicks;
        }

        public bool Matches(ReadOnlySpan<byte> line, TimestampPrecision precision)
        {
            if (_measurement is not null && !LineProtocolParser.MeasurementOf(line).SequenceEqual(_measurement))
            {
                return false;
            }

            var series = SeriesOf(line);
            if (!HasTag(series, _machine) || !HasTag(series, _sensor) || !HasTag(series, _axis))
            {
                return false;
            }

            if (_from != long.MinValue || _to != long.MaxValue)
            {
                var ts = LineProtocolParser.TimestampOf(line);
                if (ts < 0)
                {
                    return false;
                }

                var ticks = TelemetrySchema.ToUtcTicks(ts, precision);
                return ticks >= _from && ticks <= _to;
            }

            return true;
        }

        private static byte[]? Tag(string key, string? value) =>
            string.IsNullOrEmpty(value) ? null : [.. ","u8, .. LineProtocolWriter.EscapeKey(key), .. "="u8, .. LineProtocolWriter.EscapeKey(value)];

        private static bool HasTag(ReadOnlySpan<byte> series, byte[]? tag)
        {
            if (tag is null)
            {
                return true;
            }

            var at = series.IndexOf(tag);
            // The tag must end at a separator (",machine=pump-1" must not match ",machine=pump-10").
            return at >= 0 && (at + tag.Length == series.Length || series[at + tag.Length] == (byte)',');
        }

        private static ReadOnlySpan<byte> SeriesOf(ReadOnlySpan<byte> line)
        {
            for (var i = 0; i < line.Length; i++)
            {
                if (line[i] == (byte)'\\')
                {
                    i++;
                    continue;
                }

                if (line[i] == (byte)' ')
                {
                    return line[..i];
                }
            }

            return line;
        }
    }
}
