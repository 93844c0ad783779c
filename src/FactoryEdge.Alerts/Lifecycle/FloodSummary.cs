using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>Held-back alerts of one machine in a flood summary.</summary>
public sealed record FloodMachineCount(string Machine, int Alerts, AlertSeverity Worst);

/// <summary>
/// One message that stands for the alerts held back during an alarm flood (more than
/// <see cref="AlarmLifecycleOptions.FloodThreshold"/> raised within <see cref="AlarmLifecycleOptions.FloodWindow"/>).
/// </summary>
public sealed record FloodSummary
{
    public required DateTimeOffset FloodStarted { get; init; }

    /// <summary>Period this summary covers (since the previous summary or the flood's start).</summary>
    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary>False in the last summary of a flood.</summary>
    public required bool Ongoing { get; init; }

    /// <summary>Alerts held back in the period.</summary>
    public required int HeldAlerts { get; init; }

    /// <summary>Raised alerts seen within the flood window at the time of the summary.</summary>
    public required int RateInWindow { get; init; }

    public required IReadOnlyList<FloodMachineCount> Machines { get; init; }

    /// <summary>Ids of the held alerts (at most 100; the alarm board has all).</summary>
    public required IReadOnlyList<string> AlertIds { get; init; }

    /// <summary>JSON: <c>{"schema":1,"type":"flood-summary",…}</c> (docs/alerts.md).</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", AlertJson.SchemaVersion);
            w.WriteString("type", "flood-summary");
            w.WriteString("floodStarted", FloodStarted.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("from", From.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("to", To.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteBoolean("ongoing", Ongoing);
            w.WriteNumber("heldAlerts", HeldAlerts);
            w.WriteNumber("rateInWindow", RateInWindow);
            w.WriteString("message", string.Create(CultureInfo.InvariantCulture,
                $"alarm flood: {HeldAlerts} alert(s) on {Machines.Count} machine(s) held back and summarised; see the alarm board"));
            w.WriteStartArray("machines");
            foreach (var m in Machines)
            {
                w.WriteStartObject();
                w.WriteString("machine", m.Machine);
                w.WriteNumber("alerts", m.Alerts);
                w.WriteString("worst", AlertJson.SeverityName(m.Worst));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("alertIds");
            foreach (var id in AlertIds)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
