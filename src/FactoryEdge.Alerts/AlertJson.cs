using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>
/// The alert event payload (schema in docs/alerts.md): written with <see cref="Utf8JsonWriter"/> (no
/// reflection) and read back for redelivery from the outbox.
/// </summary>
public static class AlertJson
{
    /// <summary>Schema version carried in every event as <c>"schema"</c>.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Writes the event payload of <paramref name="alert"/>.</summary>
    public static byte[] Serialize(Alert alert, DateTimeOffset dispatched)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Write(buffer, alert, dispatched);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, Alert alert, DateTimeOffset dispatched)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        w.WriteNumber("schema", SchemaVersion);
        w.WriteString("alertId", alert.AlertId);
        w.WriteString("state", StateName(alert.State));
        w.WriteString("severity", SeverityName(alert.Severity));
        w.WriteString("site", alert.Channel.Site);
        w.WriteString("line", alert.Channel.Line);
        w.WriteString("machine", alert.Channel.Machine);
        w.WriteString("sensor", alert.Channel.Sensor);
        w.WriteString("axis", alert.Channel.Axis);
        w.WriteString("channel", alert.Channel.ToString());
        WriteFloat(w, "score", alert.Score);
        WriteFloat(w, "threshold", alert.Threshold);
        w.WriteString("modelId", alert.ModelId);
        w.WriteString("message", alert.Message);
        w.WriteStartArray("topFeatures");
        foreach (var feature in alert.TopFeatures)
        {
            w.WriteStartObject();
            w.WriteString("name", feature.Key);
            WriteFloat(w, "value", feature.Value);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (alert.Explanation is { } explanation)
        {
            w.WriteStartObject("explanation");
            w.WriteString("summary", explanation.Summary);
            w.WriteStartArray("drivers");
            foreach (var driver in explanation.Drivers)
            {
                w.WriteStartObject();
                w.WriteString("name", driver.Key);
                WriteDouble(w, "deviation", driver.Value);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("defect", explanation.Defect);
            if (explanation.DefectFrequencyHz is { } hz && double.IsFinite(hz))
            {
                w.WriteNumber("defectFrequencyHz", hz);
            }
            else
            {
                w.WriteNull("defectFrequencyHz");
            }

            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("explanation");
        }

        w.WriteString("isoZone", alert.IsoZone == IsoZone.None ? null : alert.IsoZone.ToString());
        w.WriteStartObject("timestamps");
        w.WriteString("source", alert.SourceTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        WriteTime(w, "windowComplete", alert.WindowCompleteTime);
        WriteTime(w, "scored", alert.ScoredTime);
        w.WriteString("dispatched", dispatched.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        w.WriteNumber("processingLatencyMicroseconds", Math.Round(alert.ProcessingLatencyMicroseconds, 1));
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>Reads an event payload back into an <see cref="Alert"/> (for redelivery).</summary>
    public static Alert Deserialize(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var features = new List<KeyValuePair<string, float>>();
        foreach (var feature in root.GetProperty("topFeatures").EnumerateArray())
        {
            features.Add(new(feature.GetProperty("name").GetString()!, ReadFloat(feature.GetProperty("value"))));
        }

        AlertExplanation? explanation = null;
        if (root.TryGetProperty("explanation", out var e) && e.ValueKind == JsonValueKind.Object)
        {
            var drivers = new List<KeyValuePair<string, double>>();
            foreach (var driver in e.GetProperty("drivers").EnumerateArray())
            {
                var deviation = driver.GetProperty("deviation");
                drivers.Add(new(driver.GetProperty("name").GetString()!, deviation.ValueKind == JsonValueKind.Null ? double.NaN : deviation.GetDouble()));
            }

            var hz = e.GetProperty("defectFrequencyHz");
            explanation = new AlertExplanation(e.GetProperty("summary").GetString()!, drivers, e.GetProperty("defect").GetString(),
                hz.ValueKind == JsonValueKind.Null ? null : hz.GetDouble());
        }

        var timestamps = root.GetProperty("timestamps");
        return new Alert
        {
            AlertId = root.GetProperty("alertId").GetString()!,
            Channel = new ChannelId(
                root.GetProperty("site").GetString()!,
                root.GetProperty("line").GetString()!,
                root.GetProperty("machine").GetString()!,
                root.GetProperty("sensor").GetString()!,
                root.GetProperty("axis").GetString()!),
            State = ParseState(root.GetProperty("state").GetString()),
            Severity = ParseSeverity(root.GetProperty("severity").GetString()),
            SourceTime = DateTimeOffset.Parse(timestamps.GetProperty("source").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Score = ReadFloat(root.GetProperty("score")),
            Threshold = ReadFloat(root.GetProperty("threshold")),
            ModelId = root.GetProperty("modelId").GetString()!,
            Message = root.GetProperty("message").GetString()!,
            TopFeatures = features,
            Explanation = explanation,
            ProcessingLatencyMicroseconds = timestamps.GetProperty("processingLatencyMicroseconds").GetDouble(),
            IsoZone = root.TryGetProperty("isoZone", out var zone) && zone.ValueKind == JsonValueKind.String && Enum.TryParse<IsoZone>(zone.GetString(), out var z) ? z : IsoZone.None,
            WindowCompleteTime = ReadTime(timestamps, "windowComplete"),
            ScoredTime = ReadTime(timestamps, "scored"),
        };
    }

    public static string StateName(AlertState state) => state switch
    {
        AlertState.Raised => "raised",
        AlertState.Escalated => "escalated",
        AlertState.Cleared => "cleared",
        _ => "unknown",
    };

    public static string SeverityName(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Warning => "warning",
        AlertSeverity.Alarm => "alarm",
        AlertSeverity.Critical => "critical",
        _ => "unknown",
    };

    private static AlertState ParseState(string? text) => text switch
    {
        "raised" => AlertState.Raised,
        "escalated" => AlertState.Escalated,
        "cleared" => AlertState.Cleared,
        _ => throw new FormatException($"Unknown alert state '{text}'."),
    };

    private static AlertSeverity ParseSeverity(string? text) => text switch
    {
        "warning" => AlertSeverity.Warning,
        "alarm" => AlertSeverity.Alarm,
        "critical" => AlertSeverity.Critical,
        _ => throw new FormatException($"Unknown alert severity '{text}'."),
    };

    private static void WriteFloat(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteDouble(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            w.WriteString(name, t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static DateTimeOffset? ReadTime(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String
            ? DateTimeOffset.Parse(e.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
            : null;

    private static float ReadFloat(JsonElement element) => element.ValueKind == JsonValueKind.Null ? float.NaN : element.GetSingle();
}
