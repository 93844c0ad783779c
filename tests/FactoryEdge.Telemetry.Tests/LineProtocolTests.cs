using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;

namespace FactoryEdge.Telemetry.Tests;

public sealed class LineProtocolTests
{
    [Fact]
    public void Writer_TagsAndFields_EscapedPerElement()
    {
        using var w = new LineProtocolWriter();
        w.BeginLine("my meas,x");
        w.Tag("site", "plant a,b=c");
        w.Field("field key", 1.5);
        w.Field("s", "say \"hi\" \\ there");
        w.Field("n", 42L);
        w.Field("b", true);
        Assert.True(w.EndLine(123));
        Assert.Equal("my\\ meas\\,x,site=plant\\ a\\,b\\=c field\\ key=1.5,s=\"say \\\"hi\\\" \\\\ there\",n=42i,b=true 123\n", w.ToString());
    }

    [Fact]
    public void Writer_NonFiniteValues_SkippedAndEmptyLineRolledBack()
    {
        using var w = new LineProtocolWriter();
        w.BeginLine("m");
        w.Field("a", float.NaN);
        w.Field("b", double.PositiveInfinity);
        Assert.False(w.EndLine(1));
        Assert.Equal(0, w.Lines);
        Assert.Equal("", w.ToString());
        w.BeginLine("m");
        w.Field("a", float.NaN);
        w.Field("c", 2f);
        Assert.True(w.EndLine(2));
        Assert.Equal("m c=2 2\n", w.ToString());
    }

    [Fact]
    public void Writer_LineBreaksInValues_Replaced()
    {
        using var w = new LineProtocolWriter();
        w.BeginLine("m");
        w.Tag("t", "a\nb");
        w.Field("s", "x\ny");
        w.EndLine(1);
        Assert.DoesNotContain('\n', w.ToString().TrimEnd('\n'));
        var p = LineProtocolParser.Parse(w.ToString().TrimEnd('\n'));
        Assert.Equal("a_b", p.Tag("t"));
        Assert.Equal("x y", p.Field("s")!.Value.Text);
    }

    [Fact]
    public void Writer_EmptyTagValue_Skipped()
    {
        using var w = new LineProtocolWriter();
        w.BeginLine("m");
        w.Tag("a", "");
        w.Tag("b", "v");
        w.Field("f", 1L);
        w.EndLine(5);
        Assert.Equal("m,b=v f=1i 5\n", w.ToString());
    }

