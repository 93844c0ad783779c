using System.Net.Http.Headers;
using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>Trends over a range: the telemetry store's history before the in-memory ring (<see cref="TrendHistory"/>).</summary>
public sealed class TrendHistoryTests : IDisposable
{
    private static readonly string[] FeatureNames = ["rms", "velocity_rms_mm_s"];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fe-trend-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ChannelDescriptor _channel;
    private readonly DisplayTap _tap;

    public TrendHistoryTests()
    {
        Directory.CreateDirectory(_directory);
        (_channel, _) = SimulatedSources.Generate(new SimulatedMachineConfig { Machine = "pump-1" }, "plant", "line-1", 4096);
        _tap = new DisplayTap(new DashboardOptions(), _time);
        _tap.Attach([_channel], FeatureNames, 4096, 2048);
    }

    private string Store => Path.Combine(_directory, "telemetry.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static WindowResult Window(ChannelId channel, DateTimeOffset at, float score, float rms = 0.5f, float velocity = 1.2f) => new(2)
    {
        Channel = channel,
        SampleRateHz = 25600,
        WindowSize = 4096,
        Score = score,
        Threshold = 6,
        Features = { [0] = rms, [1] = velocity },
        Timestamps = new WindowTimestamps { SourceStartTicks = at.UtcTicks },
    };

    /// <summary>Writes windows every <paramref name="step"/> in [from, to] through the real telemetry service (embedded store).</summary>
    internal static async Task FillStoreAsync(string store, ChannelId channel, DateTimeOffset from, DateTimeOffset to, TimeSpan step, Func<int, float> score)
    {
        await using var service = new TelemetryService(new TelemetryOptions { Mode = "Durable", Spool = new SpoolOptions { Path = store } }, () => FeatureNames);
        var n = 0;
        for (var at = from; at <= to; at += step, n++)
        {
            service.WriteWindow(Window(channel, at, score(n)));
        }
    }

    private TrendHistory History(TelemetryOptions? telemetry)
    {
        var services = new ServiceCollection();
        if (telemetry is not null)
        {
            services.AddSingleton(Options.Create(telemetry));
        }

        return new TrendHistory(_tap, _time, services.BuildServiceProvider());
    }

    private async Task FeedRingAsync(DateTimeOffset from, int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            await _tap.WriteAsync(Window(_channel.Id, from.AddSeconds(i), 2), CancellationToken.None);
        }
    }

    [Fact]
    public async Task ReadAsync_StoreHoldsTimeBeforeTheRing_ReturnsHistoryThenLiveInOrder()
    {
        var now = _time.GetUtcNow();
        await FillStoreAsync(Store, _channel.Id, now.AddHours(-20), now.AddMinutes(-5), TimeSpan.FromSeconds(30), n => n == 100 ? 42 : 1);
        await FeedRingAsync(now.AddMinutes(-3), 120);
        var history = History(new TelemetryOptions { Spool = new SpoolOptions { Path = Store } });

        var trend = await history.ReadAsync(0, TimeSpan.FromHours(24), 500, CancellationToken.None);

        Assert.True(trend.History.Available);
        Assert.Null(trend.History.Error);
        Assert.InRange(trend.History.Points, 100, 500);
        Assert.True(trend.LivePoints > 0);
        Assert.InRange(trend.Points.Count, trend.History.Points + 1, 501);
        Assert.Equal(trend.Points.Count, trend.History.Points + trend.LivePoints);
        Assert.True(trend.Points.Zip(trend.Points.Skip(1)).All(p => p.First.TimeMs < p.Second.TimeMs), "points in time order");
        Assert.All(trend.Points, p => Assert.InRange(p.TimeMs, trend.FromMs, trend.ToMs));
        Assert.Equal(42, trend.Points.Max(p => p.Score));
        Assert.All(trend.Points.Take(trend.History.Points), p => Assert.Equal(0.5f, p.Rms, 4));
        Assert.All(trend.Points.Take(trend.History.Points), p => Assert.Equal(6f, p.Threshold));
        Assert.Equal(2, trend.Points[^1].Score);
    }

    [Fact]
    public async Task ReadAsync_RingCoversTheRange_DoesNotNeedTheStore()
    {
        var now = _time.GetUtcNow();
        await FeedRingAsync(now.AddMinutes(-10), 600);
        var history = History(new TelemetryOptions { Spool = new SpoolOptions { Path = Path.Combine(_directory, "absent.db") } });

        var trend = await history.ReadAsync(0, TimeSpan.FromMinutes(5), 2000, CancellationToken.None);

        Assert.True(trend.History.Available);
        Assert.Equal(0, trend.History.Points);
        Assert.InRange(trend.LivePoints, 290, 301);
    }

