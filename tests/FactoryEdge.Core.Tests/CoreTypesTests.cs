using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Core.Tests;

public sealed class CoreTypesTests
{
    [Fact]
    public void ChannelIdParse_FiveParts_RoundTrips()
    {
        var id = ChannelId.Parse("plant/line-1/pump-3/de/x");
        Assert.Equal(new ChannelId("plant", "line-1", "pump-3", "de", "x"), id);
        Assert.Equal("plant/line-1/pump-3/de/x", id.ToString());
        Assert.Equal("plant/line-1/pump-3/de", id.MeasurementPoint);
    }

    [Theory]
    [InlineData("plant/line/pump/de")]
    [InlineData("plant//pump/de/x")]
    [InlineData("a/b/c/d/e/f")]
    public void ChannelIdParse_Malformed_ThrowsNamingText(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ChannelId.Parse(text));
        Assert.Contains(text, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("g", SignalUnit.G)]
    [InlineData("m/s²", SignalUnit.MetersPerSecondSquared)]
    [InlineData("m/s2", SignalUnit.MetersPerSecondSquared)]
    [InlineData("mm/s", SignalUnit.MillimetersPerSecond)]
    [InlineData("µm", SignalUnit.Micrometers)]
    [InlineData("um", SignalUnit.Micrometers)]
    public void SignalUnitsParse_KnownNames_Parse(string text, SignalUnit expected) =>
        Assert.Equal(expected, SignalUnits.Parse(text));

    [Fact]
    public void SignalUnitsParse_Unknown_ListsAllowed()
    {
        var ex = Assert.Throws<FormatException>(() => SignalUnits.Parse("furlong"));
        Assert.Contains("mm/s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToMetersPerSecondSquared_G_IsStandardGravityAndVelocityRefuses()
    {
        Assert.Equal(9.80665, SignalUnit.G.ToMetersPerSecondSquaredFactor());
        Assert.Throws<InvalidOperationException>(() => SignalUnit.MillimetersPerSecond.ToMetersPerSecondSquaredFactor());
    }

    [Fact]
    public void BearingOrders_Skf6205_MatchCwruPublishedOrders()
    {
        // CWRU: BPFI 5.4152, BPFO 3.5848, FTF 0.39828, "BSF" 4.7135 (= 2 × ball spin).
        var orders = BearingOrders.FromGeometry(new BearingGeometry("6205", 9, 0.3126, 1.537, 0));
        Assert.Equal(5.4152, orders.Bpfi, 2e-4);
        Assert.Equal(3.5848, orders.Bpfo, 2e-4);
        Assert.Equal(0.39828, orders.Ftf, 1e-4);
        Assert.Equal(4.7135, 2 * orders.Bsf, 2e-4);
    }

    [Fact]
    public void BearingGeometryValidate_BallLargerThanPitch_NamesProblem()
    {
        Assert.Contains("BallDiameter", new BearingGeometry("bad", 9, 2, 1, 0).Validate(), StringComparison.Ordinal);
        Assert.Null(new BearingGeometry("ok", 9, 0.3, 1.5, 0).Validate());
    }

    [Fact]
    public void MeasurementPointGroup_TriaxialAndUniaxial_GroupsByPointKeepingOrder()
    {
        ChannelDescriptor C(string sensor, string axis) => new() { Id = new ChannelId("s", "l", "m", sensor, axis), SampleRateHz = 1000 };
        var points = MeasurementPoint.Group([C("de", "x"), C("nde", "x"), C("de", "y"), C("de", "z")]);
        Assert.Equal(2, points.Count);
        Assert.Equal("s/l/m/de", points[0].Key);
        Assert.Equal(["x", "y", "z"], points[0].Axes.Select(a => a.Id.Axis));
        Assert.Single(points[1].Axes);
        Assert.Throws<ArgumentException>(() => MeasurementPoint.Group([C("de", "x"), C("de", "x")]));
    }

    [Fact]
    public void ChannelHealthFlags_GapAloneDoesNotExcludeButSensorFaultsDo()
    {
        Assert.False(ChannelHealthFlags.GapBefore.ExcludesWindow());
        Assert.False(ChannelHealthFlags.None.ExcludesWindow());
        Assert.True((ChannelHealthFlags.GapBefore | ChannelHealthFlags.FlatLine).ExcludesWindow());
        Assert.True(ChannelHealthFlags.NonFinite.ExcludesWindow());
    }

    [Fact]
    public void HostClock_OnLinux_AnswersFromKernelAndCaches()
    {
        var time = new FakeTimeProvider();
        var first = HostClock.ReceiptClockQuality(time);
        Assert.True(first is ClockQuality.Synchronized or ClockQuality.Unsynchronized);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(ClockQuality.Unsynchronized, first);
            return;
        }

        // /proc/sys/kernel is not needed: the kernel's own answer must agree with a direct query.
        Assert.Equal(HostClock.QuerySynchronized() ? ClockQuality.Synchronized : ClockQuality.Unsynchronized, first);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(first, HostClock.ReceiptClockQuality(time));
    }
}
