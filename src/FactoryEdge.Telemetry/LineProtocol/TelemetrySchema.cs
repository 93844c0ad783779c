using System.Globalization;
using FactoryEdge.Core;

namespace FactoryEdge.Telemetry.LineProtocol;

/// <summary>Timestamp precision of the points written (the <c>precision</c> parameter of the write APIs).</summary>
public enum TimestampPrecision
{
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
}

/// <summary>What a spooled record is: telemetry may be evicted when the spool is full, alerts never are.</summary>
public enum RecordKind
{
    Telemetry = 0,
    Alert = 1,
}

/// <summary>
/// The measurements, tags and fields FactoryEdge writes (documented in docs/telemetry.md). Tags are
/// only the bounded identity of a channel (site, line, machine, sensor, axis) and, for alerts, state
/// and severity; everything else is a field. Timestamps of windows and alerts are source time (the
/// window's first sample, anchored to the sample index), so a host clock step never makes two points
/// share a timestamp.
/// </summary>
public static class TelemetrySchema
{
    public const string WindowMeasurement = "fe_window";
    public const string AlertMeasurement = "fe_alert";
    public const string ChannelHealthMeasurement = "fe_channel_health";
    public const string ScalarMeasurement = "fe_scalar";
    public const string GatewayMeasurement = "fe_gateway";

    public static readonly string[] TagKeys = ["site", "line", "machine", "sensor", "axis"];

    /// <summary>Converts UTC ticks to a timestamp in <paramref name="precision"/>; false before 1970 (not representable).</summary>
    public static bool TryTimestamp(long utcTicks, TimestampPrecision precision, out long timestamp)
    {
        var sinceEpoch = utcTicks - DateTime.UnixEpoch.Ticks;
        if (sinceEpoch < 0)
        {
            timestamp = 0;
            return false;
        }

        timestamp = precision switch
        {
            TimestampPrecision.Nanoseconds => sinceEpoch * 100,
            TimestampPrecision.Microseconds => sinceEpoch / 10,
            TimestampPrecision.Milliseconds => sinceEpoch / TimeSpan.TicksPerMillisecond,
            _ => sinceEpoch / TimeSpan.TicksPerSecond,
        };
        return true;
    }

    /// <summary>UTC ticks of a timestamp written in <paramref name="precision"/>.</summary>
    public static long ToUtcTicks(long timestamp, TimestampPrecision precision) => DateTime.UnixEpoch.Ticks + precision switch
    {
        TimestampPrecision.Nanoseconds => timestamp / 100,
        TimestampPrecision.Microseconds => timestamp * 10,
        TimestampPrecision.Milliseconds => timestamp * TimeSpan.TicksPerMillisecond,
        _ => timestamp * TimeSpan.TicksPerSecond,
    };

    /// <summary>The query-string value of a precision (<c>ns</c>, <c>u</c>/<c>us</c>, <c>ms</c>, <c>s</c>).</summary>
    public static string V1Name(TimestampPrecision precision) => precision switch
    {
        TimestampPrecision.Nanoseconds => "ns",
        TimestampPrecision.Microseconds => "u",
        TimestampPrecision.Milliseconds => "ms",
        _ => "s",
    };

    public static string V2Name(TimestampPrecision precision) => precision switch
    {
        TimestampPrecision.Nanoseconds => "ns",
        TimestampPrecision.Microseconds => "us",
        TimestampPrecision.Milliseconds => "ms",
        _ => "s",
    };

    public static string Lower(AlertState state) => state switch
    {
        AlertState.Raised => "raised",
        AlertState.Escalated => "escalated",
        AlertState.Cleared => "cleared",
        _ => ((int)state).ToString(CultureInfo.InvariantCulture),
    };

