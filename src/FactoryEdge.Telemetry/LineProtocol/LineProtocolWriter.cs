using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace FactoryEdge.Telemetry.LineProtocol;

/// <summary>
/// Writes InfluxDB line protocol straight into a growable pooled UTF-8 buffer: no per-point objects,
/// no strings. Keys and tag sets that repeat (measurement, tags of a channel, field names) are escaped
/// once into byte arrays (<see cref="EscapeKey"/>, <see cref="EscapeMeasurement"/>) and copied.
/// A line is begun, given fields, and ended with a timestamp; a line that got no field (every value
/// was NaN or infinite, which line protocol cannot carry) is rolled back.
/// </summary>
public sealed class LineProtocolWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int _lineStart = -1;
    private int _fieldsInLine;

    public LineProtocolWriter(int initialCapacity = 64 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, initialCapacity));
    }

    /// <summary>Complete lines written (each ends with '\n').</summary>
    public int Lines { get; private set; }

    /// <summary>Bytes of complete lines.</summary>
    public int Length => _lineStart >= 0 ? _lineStart : _length;

    /// <summary>The complete lines written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    /// <summary>True while a line has been begun and not yet ended.</summary>
    public bool InLine => _lineStart >= 0;

    public void Clear()
    {
        _length = 0;
        _lineStart = -1;
        _fieldsInLine = 0;
        Lines = 0;
    }

    /// <summary>Begins a line with a pre-escaped measurement and tag set (<c>name,tag=value,...</c>).</summary>
    public void BeginLine(ReadOnlySpan<byte> escapedSeries)
    {
        if (_lineStart >= 0)
        {
            throw new InvalidOperationException("The previous line was not ended.");
        }

        _lineStart = _length;
        _fieldsInLine = 0;
        Append(escapedSeries);
    }

    /// <summary>Begins a line with a measurement name (escaped here).</summary>
    public void BeginLine(string measurement)
    {
        if (_lineStart >= 0)
        {
            throw new InvalidOperationException("The previous line was not ended.");
        }

        _lineStart = _length;
        _fieldsInLine = 0;
        AppendEscaped(measurement, EscapeKind.Measurement);
    }

    /// <summary>Adds a tag (escaped here). Empty values are skipped: line protocol has no empty tags.</summary>
    public void Tag(string key, string? value)
    {
        EnsureInLine();
        if (_fieldsInLine > 0)
        {
            throw new InvalidOperationException("Tags come before fields.");
        }

        if (string.IsNullOrEmpty(value) || string.IsNullOrEmpty(key))
        {
            return;
        }

        AppendByte((byte)',');
        AppendEscaped(key, EscapeKind.Key);
        AppendByte((byte)'=');
        AppendEscaped(value, EscapeKind.Key);
    }

    /// <summary>A float field; NaN and infinities are skipped (line protocol cannot carry them).</summary>
    public void Field(ReadOnlySpan<byte> escapedKey, float value)
    {
        if (!float.IsFinite(value))
        {
            return;
        }

        FieldKey(escapedKey);
        Span<byte> span = GetSpan(32);
        if (!value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Cannot format a float.");
        }

        _length += written;
    }

    /// <summary>A float field; NaN and infinities are skipped.</summary>
    public void Field(ReadOnlySpan<byte> escapedKey, double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }

        FieldKey(escapedKey);
        Span<byte> span = GetSpan(32);
        if (!value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Cannot format a double.");
        }

        _length += written;
    }

    /// <summary>An integer field (<c>123i</c>).</summary>
    public void Field(ReadOnlySpan<byte> escapedKey, long value)
    {
        FieldKey(escapedKey);
        Span<byte> span = GetSpan(24);
        Utf8Formatter.TryFormat(value, span, out var written);
        span[written] = (byte)'i';
        _length += written + 1;
    }

    public void Field(ReadOnlySpan<byte> escapedKey, bool value)
    {
        FieldKey(escapedKey);
        Append(value ? "true"u8 : "false"u8);
    }

    /// <summary>A string field (quotes and backslashes escaped; line breaks become spaces).</summary>
    public void Field(ReadOnlySpan<byte> escapedKey, string? value)
    {
        if (value is null)
        {
            return;
        }

        FieldKey(escapedKey);
        AppendByte((byte)'"');
        AppendEscaped(value, EscapeKind.StringValue);
        AppendByte((byte)'"');
    }

    public void Field(string key, float value) => Field(EscapeKey(key), value);

    public void Field(string key, double value) => Field(EscapeKey(key), value);

    public void Field(string key, long value) => Field(EscapeKey(key), value);

    public void Field(string key, bool value) => Field(EscapeKey(key), value);

    public void Field(string key, string? value) => Field(EscapeKey(key), value);

    /// <summary>Ends the line with a timestamp (in the writer's precision). Returns false when the line had no field and was dropped.</summary>
    public bool EndLine(long timestamp)
    {
        EnsureInLine();
        if (_fieldsInLine == 0)
        {
            _length = _lineStart;
            _lineStart = -1;
            return false;
        }

        Span<byte> span = GetSpan(24);
        span[0] = (byte)' ';
        Utf8Formatter.TryFormat(timestamp, span[1..], out var written);
        span[1 + written] = (byte)'\n';
        _length += written + 2;
        _lineStart = -1;
        Lines++;
        return true;
    }

    /// <summary>Drops the line begun (if any).</summary>
    public void CancelLine()
    {
        if (_lineStart >= 0)
        {
            _length = _lineStart;
            _lineStart = -1;
        }
    }

    /// <summary>Appends complete lines written elsewhere (each ending with '\n').</summary>
    public void AppendLines(ReadOnlySpan<byte> lines, int count)
    {
        if (_lineStart >= 0)
        {
            throw new InvalidOperationException("A line is open.");
        }

        Append(lines);
        Lines += count;
    }

    /// <summary>Room for <paramref name="sizeHint"/> raw bytes of complete lines (then <see cref="Advance"/>).</summary>
    internal Span<byte> GetRawSpan(int sizeHint)
    {
        if (_lineStart >= 0)
        {
            throw new InvalidOperationException("A line is open.");
        }

        return GetSpan(Math.Max(1, sizeHint));
    }

    /// <summary>Commits raw bytes written into <see cref="GetRawSpan"/>.</summary>
    internal void Advance(int bytes) => _length += bytes;

    /// <summary>Counts lines appended through <see cref="GetRawSpan"/>.</summary>
    internal void AddLines(int count) => Lines += count;

    /// <summary>Drops everything from <paramref name="length"/> on (to undo a partial raw append).</summary>
    internal void Truncate(int length, int lines)
    {
        _length = length;
        Lines = lines;
        _lineStart = -1;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Escapes a tag key, tag value or field key (commas, equals signs, spaces).</summary>
    public static byte[] EscapeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var writer = new LineProtocolWriter(256);
        writer.AppendEscaped(key, EscapeKind.Key);
        return writer._buffer.AsSpan(0, writer._length).ToArray();
    }

    /// <summary>Escapes a measurement name (commas and spaces).</summary>
    public static byte[] EscapeMeasurement(string measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        using var writer = new LineProtocolWriter(256);
        writer.AppendEscaped(measurement, EscapeKind.Measurement);
        return writer._buffer.AsSpan(0, writer._length).ToArray();
    }

    /// <summary>Builds the escaped series prefix <c>measurement,k1=v1,k2=v2</c> (empty values skipped).</summary>
    public static byte[] Series(string measurement, params ReadOnlySpan<KeyValuePair<string, string?>> tags)
    {
        using var writer = new LineProtocolWriter(512);
        writer.BeginLine(measurement);
        foreach (var tag in tags)
        {
            writer.Tag(tag.Key, tag.Value);
        }

        return writer._buffer.AsSpan(writer._lineStart, writer._length - writer._lineStart).ToArray();
    }

    private void FieldKey(ReadOnlySpan<byte> escapedKey)
    {
        EnsureInLine();
        AppendByte(_fieldsInLine == 0 ? (byte)' ' : (byte)',');
        Append(escapedKey);
        AppendByte((byte)'=');
        _fieldsInLine++;
    }

    private void EnsureInLine()
    {
        if (_lineStart < 0)
        {
            throw new InvalidOperationException("BeginLine first.");
        }
    }

    private enum EscapeKind
    {
        Measurement,
        Key,
        StringValue,
    }

    private void AppendEscaped(string text, EscapeKind kind)
    {
        // Worst case: every char escaped and 3 UTF-8 bytes each.
        var span = GetSpan((text.Length * 4) + 4);
        var n = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var c = rune.Value;
            if (c is '\n' or '\r' or '\t')
            {
                // No line protocol element may hold a line break; tabs would read as separators.
                span[n++] = (byte)' ';
                if (kind != EscapeKind.StringValue)
                {
                    span[n - 1] = (byte)'_';
                }

                continue;
            }

            var escape = kind switch
            {
                EscapeKind.Measurement => c is ',' or ' ',
                EscapeKind.Key => c is ',' or '=' or ' ',
                _ => c is '"' or '\\',
            };
            if (escape)
            {
                span[n++] = (byte)'\\';
            }

            n += rune.EncodeToUtf8(span[n..]);
        }

        if (kind == EscapeKind.Key && n > 0 && span[n - 1] == (byte)'\\' && (n < 2 || span[n - 2] != (byte)'\\'))
        {
            // A trailing backslash would escape the separator that follows.
            span[n++] = (byte)'\\';
        }

        _length += n;
    }

    private Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(_length);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    private void AppendByte(byte b)
    {
        if (_length == _buffer.Length)
        {
            Grow(1);
        }

        _buffer[_length++] = b;
    }

    private void Grow(int size)
    {
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
        _buffer.AsSpan(0, _length).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }

    /// <summary>Line protocol text of the complete lines (for logs of small batches and for tests).</summary>
    public override string ToString() => Encoding.UTF8.GetString(WrittenSpan);
}
