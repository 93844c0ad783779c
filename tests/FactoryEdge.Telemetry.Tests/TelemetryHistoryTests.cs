using FactoryEdge.Core;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Tests;

/// <summary><see cref="TelemetryHistory"/> over an embedded store written by the real telemetry service (encoder and spool).</summary>
public sealed class TelemetryHistoryTests : IAsyncLifetime
{
    private const int Windows = 100;
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = TestData.Temp();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 8, 10, 0, TimeSpan.Zero));

    private string Store => _dir.File("store.db");

    public async Task InitializeAsync()
    {
        await using var service = new TelemetryService(
            new TelemetryOptions { Spool = new SpoolOptions { Path = Store }, BatchSize = 13 },
            () => TestData.FeatureNames,
            transport: null,
            _time);
        for (var i = 0; i < Windows; i++)
        {
            service.WriteWindow(TestData.Window(TestData.ChannelA, i));
            service.WriteWindow(TestData.Window(TestData.ChannelB, i, index: 1));
        }

        service.Flush();
        await service.PumpAsync(CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Source time of window <paramref name="n"/> (TestData spaces windows 80 ms apart).</summary>
    private static DateTimeOffset At(int n) => Start + TimeSpan.FromMilliseconds(80 * n);

    private static TelemetryHistoryQuery Query(ChannelId channel, DateTimeOffset from, DateTimeOffset to, int maxPoints) => new()
    {
        Site = channel.Site,
        Line = channel.Line,
        Machine = channel.Machine,
        Sensor = channel.Sensor,
        Axis = channel.Axis,
        From = from,
        To = to,
        MaxPoints = maxPoints,
    };

    [Fact]
    public void Read_RangeOfOneChannel_ReturnsThatChannelsWindowsInRangeWithTheirFields()
    {
        var result = TelemetryHistory.Read(Store, Query(TestData.ChannelA, At(10), At(19), 1000), CancellationToken.None);

        Assert.True(result.Available);
        Assert.Null(result.Error);
        Assert.Equal(10, result.Windows);
        Assert.Equal(10, result.Points.Count);
        Assert.Equal(TelemetryHistoryQuery.TrendFields, result.Fields);
        for (var i = 0; i < 10; i++)
        {
            var n = 10 + i;
            var expected = TestData.Window(TestData.ChannelA, n);
            var p = result.Points[i];
            Assert.Equal(At(n).ToUnixTimeMilliseconds(), p.UnixTimeMs);
            Assert.Equal(1, p.Windows);
            Assert.Equal(expected.Features[0], p.Values[0], 4); // rms
            Assert.Equal(expected.Features[5], p.Values[1], 4); // velocity_rms_mm_s
            Assert.Equal(expected.Score, p.Values[2], 4);
            Assert.Equal(expected.Threshold, p.Values[3], 4);
        }
    }

    [Fact]
    public void Read_MoreWindowsThanMaxPoints_DecimatesToMaxKeepingTheBucketMaximum()
    {
        var result = TelemetryHistory.Read(Store, Query(TestData.ChannelB, At(0), At(Windows - 1), 8), CancellationToken.None);

        Assert.InRange(result.Points.Count, 2, 8);
        Assert.Equal(Windows, result.Windows);
        Assert.Equal(Windows, result.Points.Sum(p => p.Windows));
        var fromMs = At(0).ToUnixTimeMilliseconds();
        for (var n = 0; n < Windows; n++)
        {
            var w = TestData.Window(TestData.ChannelB, n, index: 1);
            var bucketStart = fromMs + ((At(n).ToUnixTimeMilliseconds() - fromMs) / result.BucketMs * result.BucketMs);
            var point = Assert.Single(result.Points, p => p.UnixTimeMs == bucketStart);
            Assert.True(point.Values[2] >= w.Score, $"window {n}: score {w.Score} above its bucket's {point.Values[2]}");
        }

        // Each bucket's score is the maximum of its windows: with 7-periodic scores and ≥ 7 windows per bucket, the peak 7.5.
        Assert.All(result.Points.Where(p => p.Windows >= 7), p => Assert.Equal(7.5, p.Values[2], 4));
    }

    [Fact]
    public void Read_RangeBeforeTheData_IsAvailableAndEmpty()
    {
        var result = TelemetryHistory.Read(Store, Query(TestData.ChannelA, Start.AddHours(-2), Start.AddHours(-1), 100), CancellationToken.None);

        Assert.True(result.Available);
        Assert.Empty(result.Points);
        Assert.Equal(0, result.Windows);
    }

    [Fact]
    public void Read_OtherSite_FindsNothing()
    {
        var query = Query(TestData.ChannelA, At(0), At(Windows - 1), 100) with { Site = "elsewhere" };

        var result = TelemetryHistory.Read(Store, query, CancellationToken.None);

        Assert.True(result.Available);
        Assert.Empty(result.Points);
    }

    [Fact]
    public void Read_AbsentStore_SaysSoWithoutPoints()
    {
        var missing = _dir.File("missing.db");

        var result = TelemetryHistory.Read(missing, Query(TestData.ChannelA, At(0), At(10), 100), CancellationToken.None);

        Assert.False(result.Available);
        Assert.Contains("no telemetry store", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Points);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public async Task ReadAsync_NotAStore_SaysItCannotBeRead()
    {
        var bogus = _dir.File("bogus.db");
        await File.WriteAllTextAsync(bogus, new string('x', 4096));

        var result = await TelemetryHistory.ReadAsync(bogus, Query(TestData.ChannelA, At(0), At(10), 100), CancellationToken.None);

        Assert.False(result.Available);
        Assert.Contains("telemetry store", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MaxPointsOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TelemetryHistory.Read(Store, Query(TestData.ChannelA, At(0), At(10), 0), CancellationToken.None));
    }
}