    public static string Lower(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Warning => "warning",
        AlertSeverity.Alarm => "alarm",
        AlertSeverity.Critical => "critical",
        _ => ((int)severity).ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// Encodes windows, alerts, channel health and gateway metrics as line protocol. Series prefixes are
/// escaped once per channel and cached; field keys once per schema. Not thread-safe: one encoder per
/// writer thread (or under the caller's lock).
/// </summary>
public sealed class PointEncoder
{
    private static readonly byte[] ScoreKey = "score"u8.ToArray();
    private static readonly byte[] ThresholdKey = "threshold"u8.ToArray();
    private static readonly byte[] AnomalousKey = "anomalous"u8.ToArray();
    private static readonly byte[] WarmingUpKey = "warming_up"u8.ToArray();
    private static readonly byte[] HealthKey = "health"u8.ToArray();
    private static readonly byte[] StateKey = "machine_state"u8.ToArray();
    private static readonly byte[] ClockKey = "clock"u8.ToArray();
    private static readonly byte[] WindowKey = "window"u8.ToArray();
    private static readonly byte[] ValueKey = "value"u8.ToArray();

    private readonly Dictionary<ChannelId, byte[]> _windowSeries = [];
    private readonly Dictionary<ChannelId, byte[]> _healthSeries = [];
    private readonly Dictionary<ChannelId, byte[]> _scalarSeries = [];
    private readonly Dictionary<(ChannelId, AlertState, AlertSeverity), byte[]> _alertSeries = [];
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private byte[][] _featureKeys = [];
    private int[] _featureSelection = [];
    private IReadOnlyList<string>? _featureNames;
    private readonly IReadOnlyCollection<string>? _onlyFeatures;

    /// <param name="featureNames">Names of the pipeline's features, in order.</param>
    /// <param name="precision">Timestamp precision.</param>
    /// <param name="onlyFeatures">Features to write (null or empty: all).</param>
    public PointEncoder(IReadOnlyList<string> featureNames, TimestampPrecision precision = TimestampPrecision.Nanoseconds, IReadOnlyCollection<string>? onlyFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        Precision = precision;
        _onlyFeatures = onlyFeatures is { Count: > 0 } ? onlyFeatures : null;
        SetFeatureNames(featureNames);
    }

    public TimestampPrecision Precision { get; }

    /// <summary>Points skipped because their time cannot be written (before 1970).</summary>
    public long SkippedInvalidTime { get; private set; }

    public IReadOnlyList<string> FeatureNames => _featureNames!;

    /// <summary>Timestamp of the last line written (in <see cref="Precision"/>).</summary>
    public long LastTimestamp { get; private set; }

    /// <summary>Appends a window (features, score, health) as one <c>fe_window</c> line. False when nothing was written.</summary>
    public bool WriteWindow(LineProtocolWriter writer, WindowResult result)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(result);
        if (!TelemetrySchema.TryTimestamp(result.Timestamps.SourceStartTicks, Precision, out var timestamp))
        {
            SkippedInvalidTime++;
            return false;
        }

        if (result.Features.Length != _featureNames!.Count)
        {
            SetFeatureNames(GenericNames(result.Features.Length));
        }

        writer.BeginLine(SeriesOf(_windowSeries, TelemetrySchema.WindowMeasurement, result.Channel));
        var features = result.Features;
        var keys = _featureKeys;
        var selection = _featureSelection;
        for (var i = 0; i < selection.Length; i++)
        {
            var f = selection[i];
            writer.Field(keys[i], features[f]);
        }

        writer.Field(ScoreKey, result.Score);
        writer.Field(ThresholdKey, result.Threshold);
        writer.Field(AnomalousKey, result.Anomalous);
        writer.Field(WarmingUpKey, result.WarmingUp);
        writer.Field(HealthKey, (long)result.Health);
        writer.Field(StateKey, (long)result.MachineState);
        writer.Field(ClockKey, (long)result.Clock);
        writer.Field(WindowKey, result.WindowNumber);
        LastTimestamp = timestamp;
        return writer.EndLine(timestamp);
    }

    /// <summary>Appends an alert event as one <c>fe_alert</c> line at the source time of its window.</summary>
    public bool WriteAlert(LineProtocolWriter writer, Alert alert)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(alert);
        if (!TelemetrySchema.TryTimestamp(alert.SourceTime.UtcTicks, Precision, out var timestamp))
        {
            SkippedInvalidTime++;
            return false;
        }

        var key = (alert.Channel, alert.State, alert.Severity);
        if (!_alertSeries.TryGetValue(key, out var series))
        {
            var c = alert.Channel;
            series = LineProtocolWriter.Series(TelemetrySchema.AlertMeasurement, [
                new("site", c.Site), new("line", c.Line), new("machine", c.Machine), new("sensor", c.Sensor), new("axis", c.Axis),
                new("state", TelemetrySchema.Lower(alert.State)), new("severity", TelemetrySchema.Lower(alert.Severity))]);
            _alertSeries[key] = series;
        }

        writer.BeginLine(series);
        writer.Field(Key("alert_id"), alert.AlertId);
        writer.Field(Key("state_code"), (long)alert.State);
        writer.Field(Key("severity_code"), (long)alert.Severity);
        writer.Field(ScoreKey, alert.Score);
        writer.Field(ThresholdKey, alert.Threshold);
        writer.Field(Key("model"), alert.ModelId);
        writer.Field(Key("message"), alert.Message);
        writer.Field(Key("latency_us"), alert.ProcessingLatencyMicroseconds);
        foreach (var feature in alert.TopFeatures)
        {
            writer.Field(Key("top_" + feature.Key), feature.Value);
        }

        LastTimestamp = timestamp;
        return writer.EndLine(timestamp);
    }

