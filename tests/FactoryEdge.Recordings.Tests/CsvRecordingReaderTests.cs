using System.Globalization;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Recordings.Tests;

public sealed class CsvRecordingReaderTests
{
    private static Recording Read(string text, RecordingReadOptions? options = null) =>
        RecordingReader.ReadCsv(new MemoryStream(Encoding.UTF8.GetBytes(text)), "test.csv", options);

    private static RecordingFormatException ReadFails(string text, RecordingReadOptions? options = null) =>
        Assert.Throws<RecordingFormatException>(() => Read(text, options));

    [Fact]
    public void ReadCsv_HeaderAndValues_LoadsRateUnitSpeedBearingAndSensor()
    {
        var recording = Read("# sampling_rate_hz=12000 label=demo units=m/s2 rpm_measured=1500 bearing=SKF_6205-2RS_JEM sensor=fan_end samples=4\n0.5\n-1.25\n3e-2\n7\n");

        Assert.Equal(12000, recording.SampleRateHz);
        Assert.Equal(25.0, recording.NominalShaftHz, 12);
        Assert.Equal(BearingCatalog.Get("6205"), recording.Bearing);
        Assert.Equal("demo", recording.GetMetadata("label"));
        var channel = Assert.Single(recording.Channels);
        Assert.Equal("fan_end", channel.Name);
        Assert.Equal("x", channel.Axis);
        Assert.Equal(SignalUnit.MetersPerSecondSquared, channel.Unit);
        Assert.Equal([0.5f, -1.25f, 0.03f, 7f], channel.Samples.ToArray());
        Assert.Equal(0, channel.NonFiniteCount);
        Assert.Equal(TimeSpan.FromTicks(4 * TimeSpan.TicksPerSecond / 12000), recording.Duration);
    }

