using System.Buffers;
using System.Globalization;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Recordings;

/// <summary>
/// Reads the recording text format: line 1 <c># key=value key=value …</c>, then one value per line.
/// Span-based over UTF-8 bytes: no allocation per line.
/// </summary>
internal static class CsvRecordingReader
{
    private const int InitialBufferSize = 64 * 1024;
    private const int MaxLineLength = 1024 * 1024;

    public static Recording Read(Stream stream, string name, RecordingReadOptions options)
    {
        options.Validate();
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        try
        {
            return Parse(stream, name, options, ref buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Recording Parse(Stream stream, string name, RecordingReadOptions options, ref byte[] buffer)
    {
        Dictionary<string, string>? header = null;
        var samples = Array.Empty<float>();
        var count = 0;
        long lineNumber = 0;
        long firstBlankLine = 0;
        var start = 0;
        var end = 0;
        var endOfStream = false;
        var scale = options.Scale;

        while (true)
        {
            ReadOnlySpan<byte> line;
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = buffer.AsSpan(start, newline);
                start += newline + 1;
            }
            else if (!endOfStream)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    if (buffer.Length >= MaxLineLength)
                    {
                        throw new RecordingFormatException(name, lineNumber + 1, $"line is longer than {MaxLineLength} bytes (not a recording text file?)");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, end);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = stream.Read(buffer, end, buffer.Length - end);
                if (read == 0)
                {
                    endOfStream = true;
                }
                else
                {
                    end += read;
                }

                continue;
            }
            else if (start < end)
            {
                line = buffer.AsSpan(start, end - start);
                start = end;
            }
            else
            {
                break;
            }

            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }

            line = line.Trim(" \t\r"u8);
            if (line.IsEmpty)
            {
                if (count > 0 && firstBlankLine == 0)
                {
                    firstBlankLine = lineNumber;
                }

                continue;
            }

            if (line[0] == (byte)'#')
            {
                if (lineNumber == 1)
                {
                    header = ParseHeader(name, line[1..]);
                    if (TryGetInt(header, "samples", out var declared) && declared is > 0 and < (1 << 30))
                    {
                        samples = new float[declared];
                    }
                }

                // Later '#' lines are comments.
                continue;
            }

            if (firstBlankLine != 0)
            {
                throw new RecordingFormatException(name, firstBlankLine, $"empty line inside the data (values follow on line {lineNumber})");
            }

            if (!TryParseValue(line, out var value))
            {
                throw new RecordingFormatException(name, lineNumber, $"'{Excerpt(line)}' is not a number (one value per line, invariant culture, '.' as decimal point)");
            }

            if (count == samples.Length)
            {
                Array.Resize(ref samples, Math.Max(64 * 1024, samples.Length * 2));
            }

            samples[count++] = (float)(value * scale);
        }

        return Build(name, options, header ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), samples, count);
    }

    private static Recording Build(string name, RecordingReadOptions options, Dictionary<string, string> header, float[] samples, int count)
    {
        var rate = options.SampleRateHz ?? HeaderRate(name, header);

        var unit = SignalUnit.G;
        if (options.Unit is { } givenUnit)
        {
            unit = givenUnit;
        }
        else if (header.TryGetValue("units", out var unitText) || header.TryGetValue("unit", out unitText))
        {
            if (!SignalUnits.TryParse(unitText, out unit))
            {
                throw new RecordingFormatException(name, 1, $"unknown unit '{unitText}'. Allowed: {SignalUnits.AllowedNames}");
            }
        }

        var shaftHz = options.NominalShaftHz ?? HeaderShaftHz(name, header);

        var bearing = options.Bearing;
        if (bearing is null && header.TryGetValue("bearing", out var bearingName) && BearingCatalog.TryGet(bearingName, out var known))
        {
            bearing = known;
        }

        var startTime = options.StartTime;
        if (startTime is null && header.TryGetValue("start_time", out var startText))
        {
            if (!DateTimeOffset.TryParse(startText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                throw new RecordingFormatException(name, 1, $"start_time '{startText}' is not an ISO 8601 date and time");
            }

            startTime = parsed;
        }

        if (TryGetInt(header, "samples", out var declared) && declared != count)
        {
            throw new RecordingFormatException(name, null, $"the header declares samples={declared} but the file holds {count} values (truncated or extended file)");
        }

        if (count == 0)
        {
            throw new RecordingFormatException(name, null, "the file holds no samples (only a header?)");
        }

        var sensor = options.SensorName
            ?? (header.TryGetValue("sensor", out var sensorName) && !string.IsNullOrWhiteSpace(sensorName) ? sensorName : null)
            ?? DefaultSensorName(name);
        var axis = options.ChannelAxes is { Count: > 0 } axes
            ? axes[0]
            : header.TryGetValue("axis", out var axisText) && !string.IsNullOrWhiteSpace(axisText) ? axisText : "x";
        if (options.ChannelAxes is { Count: > 1 })
        {
            throw new RecordingFormatException(name, null, $"the file has 1 channel but {options.ChannelAxes.Count} axis names were given");
        }

        var channel = new RecordingChannel(sensor, axis, unit, samples.AsMemory(0, count));
        return new Recording(name, rate, [channel], header)
        {
            NominalShaftHz = shaftHz,
            Bearing = bearing,
            StartTime = startTime,
        };
    }

    private static Dictionary<string, string> ParseHeader(string name, ReadOnlySpan<byte> utf8)
    {
        var header = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = Encoding.UTF8.GetString(utf8);
        foreach (var token in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new RecordingFormatException(name, 1, $"header token '{token}' is not key=value");
            }

            var key = token[..equals];
            if (!header.TryAdd(key, token[(equals + 1)..]))
            {
                throw new RecordingFormatException(name, 1, $"header key '{key}' appears twice");
            }
        }

        return header;
    }

    private static double HeaderRate(string name, Dictionary<string, string> header)
    {
        if (!header.TryGetValue("sampling_rate_hz", out var text))
        {
            throw new RecordingFormatException(name, 1, "the header has no sampling_rate_hz (line 1 must be '# sampling_rate_hz=RATE key=value …'), and no sample rate was given in the options");
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || !(rate > 0) || !double.IsFinite(rate))
        {
            throw new RecordingFormatException(name, 1, $"sampling_rate_hz '{text}' is not a positive number");
        }

        return rate;
    }

    private static double HeaderShaftHz(string name, Dictionary<string, string> header)
    {
        if (header.TryGetValue("rpm_measured", out var rpmText) || header.TryGetValue("rpm", out rpmText))
        {
            if (!double.TryParse(rpmText, NumberStyles.Float, CultureInfo.InvariantCulture, out var rpm) || !(rpm >= 0) || !double.IsFinite(rpm))
            {
                throw new RecordingFormatException(name, 1, $"rpm '{rpmText}' is not a non-negative number");
            }

            return rpm / 60.0;
        }

        if (header.TryGetValue("shaft_hz", out var hzText))
        {
            if (!double.TryParse(hzText, NumberStyles.Float, CultureInfo.InvariantCulture, out var hz) || !(hz >= 0) || !double.IsFinite(hz))
            {
                throw new RecordingFormatException(name, 1, $"shaft_hz '{hzText}' is not a non-negative number");
            }

            return hz;
        }

        return 0;
    }

    private static bool TryGetInt(Dictionary<string, string> header, string key, out int value)
    {
        value = 0;
        return header.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseValue(ReadOnlySpan<byte> utf8, out double value)
    {
        if (double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        // Spellings of non-finite values written by other tools (numpy, C printf): they load and are counted.
        if (Ascii.EqualsIgnoreCase(utf8, "nan"u8) || Ascii.EqualsIgnoreCase(utf8, "-nan"u8) || Ascii.EqualsIgnoreCase(utf8, "+nan"u8))
        {
            value = double.NaN;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(utf8, "inf"u8) || Ascii.EqualsIgnoreCase(utf8, "+inf"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(utf8, "-inf"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return false;
    }

    private static string Excerpt(ReadOnlySpan<byte> utf8)
    {
        const int MaxBytes = 60;
        var text = Encoding.UTF8.GetString(utf8.Length > MaxBytes ? utf8[..MaxBytes] : utf8);
        return utf8.Length > MaxBytes ? text + "…" : text;
    }

    internal static string DefaultSensorName(string name)
    {
        var stem = Path.GetFileNameWithoutExtension(name);
        return string.IsNullOrWhiteSpace(stem) ? "sensor" : stem;
    }
}
