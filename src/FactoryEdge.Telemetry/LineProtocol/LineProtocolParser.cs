using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace FactoryEdge.Telemetry.LineProtocol;

/// <summary>A field value read back from line protocol.</summary>
public readonly record struct FieldValue(FieldType Type, double Number, long Integer, bool Boolean, string? Text)
{
    public override string ToString() => Type switch
    {
        FieldType.Float => Number.ToString("R", CultureInfo.InvariantCulture),
        FieldType.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        FieldType.Boolean => Boolean ? "true" : "false",
        _ => Text ?? "",
    };

    /// <summary>The value as a number (booleans 0/1; NaN for strings).</summary>
    public double AsDouble() => Type switch
    {
        FieldType.Float => Number,
        FieldType.Integer => Integer,
        FieldType.Boolean => Boolean ? 1 : 0,
        _ => double.NaN,
    };
}

public enum FieldType
{
    Float,
    Integer,
    Boolean,
    String,
}

/// <summary>One parsed line: measurement, tags, fields, timestamp.</summary>
public sealed record ParsedPoint(string Measurement, IReadOnlyList<KeyValuePair<string, string>> Tags, IReadOnlyList<KeyValuePair<string, FieldValue>> Fields, long Timestamp)
{
    public string? Tag(string key)
    {
        foreach (var t in Tags)
        {
            if (t.Key == key)
            {
                return t.Value;
            }
        }

        return null;
    }

    public FieldValue? Field(string key)
    {
        foreach (var f in Fields)
        {
            if (f.Key == key)
            {
                return f.Value;
            }
        }

        return null;
    }
}

/// <summary>
/// Reads line protocol back (the CLI's tail and query over the embedded store, and tests). Handles
/// the escapes <see cref="LineProtocolWriter"/> writes; not a hot path.
/// </summary>
public static class LineProtocolParser
{
    /// <summary>Cheap pre-filter: the measurement of a line without parsing the rest.</summary>
    public static ReadOnlySpan<byte> MeasurementOf(ReadOnlySpan<byte> line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == (byte)'\\')
            {
                i++;
                continue;
            }

            if (line[i] is (byte)',' or (byte)' ')
            {
                return line[..i];
            }
        }

        return line;
    }

    /// <summary>Splits a buffer of lines and calls <paramref name="onLine"/> for each non-empty one.</summary>
    public static void ForEachLine(ReadOnlySpan<byte> lines, LineAction onLine)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        while (lines.Length > 0)
        {
            var end = lines.IndexOf((byte)'\n');
            var line = end < 0 ? lines : lines[..end];
            if (line.Length > 0)
            {
                onLine(line);
            }

            lines = end < 0 ? default : lines[(end + 1)..];
        }
    }

    public delegate void LineAction(ReadOnlySpan<byte> line);

    public static ParsedPoint Parse(ReadOnlySpan<byte> line) => Parse(Encoding.UTF8.GetString(line));

    public static ParsedPoint Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var pos = 0;
        var seriesEnd = ScanUnescaped(line, pos, ' ', inQuotes: false);
        var series = line[..seriesEnd];
        var parts = SplitUnescaped(series, ',');
        var measurement = Unescape(parts[0]);
        var tags = new List<KeyValuePair<string, string>>(parts.Count - 1);
        for (var i = 1; i < parts.Count; i++)
        {
            var eq = ScanUnescaped(parts[i], 0, '=', inQuotes: false);
            tags.Add(new(Unescape(parts[i][..eq]), Unescape(parts[i][(eq + 1)..])));
        }

        pos = seriesEnd + 1;
        var fieldsEnd = ScanUnescaped(line, pos, ' ', inQuotes: true);
        var fieldText = line[pos..fieldsEnd];
        var fields = new List<KeyValuePair<string, FieldValue>>();
        var start = 0;
        while (start < fieldText.Length)
        {
            var end = ScanUnescaped(fieldText, start, ',', inQuotes: true);
            var item = fieldText[start..end];
            var eq = ScanUnescaped(item, 0, '=', inQuotes: false);
            fields.Add(new(Unescape(item[..eq]), ParseValue(item[(eq + 1)..])));
            start = end + 1;
        }

        long timestamp = 0;
        if (fieldsEnd < line.Length)
        {
            timestamp = long.Parse(line.AsSpan(fieldsEnd + 1).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        return new ParsedPoint(measurement, tags, fields, timestamp);
    }

    private static FieldValue ParseValue(string text)
    {
        if (text.Length >= 2 && text[0] == '"')
        {
            var sb = new StringBuilder(text.Length);
            for (var i = 1; i < text.Length - 1; i++)
            {
                if (text[i] == '\\' && i + 1 < text.Length - 1 && text[i + 1] is '"' or '\\')
                {
                    i++;
                }

                sb.Append(text[i]);
            }

            return new FieldValue(FieldType.String, double.NaN, 0, false, sb.ToString());
        }

        if (text is "t" or "T" or "true" or "True" or "TRUE")
        {
            return new FieldValue(FieldType.Boolean, 1, 1, true, null);
        }

        if (text is "f" or "F" or "false" or "False" or "FALSE")
        {
            return new FieldValue(FieldType.Boolean, 0, 0, false, null);
        }

        if (text.EndsWith('i') || text.EndsWith('u'))
        {
            var integer = long.Parse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return new FieldValue(FieldType.Integer, integer, integer, false, null);
        }

        var number = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new FieldValue(FieldType.Float, number, (long)number, false, null);
    }

    private static int ScanUnescaped(string text, int from, char separator, bool inQuotes)
    {
        var quoted = false;
        for (var i = from; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\')
            {
                i++;
                continue;
            }

            if (inQuotes && c == '"')
            {
                quoted = !quoted;
                continue;
            }

            if (!quoted && c == separator)
            {
                return i;
            }
        }

        return text.Length;
    }

    private static List<string> SplitUnescaped(string text, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        while (true)
        {
            var end = ScanUnescaped(text, start, separator, inQuotes: false);
            parts.Add(text[start..end]);
            if (end >= text.Length)
            {
                return parts;
            }

            start = end + 1;
        }
    }

    private static string Unescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is ',' or '=' or ' ' or '\\')
            {
                i++;
            }

            sb.Append(text[i]);
        }

        return sb.ToString();
    }

    /// <summary>Reads the timestamp at the end of a line without parsing it (−1 when absent).</summary>
    public static long TimestampOf(ReadOnlySpan<byte> line)
    {
        var space = line.LastIndexOf((byte)' ');
        if (space < 0 || !Utf8Parser.TryParse(line[(space + 1)..], out long value, out var consumed) || consumed != line.Length - space - 1)
        {
            return -1;
        }

        return value;
    }
}