    [Fact]
    public async Task ReadAsync_TelemetryDisabled_LiveOnlyWithTheReason()
    {
        await FeedRingAsync(_time.GetUtcNow().AddSeconds(-30), 30);
        var history = History(new TelemetryOptions { Enabled = false });

        // 10 min in 2000 points: 300 ms buckets, one per ring point.
        var trend = await history.ReadAsync(0, TimeSpan.FromMinutes(10), 2000, CancellationToken.None);

        Assert.False(trend.History.Available);
        Assert.Contains("Enabled = false", trend.History.Error, StringComparison.Ordinal);
        Assert.Equal(30, trend.LivePoints);
        Assert.Equal(30, trend.Points.Count);
    }

    [Fact]
    public async Task ReadAsync_NoTelemetryAdapter_LiveOnlyWithTheReason()
    {
        var trend = await History(null).ReadAsync(0, TimeSpan.FromHours(1), 2000, CancellationToken.None);

        Assert.False(trend.History.Available);
        Assert.Contains("no telemetry adapter", trend.History.Error, StringComparison.Ordinal);
        Assert.Empty(trend.Points);
    }

    [Fact]
    public async Task ReadAsync_StoreAbsent_ErrorInTheResponse()
    {
        var history = History(new TelemetryOptions { Spool = new SpoolOptions { Path = Path.Combine(_directory, "absent.db") } });

        var trend = await history.ReadAsync(0, TimeSpan.FromHours(24), 2000, CancellationToken.None);

        Assert.False(trend.History.Available);
        Assert.Contains("no telemetry store", trend.History.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decimate_ManyPointsPerBucket_KeepsTheMaximumScore()
    {
        var points = Enumerable.Range(0, 100).Select(i => new TrendPoint(1000 + (i * 100), i % 10, float.NaN, i == 37 ? 9 : 1, 6)).ToList();

        var result = TrendHistory.Decimate(points, 1000, 1000);

        Assert.Equal(10, result.Count);
        Assert.Equal(9, result[3].Score);
        Assert.All(result.Where((_, i) => i != 3), p => Assert.Equal(1, p.Score));
        Assert.All(result, p => Assert.Equal(9, p.Rms));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 1000L + (i * 1000)), result.Select(p => p.TimeMs));
    }

    [Theory]
    [InlineData(null, 3600)]
    [InlineData("15m", 900)]
    [InlineData("24h", 86400)]
    [InlineData("7d", 604800)]
    public void TrendRange_Durations_Parse(string? since, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), DashboardEndpoints.TrendRange(since));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("400d")]
    [InlineData("-1h")]
    [InlineData("0s")]
    public void TrendRange_NotADurationOrTooLong_IsNull(string since)
    {
        Assert.Null(DashboardEndpoints.TrendRange(since));
    }
}

/// <summary>A gateway (demo machines) started over a telemetry store already holding hours of motor-3's history, as after a restart.</summary>
public sealed class HistoryGatewayFixture() : GatewayHostFixture(faultAtSeconds: 3600)
{
    public static readonly ChannelId Channel = new("plant", "line-1", "motor-3", "de", "x");

    /// <summary>The score of one stored window (the peak of the history).</summary>
    public const float SpikeScore = 42;

    protected override Task BeforeStartAsync()
    {
        var now = TimeProvider.System.GetUtcNow();
        return TrendHistoryTests.FillStoreAsync(SpoolPath, Channel, now.AddHours(-6), now.AddHours(-2), TimeSpan.FromSeconds(30), n => n == 200 ? SpikeScore : 1.5f);
    }
}