    [Fact]
    public void ReadCsv_CrLfEndingsAndTrailingBlankLines_AreTolerated()
    {
        var recording = Read("# sampling_rate_hz=100\r\n1\r\n2\r\n3\r\n\r\n\r\n");

        Assert.Equal([1f, 2f, 3f], recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadCsv_NoFinalNewline_ReadsLastValue()
    {
        var recording = Read("# sampling_rate_hz=100\n1\n2.5");

        Assert.Equal([1f, 2.5f], recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadCsv_ByteOrderMark_IsSkipped()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("# sampling_rate_hz=100\n1\n")).ToArray();

        var recording = RecordingReader.ReadCsv(new MemoryStream(bytes), "bom.csv");

        Assert.Equal(100, recording.SampleRateHz);
    }

    [Fact]
    public void ReadCsv_NaNAndInfinity_LoadAndAreCounted()
    {
        var recording = Read("# sampling_rate_hz=100\n1\nNaN\nnan\ninf\n-Infinity\n2\n");

        var samples = recording.Channels[0].Samples.ToArray();
        Assert.Equal(6, samples.Length);
        Assert.True(float.IsNaN(samples[1]) && float.IsNaN(samples[2]));
        Assert.Equal(float.PositiveInfinity, samples[3]);
        Assert.Equal(float.NegativeInfinity, samples[4]);
        Assert.Equal(4, recording.Channels[0].NonFiniteCount);
    }

    [Fact]
    public void ReadCsv_ManyLinesAcrossBufferBoundaries_AllValuesExact()
    {
        var builder = new StringBuilder("# sampling_rate_hz=1000\n");
        var expected = new float[50_000];
        for (var i = 0; i < expected.Length; i++)
        {
            var value = Math.Sin(i * 0.001) * (1 + (i % 7));
            expected[i] = (float)value;
            builder.Append(value.ToString("R", CultureInfo.InvariantCulture)).Append(i % 3 == 0 ? "\r\n" : "\n");
        }

        var recording = Read(builder.ToString());

        Assert.Equal(expected, recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadCsv_MissingRate_ThrowsNamingTheKey()
    {
        var ex = ReadFails("# label=x units=g\n1\n2\n");

        Assert.Contains("sampling_rate_hz", ex.Message, StringComparison.Ordinal);
        Assert.Contains("test.csv", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_NoHeaderButRateInOptions_Loads()
    {
        var recording = Read("1\n2\n", new RecordingReadOptions { SampleRateHz = 50 });

        Assert.Equal(50, recording.SampleRateHz);
        Assert.Equal("test", recording.Channels[0].Name);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-48000")]
    [InlineData("fast")]
    [InlineData("NaN")]
    public void ReadCsv_BadRate_ThrowsNamingLineOne(string rate)
    {
        var ex = ReadFails($"# sampling_rate_hz={rate}\n1\n");

        Assert.Equal(1, ex.LineNumber);
        Assert.Contains("line 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{rate}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_NonNumericValue_ThrowsNamingLineAndText()
    {
        var ex = ReadFails("# sampling_rate_hz=100\n1\n2\n0.12abc\n4\n");

        Assert.Equal(4, ex.LineNumber);
        Assert.Contains("line 4", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'0.12abc'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("test.csv", ex.FileName);
    }

    [Fact]
    public void ReadCsv_CommaDecimal_ThrowsBecauseInvariantCulture()
    {
        var ex = ReadFails("# sampling_rate_hz=100\n1,5\n");

        Assert.Equal(2, ex.LineNumber);
        Assert.Contains("'1,5'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_UnknownUnit_ThrowsListingAllowedUnits()
    {
        var ex = ReadFails("# sampling_rate_hz=100 units=furlongs\n1\n");

        Assert.Contains("'furlongs'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(SignalUnits.AllowedNames, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.LineNumber);
    }

    [Fact]
    public void ReadCsv_HeaderOnly_ThrowsNoSamples()
    {
        var ex = ReadFails("# sampling_rate_hz=100\n\n");

        Assert.Contains("no samples", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_DeclaredSampleCountDiffers_ThrowsTruncated()
    {
        var ex = ReadFails("# sampling_rate_hz=100 samples=5\n1\n2\n3\n");

        Assert.Contains("samples=5", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3 values", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_BlankLineInsideData_ThrowsNamingTheBlankLine()
    {
        var ex = ReadFails("# sampling_rate_hz=100\n1\n\n2\n");

        Assert.Equal(3, ex.LineNumber);
        Assert.Contains("empty line", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_HeaderTokenWithoutEquals_Throws()
    {
        var ex = ReadFails("# sampling_rate_hz=100 broken\n1\n");

        Assert.Contains("'broken'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.LineNumber);
    }

    [Fact]
    public void ReadCsv_NonNumericRpm_ThrowsNamingIt()
    {
        var ex = ReadFails("# sampling_rate_hz=100 rpm_measured=fast\n1\n");

        Assert.Contains("'fast'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCsv_UnknownBearing_KeepsNameWithoutGeometry()
    {
        var recording = Read("# sampling_rate_hz=100 bearing=NoSuch_9999\n1\n");

        Assert.Null(recording.Bearing);
        Assert.Equal("NoSuch_9999", recording.GetMetadata("bearing"));
    }

    [Fact]
    public void ReadCsv_StartTime_IsParsedAsUtc()
    {
        var recording = Read("# sampling_rate_hz=100 start_time=2024-03-01T10:00:00Z\n1\n");

        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), recording.StartTime);
    }

    [Fact]
    public void ReadCsv_Overrides_WinOverHeader()
    {
        var options = new RecordingReadOptions
        {
            SampleRateHz = 200,
            Unit = SignalUnit.MillimetersPerSecond,
            Scale = 10,
            SensorName = "override",
            ChannelAxes = ["z"],
            NominalShaftHz = 12.5,
        };

        var recording = Read("# sampling_rate_hz=100 units=g rpm_measured=600 sensor=header\n1.5\n-2\n", options);

        Assert.Equal(200, recording.SampleRateHz);
        Assert.Equal(12.5, recording.NominalShaftHz);
        var channel = recording.Channels[0];
        Assert.Equal(SignalUnit.MillimetersPerSecond, channel.Unit);
        Assert.Equal("override", channel.Name);
        Assert.Equal("z", channel.Axis);
        Assert.Equal([15f, -20f], channel.Samples.ToArray());
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "factoryedge-missing-" + Guid.NewGuid().ToString("N") + ".csv");

        var ex = Assert.Throws<RecordingFormatException>(() => RecordingReader.Load(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadFileOnDisk_ErrorNamesPathAndLine()
    {
        var path = Path.Combine(Path.GetTempPath(), "factoryedge-bad-" + Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(path, "# sampling_rate_hz=100\n1\nx\n");
        try
        {
            var ex = Assert.Throws<RecordingFormatException>(() => RecordingReader.Load(path));

            Assert.Equal(path, ex.FileName);
            Assert.Equal(3, ex.LineNumber);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
