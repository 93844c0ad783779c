using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>An operator command received on the MQTT command topic.</summary>
/// <param name="Action">acknowledge, shelve or unshelve.</param>
/// <param name="AlertId">The alarm.</param>
/// <param name="User">Who (recorded in the audit log).</param>
/// <param name="Comment">Free text (optional).</param>
/// <param name="Duration">Shelving time (shelve only).</param>
/// <param name="RequestId">Echoed in the reply (optional).</param>
public sealed record AlarmCommand(string Action, string AlertId, string User, string? Comment, TimeSpan? Duration, string? RequestId);

/// <summary>
/// Parses commands and applies them to the alarm board. Command JSON:
/// <c>{"action":"acknowledge","alertId":"…","user":"jane","comment":"…","requestId":"42"}</c>;
/// <c>"action":"shelve"</c> also needs <c>"durationSeconds"</c>. Only messages on the configured topic are
/// taken, never retained ones; every command, accepted or refused, ends in the audit log and gets a reply.
/// </summary>
public sealed class AlarmCommandHandler
{
    private readonly AlarmBoard _board;
    private readonly TimeProvider _time;

    public AlarmCommandHandler(AlarmBoard board, string commandTopic, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(board);
        ArgumentException.ThrowIfNullOrWhiteSpace(commandTopic);
        _board = board;
        CommandTopic = commandTopic;
        _time = time;
    }

    public string CommandTopic { get; }

    /// <summary>Parses one command; false with the reason when it is not a valid command.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out AlarmCommand? command, out string error)
    {
        command = null;
        error = "";
        if (json.Length > 16 * 1024)
        {
            error = "command larger than 16 KiB";
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "command must be a JSON object";
                return false;
            }

            var action = String(root, "action")?.Trim().ToLowerInvariant() switch
            {
                "ack" or "acknowledge" => "acknowledge",
                "shelve" => "shelve",
                "unshelve" => "unshelve",
                var other => other,
            };
            if (action is not ("acknowledge" or "shelve" or "unshelve"))
            {
                error = $"action '{action}' unknown; allowed: acknowledge (ack), shelve, unshelve";
                return false;
            }

            var alertId = String(root, "alertId");
            var user = String(root, "user");
            if (string.IsNullOrWhiteSpace(alertId))
            {
                error = "alertId missing";
                return false;
            }

            if (string.IsNullOrWhiteSpace(user))
            {
                error = "user missing";
                return false;
            }

            TimeSpan? duration = null;
            if (action == "shelve")
            {
                if (!root.TryGetProperty("durationSeconds", out var d) || d.ValueKind != JsonValueKind.Number || !d.TryGetDouble(out var seconds) || !double.IsFinite(seconds) || seconds <= 0 || seconds > TimeSpan.FromDays(365).TotalSeconds)
                {
                    error = "shelve needs durationSeconds, a positive number";
                    return false;
                }

                duration = TimeSpan.FromSeconds(seconds);
            }

            command = new AlarmCommand(action, alertId, user, String(root, "comment"), duration, String(root, "requestId"));
            return true;
        }
        catch (JsonException ex)
        {
            error = "not valid JSON: " + ex.Message;
            return false;
        }
        catch (InvalidOperationException ex)
        {
            error = "unexpected value: " + ex.Message;
            return false;
        }
    }

    /// <summary>
    /// Handles one MQTT message. Returns the reply to publish, or null when the message is not for this
    /// handler (another topic: ignored).
    /// </summary>
    public byte[]? Handle(string topic, bool retained, ReadOnlySpan<byte> payload)
    {
        if (!string.Equals(topic, CommandTopic, StringComparison.Ordinal))
        {
            return null;
        }

        AlarmActionResult result;
        var parsed = TryParse(payload, out var command, out var error);
        if (!parsed)
        {
            result = AlarmActionResult.Refused(error);
            _board.RecordRefusal("?", AlarmActionSource.Mqtt, "command", "", error);
        }
        else if (retained)
        {
            result = AlarmActionResult.Refused("retained commands are not accepted (they would replay on every reconnect)");
            _board.RecordRefusal(command!.User, AlarmActionSource.Mqtt, command.Action, command.AlertId, result.Message);
        }
        else
        {
            result = command!.Action switch
            {
                "acknowledge" => _board.Acknowledge(command.AlertId, command.User, AlarmActionSource.Mqtt, command.Comment),
                "shelve" => _board.Shelve(command.AlertId, command.Duration!.Value, command.User, AlarmActionSource.Mqtt, command.Comment),
                _ => _board.Unshelve(command.AlertId, command.User, AlarmActionSource.Mqtt),
            };
        }

        return Reply(command, result, _time.GetUtcNow());
    }

    /// <summary>Reply JSON: <c>{"requestId","action","alertId","user","succeeded","message","time"}</c>.</summary>
    public static byte[] Reply(AlarmCommand? command, AlarmActionResult result, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("requestId", command?.RequestId);
            w.WriteString("action", command?.Action);
            w.WriteString("alertId", command?.AlertId);
            w.WriteString("user", command?.User);
            w.WriteBoolean("succeeded", result.Succeeded);
            w.WriteString("message", result.Message);
            w.WriteString("time", now.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Retained alarm state of one machine (<c>{prefix}/{site}/{line}/{machine}/alarms</c>).</summary>
    public static byte[] MachineAlarms(string site, string line, string machine, IEnumerable<AlarmView> alarms, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(alarms);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", AlertJson.SchemaVersion);
            w.WriteString("site", site);
            w.WriteString("line", line);
            w.WriteString("machine", machine);
            w.WriteStartArray("alarms");
            foreach (var a in alarms)
            {
                w.WriteStartObject();
                w.WriteString("alertId", a.AlertId);
                w.WriteString("channel", a.Channel.ToString());
                w.WriteString("state", AlertJson.StateName(a.State));
                w.WriteString("severity", AlertJson.SeverityName(a.Severity));
                w.WriteBoolean("acknowledged", a.Acknowledged);
                w.WriteString("acknowledgedBy", a.AcknowledgedBy);
                Time(w, "acknowledgedAt", a.AcknowledgedAt);
                Time(w, "shelvedUntil", a.ShelvedUntil);
                w.WriteString("suppressedBecause", a.SuppressedBecause);
                Time(w, "raisedAt", a.RaisedAt);
                Time(w, "clearedAt", a.ClearedAt);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("updated", now.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
}