public sealed class TrendHistoryHttpTests(HistoryGatewayFixture gateway) : IClassFixture<HistoryGatewayFixture>
{
    private HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = gateway.BaseUri };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", gateway.ViewerToken);
        return client;
    }

    private static string Url(string since, int? points = null) =>
        "/api/trend?channel=" + Uri.EscapeDataString(HistoryGatewayFixture.Channel.ToString()) + "&since=" + since + (points is { } p ? "&points=" + p : "");

    [Fact]
    public async Task Trend_Since24h_ServesTheStoredHistoryFromBeforeTheStart()
    {
        using var client = Client();

        using var response = await client.GetAsync(new Uri(Url("24h"), UriKind.Relative));

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        var history = root.GetProperty("history");
        Assert.True(history.GetProperty("available").GetBoolean(), history.ToString());
        Assert.InRange(history.GetProperty("windows").GetInt64(), 480, 481);
        var t = root.GetProperty("t").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.InRange(t.Count, history.GetProperty("points").GetInt32(), TrendHistory.MaxPoints + 1);
        var startedMs = TimeProvider.System.GetUtcNow().AddHours(-1).ToUnixTimeMilliseconds();
        Assert.True(t.Count(x => x < startedMs) >= 100, "points from the store, hours before the gateway started");
        var scores = root.GetProperty("score").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : 0).ToList();
        Assert.Equal(t.Count, scores.Count);

        // The stored part peaks at the spike (live windows of the running gateway, during its baseline
        // warm-up on a loaded machine, may score anything and are not what this test is about).
        Assert.Equal(HistoryGatewayFixture.SpikeScore, t.Zip(scores).Where(p => p.First < startedMs).Max(p => p.Second));
    }

    [Fact]
    public async Task Trend_FewPointsAsked_IsCappedAndKeepsTheSpike()
    {
        using var client = Client();

        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri(Url("7d", 20), UriKind.Relative)));

        var root = json.RootElement;
        Assert.InRange(root.GetProperty("t").GetArrayLength(), 1, 21);
        Assert.Contains(root.GetProperty("score").EnumerateArray(), e => e.ValueKind == JsonValueKind.Number && e.GetDouble() == HistoryGatewayFixture.SpikeScore);
    }

    [Fact]
    public async Task Trend_Since1h_HasNoStoredPointsFromHoursAgo()
    {
        using var client = Client();

        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri(Url("1h"), UriKind.Relative)));

        var root = json.RootElement;
        Assert.True(root.GetProperty("history").GetProperty("available").GetBoolean());
        var from = root.GetProperty("from").GetInt64();
        Assert.All(root.GetProperty("t").EnumerateArray(), e => Assert.True(e.GetInt64() >= from));
        Assert.DoesNotContain(root.GetProperty("score").EnumerateArray(), e => e.ValueKind == JsonValueKind.Number && e.GetDouble() == HistoryGatewayFixture.SpikeScore);
    }

    [Fact]
    public async Task Trend_BadRangeOrChannel_AreRefused()
    {
        using var client = Client();

        using var badRange = await client.GetAsync(new Uri(Url("forever"), UriKind.Relative));
        using var unknown = await client.GetAsync(new Uri("/api/trend?channel=plant/line-1/nothing/de/x&since=1h", UriKind.Relative));
        using var anonymous = await new HttpClient { BaseAddress = gateway.BaseUri }.GetAsync(new Uri(Url("1h"), UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badRange.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}

/// <summary>The machine view in a real browser loads the stored history when it opens and when the range changes.</summary>
[Trait("Category", "Browser")]
public sealed class TrendHistoryBrowserTests(HistoryGatewayFixture gateway) : IClassFixture<HistoryGatewayFixture>, IAsyncLifetime
{
    private BrowserHarness _browser = null!;

    public async Task InitializeAsync() => _browser = await BrowserHarness.StartAsync(gateway.BaseUri);

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [ChromiumFact]
    public async Task MachineView_Range24h_DrawsTheStoredHistoryBeforeTheStart()
    {
        var page = await _browser.LoginAsync(GatewayHostFixture.Viewer, GatewayHostFixture.ViewerPassword);
        await BrowserHarness.OpenMachineAsync(page, HistoryGatewayFixture.Channel.MachineKey);
        await page.WaitForFunctionAsync("() => /from the telemetry store/.test(document.getElementById('trend-note').textContent)", null, new() { Timeout = 20_000 });

        await page.ClickAsync("#range-pick button[data-range='24h']");
        await page.WaitForFunctionAsync("() => document.querySelector('#range-pick button.on').dataset.range === '24h' && /^[1-9]\\d* points from the telemetry store/.test(document.getElementById('trend-note').textContent)", null, new() { Timeout = 20_000 });
        await page.WaitForFunctionAsync($"() => Number(document.getElementById('trend-score').dataset.yMax) >= {HistoryGatewayFixture.SpikeScore}", null, new() { Timeout = 10_000 });

        var xMin = double.Parse(await page.EvalOnSelectorAsync<string>("#trend-score", "c => c.dataset.xMin"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(xMin <= TimeProvider.System.GetUtcNow().AddHours(-5).ToUnixTimeMilliseconds(), $"score trend starts at {DateTimeOffset.FromUnixTimeMilliseconds((long)xMin):O}, not hours before the start");
        await BrowserHarness.ScreenshotAsync(page, "machine-history-24h.png");
    }
}