    /// <summary>Appends a channel's health counters (cumulative since the pipeline started) as <c>fe_channel_health</c>.</summary>
    public bool WriteChannelHealth(LineProtocolWriter writer, ChannelId channel, long hostUtcTicks, ReadOnlySpan<KeyValuePair<string, long>> counters)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(channel);
        if (!TelemetrySchema.TryTimestamp(hostUtcTicks, Precision, out var timestamp))
        {
            SkippedInvalidTime++;
            return false;
        }

        writer.BeginLine(SeriesOf(_healthSeries, TelemetrySchema.ChannelHealthMeasurement, channel));
        foreach (var counter in counters)
        {
            writer.Field(Key(counter.Key), counter.Value);
        }

        LastTimestamp = timestamp;
        return writer.EndLine(timestamp);
    }

    /// <summary>Appends the latest reading of a scalar channel (temperature, speed...) at its source time.</summary>
    public bool WriteScalar(LineProtocolWriter writer, ChannelId channel, double value, long sourceUtcTicks)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(channel);
        if (!TelemetrySchema.TryTimestamp(sourceUtcTicks, Precision, out var timestamp))
        {
            SkippedInvalidTime++;
            return false;
        }

        writer.BeginLine(SeriesOf(_scalarSeries, TelemetrySchema.ScalarMeasurement, channel));
        writer.Field(ValueKey, value);
        LastTimestamp = timestamp;
        return writer.EndLine(timestamp);
    }

    /// <summary>Appends gateway-wide metrics as <c>fe_gateway,gateway=ID</c>.</summary>
    public bool WriteGatewayMetrics(LineProtocolWriter writer, byte[] gatewaySeries, long hostUtcTicks, ReadOnlySpan<KeyValuePair<string, double>> metrics)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (!TelemetrySchema.TryTimestamp(hostUtcTicks, Precision, out var timestamp))
        {
            SkippedInvalidTime++;
            return false;
        }

        writer.BeginLine(gatewaySeries);
        foreach (var metric in metrics)
        {
            writer.Field(Key(metric.Key), metric.Value);
        }

        LastTimestamp = timestamp;
        return writer.EndLine(timestamp);
    }

    public static byte[] GatewaySeries(string gatewayId) =>
        LineProtocolWriter.Series(TelemetrySchema.GatewayMeasurement, [new("gateway", gatewayId)]);

    private byte[] Key(string name)
    {
        if (!_keys.TryGetValue(name, out var key))
        {
            key = LineProtocolWriter.EscapeKey(name);
            _keys[name] = key;
        }

        return key;
    }

    private static byte[] SeriesOf(Dictionary<ChannelId, byte[]> cache, string measurement, ChannelId channel)
    {
        if (!cache.TryGetValue(channel, out var series))
        {
            series = LineProtocolWriter.Series(measurement, [
                new("site", channel.Site), new("line", channel.Line), new("machine", channel.Machine),
                new("sensor", channel.Sensor), new("axis", channel.Axis)]);
            cache[channel] = series;
        }

        return series;
    }

    private void SetFeatureNames(IReadOnlyList<string> names)
    {
        _featureNames = names;
        var selection = new List<int>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            if (_onlyFeatures is null || _onlyFeatures.Contains(names[i]))
            {
                selection.Add(i);
            }
        }

        _featureSelection = [.. selection];
        _featureKeys = new byte[_featureSelection.Length][];
        for (var i = 0; i < _featureSelection.Length; i++)
        {
            _featureKeys[i] = LineProtocolWriter.EscapeKey(names[_featureSelection[i]]);
        }
    }

    private static string[] GenericNames(int count)
    {
        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = string.Create(CultureInfo.InvariantCulture, $"f{i}");
        }

        return names;
    }
}