    [Fact]
    public void Writer_FloatsOverManyMagnitudes_ParseBackToTheSameFloat()
    {
        var random = new Random(7);
        using var w = new LineProtocolWriter();
        var values = new float[2000];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-12, 12)));
            w.BeginLine("m");
            w.Field("v", values[i]);
            w.EndLine(i);
        }

        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(values.Length, lines.Length);
        for (var i = 0; i < values.Length; i++)
        {
            var parsed = LineProtocolParser.Parse(lines[i]);
            Assert.Equal(values[i], (float)parsed.Field("v")!.Value.Number);
        }
    }

    [Fact]
    public void Parser_WriterOutput_RoundTrips()
    {
        using var w = new LineProtocolWriter();
        w.BeginLine("fe_alert");
        w.Tag("machine", "pump 1");
        w.Tag("state", "raised");
        w.Field("message", "a, b = \"c\"");
        w.Field("score", 12.25);
        w.Field("severity_code", 2L);
        w.Field("ok", false);
        w.EndLine(1_777_000_000_000_000_000);
        var p = LineProtocolParser.Parse(w.WrittenSpan[..^1]);
        Assert.Equal("fe_alert", p.Measurement);
        Assert.Equal("pump 1", p.Tag("machine"));
        Assert.Equal("a, b = \"c\"", p.Field("message")!.Value.Text);
        Assert.Equal(12.25, p.Field("score")!.Value.Number);
        Assert.Equal(2, p.Field("severity_code")!.Value.Integer);
        Assert.False(p.Field("ok")!.Value.Boolean);
        Assert.Equal(1_777_000_000_000_000_000, p.Timestamp);
        Assert.Equal(1_777_000_000_000_000_000, LineProtocolParser.TimestampOf(w.WrittenSpan[..^1]));
    }

    [Fact]
    public void WriteWindow_FeaturesInSchemaOrder_TagsAreChannelIdentity()
    {
        using var w = new LineProtocolWriter();
        var encoder = new PointEncoder(TestData.FeatureNames);
        var window = TestData.Window(TestData.ChannelA, 3);
        Assert.True(encoder.WriteWindow(w, window));
        var p = LineProtocolParser.Parse(w.WrittenSpan[..^1]);
        Assert.Equal(TelemetrySchema.WindowMeasurement, p.Measurement);
        Assert.Equal(["site", "line", "machine", "sensor", "axis"], p.Tags.Select(t => t.Key));
        Assert.Equal(["plant", "line-1", "pump-1", "de", "x"], p.Tags.Select(t => t.Value));
        Assert.Equal(TestData.FeatureNames, p.Fields.Take(TestData.FeatureNames.Length).Select(f => f.Key));
        for (var i = 0; i < TestData.FeatureNames.Length; i++)
        {
            Assert.Equal(window.Features[i], (float)p.Fields[i].Value.Number);
        }

        Assert.Equal(window.Score, (float)p.Field("score")!.Value.Number);
        Assert.Equal(3, p.Field("window")!.Value.Integer);
        Assert.Equal((long)MachineState.Running, p.Field("machine_state")!.Value.Integer);
        Assert.Equal((window.Timestamps.SourceStartTicks - DateTime.UnixEpoch.Ticks) * 100, p.Timestamp);
    }

    [Fact]
    public void WriteWindow_UnscoredWindow_OmitsScoreAndThreshold()
    {
        using var w = new LineProtocolWriter();
        var encoder = new PointEncoder(TestData.FeatureNames);
        var window = TestData.Window(TestData.ChannelA, 1);
        window.Score = float.NaN;
        window.Threshold = float.NaN;
        encoder.WriteWindow(w, window);
        var p = LineProtocolParser.Parse(w.WrittenSpan[..^1]);
        Assert.Null(p.Field("score"));
        Assert.Null(p.Field("threshold"));
        Assert.NotNull(p.Field("rms"));
    }

    [Fact]
    public void WriteWindow_FeatureSubset_OnlyThoseFeatures()
    {
        using var w = new LineProtocolWriter();
        var encoder = new PointEncoder(TestData.FeatureNames, TimestampPrecision.Milliseconds, ["rms", "kurtosis"]);
        var window = TestData.Window(TestData.ChannelA, 2);
        encoder.WriteWindow(w, window);
        var p = LineProtocolParser.Parse(w.WrittenSpan[..^1]);
        Assert.NotNull(p.Field("rms"));
        Assert.NotNull(p.Field("kurtosis"));
        Assert.Null(p.Field("peak"));
        Assert.Equal((window.Timestamps.SourceStartTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond, p.Timestamp);
    }

    [Fact]
    public void WriteWindow_TimeBefore1970_SkippedAndCounted()
    {
        using var w = new LineProtocolWriter();
        var encoder = new PointEncoder(TestData.FeatureNames);
        var window = TestData.Window(TestData.ChannelA, 2);
        window.Timestamps.SourceStartTicks = 1000;
        Assert.False(encoder.WriteWindow(w, window));
        Assert.Equal(1, encoder.SkippedInvalidTime);
        Assert.Equal(0, w.Lines);
    }

    [Fact]
    public void WriteAlert_StateAndSeverityTags_IdAndMessageFields()
    {
        using var w = new LineProtocolWriter();
        var encoder = new PointEncoder(TestData.FeatureNames);
        var alert = TestData.Alert(TestData.ChannelA, 1);
        encoder.WriteAlert(w, alert);
        var p = LineProtocolParser.Parse(w.WrittenSpan[..^1]);
        Assert.Equal(TelemetrySchema.AlertMeasurement, p.Measurement);
        Assert.Equal("raised", p.Tag("state"));
        Assert.Equal("alarm", p.Tag("severity"));
        Assert.Equal(alert.AlertId, p.Field("alert_id")!.Value.Text);
        Assert.Equal(alert.Message, p.Field("message")!.Value.Text);
        Assert.Equal(7.25, p.Field("top_kurtosis")!.Value.Number);
        Assert.Equal((alert.SourceTime.UtcTicks - DateTime.UnixEpoch.Ticks) * 100, p.Timestamp);
    }

    [Fact]
    public void WriteWindow_SameAsInfluxClientPointData_SameSeriesFieldsAndTime()
    {
        // The reference: InfluxDB.Client's own PointData for the same window.
        var window = TestData.Window(TestData.ChannelB, 11);
        using var w = new LineProtocolWriter();
        new PointEncoder(TestData.FeatureNames).WriteWindow(w, window);
        var ours = LineProtocolParser.Parse(w.WrittenSpan[..^1]);

        var point = PointData.Measurement(TelemetrySchema.WindowMeasurement)
            .Tag("site", "plant").Tag("line", "line-1").Tag("machine", "fan-2").Tag("sensor", "nde").Tag("axis", "y");
        for (var i = 0; i < TestData.FeatureNames.Length; i++)
        {
            point = point.Field(TestData.FeatureNames[i], window.Features[i]);
        }

        point = point.Field("score", window.Score).Timestamp((window.Timestamps.SourceStartTicks - DateTime.UnixEpoch.Ticks) * 100, WritePrecision.Ns);
        var reference = LineProtocolParser.Parse(point.ToLineProtocol());
        Assert.Equal(reference.Timestamp, ours.Timestamp);
        Assert.Equal(reference.Tags.OrderBy(t => t.Key), ours.Tags.OrderBy(t => t.Key));
        foreach (var field in reference.Fields)
        {
            Assert.Equal((float)field.Value.Number, (float)ours.Field(field.Key)!.Value.Number);
        }
    }

    [Theory]
    [InlineData(TimestampPrecision.Nanoseconds, 1_777_600_000_123_456_700L)]
    [InlineData(TimestampPrecision.Microseconds, 1_777_600_000_123_456L)]
    [InlineData(TimestampPrecision.Milliseconds, 1_777_600_000_123L)]
    [InlineData(TimestampPrecision.Seconds, 1_777_600_000L)]
    public void TryTimestamp_Precisions_ScaledFromTicks(TimestampPrecision precision, long expected)
    {
        var ticks = DateTime.UnixEpoch.Ticks + 17_776_000_001_234_567L;
        Assert.True(TelemetrySchema.TryTimestamp(ticks, precision, out var ts));
        Assert.Equal(expected, ts);
        Assert.Equal(ts, TelemetrySchema.TryTimestamp(TelemetrySchema.ToUtcTicks(ts, precision), precision, out var again) ? again : -1);
    }

    [Fact]
    public void MeasurementOf_EscapedComma_NotASeparator()
    {
        Assert.Equal("a\\,b", Encoding.UTF8.GetString(LineProtocolParser.MeasurementOf("a\\,b,t=1 f=1 1"u8)));
        Assert.Equal("fe_window", Encoding.UTF8.GetString(LineProtocolParser.MeasurementOf("fe_window f=1 1"u8)));
    }

    [Fact]
    public void ForEachLine_Buffer_SplitsOnNewlines()
    {
        var seen = new List<string>();
        LineProtocolParser.ForEachLine("a f=1 1\nb f=2 2\n\n"u8, l => seen.Add(Encoding.UTF8.GetString(l)));
        Assert.Equal(["a f=1 1", "b f=2 2"], seen);
    }
}
