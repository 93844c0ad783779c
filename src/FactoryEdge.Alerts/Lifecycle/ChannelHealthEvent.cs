using System.Buffers;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>
/// A channel's measurement chain went bad (flat line, clipping, ski slope, …) or recovered. A sensor
/// fault is reported as this channel-health event, never as a machine alert: the pipeline does not
/// score such windows, and the board holds back the channel's alarms meanwhile.
/// </summary>
public sealed record ChannelHealthEvent(ChannelId Channel, bool Healthy, ChannelHealthFlags Flags, DateTimeOffset Time)
{
    /// <summary>JSON: <c>{"schema":1,"type":"channel-health",…}</c> (docs/alerts.md).</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", AlertJson.SchemaVersion);
            w.WriteString("type", "channel-health");
            w.WriteString("site", Channel.Site);
            w.WriteString("line", Channel.Line);
            w.WriteString("machine", Channel.Machine);
            w.WriteString("sensor", Channel.Sensor);
            w.WriteString("axis", Channel.Axis);
            w.WriteString("channel", Channel.ToString());
            w.WriteBoolean("healthy", Healthy);
            w.WriteStartArray("flags");
            foreach (var flag in Enum.GetValues<ChannelHealthFlags>())
            {
                if (flag != ChannelHealthFlags.None && flag != ChannelHealthFlags.GapBefore && Flags.HasFlag(flag))
                {
                    w.WriteStringValue(JsonNamingPolicy.CamelCase.ConvertName(flag.ToString()));
                }
            }

            w.WriteEndArray();
            w.WriteString("message", Healthy
                ? $"{Channel}: measurement chain healthy again"
                : $"{Channel}: sensor or cable fault ({Flags & ~ChannelHealthFlags.GapBefore}); the channel's alarms are suppressed, this is not a machine alarm");
            w.WriteString("time", Time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
