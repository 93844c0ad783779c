using FactoryEdge.Core;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Uplink.Tests;

public sealed class CaptureEngineTests
{
    private readonly FakeTimeProvider _time = new(TestSupport.Start);
    private readonly List<SealedBatch> _sealed = [];

    private CaptureEngine Engine(Action<CaptureOptions>? capture = null, BudgetState? budget = null)
    {
        var options = new UplinkOptions
        {
            Capture = new CaptureOptions { PreTriggerWindows = 3, PostTriggerWindows = 2, SampleIntervalSeconds = 0, ChannelBytesPerDay = 0, TotalBytesPerDay = 0, TriggerSlackWindows = 32 },
            Batch = new BatchOptions { MaxBytes = 1 << 24, MaxAgeSeconds = 3600 },
        };
        capture?.Invoke(options.Capture);
        return new CaptureEngine(options, _time, "gw", () => "model@v1", () => TestSupport.FeatureNames, _ => null, _sealed.Add, budget);
    }

    private static void Feed(CaptureEngine engine, int channelIndex, ChannelId channel, long from, long to, Func<long, bool>? anomalous = null)
    {
        for (var n = from; n < to; n++)
        {
            var (result, samples) = TestSupport.Window(channelIndex, channel, n, anomalous?.Invoke(n) ?? false);
            engine.OnWindow(result, samples);
        }
    }

    private List<BatchWindow> Captured(CaptureEngine engine)
    {
        engine.Flush(force: true);
        return [.. _sealed.SelectMany(b => b.Manifest.Windows)];
    }

    [Fact]
    public void OnAlert_AfterItsWindow_CapturesPreTriggerFromTheRingAndPostTriggerAfter()
    {
        var engine = Engine();
        Feed(engine, 0, TestSupport.ChannelA, 0, 20);
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 15)); // the notifier runs after the window passed
        Feed(engine, 0, TestSupport.ChannelA, 20, 40);

        var windows = Captured(engine);

        Assert.Equal([12, 13, 14, 15, 16, 17], windows.Select(w => w.WindowNumber));
        Assert.Equal([CaptureReason.PreTrigger, CaptureReason.PreTrigger, CaptureReason.PreTrigger, CaptureReason.Trigger, CaptureReason.PostTrigger, CaptureReason.PostTrigger], windows.Select(w => w.Reason));
        Assert.All(windows, w => Assert.Equal("alert-pump-1-15", w.TriggerId));
        Assert.True(_sealed[0].HasAlerts);
    }

    [Fact]
    public void OnAlert_BeforeItsWindowArrives_WaitsForTheWindow()
    {
        var engine = Engine();
        Feed(engine, 0, TestSupport.ChannelA, 0, 10);
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 12)); // notifier ahead of the sink
        Feed(engine, 0, TestSupport.ChannelA, 10, 30);

        Assert.Equal([9, 10, 11, 12, 13, 14], Captured(engine).Select(w => w.WindowNumber));
    }

    [Fact]
    public void OnAlert_ClearedState_CapturesNothing()
    {
        var engine = Engine();
        Feed(engine, 0, TestSupport.ChannelA, 0, 10);
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 5, AlertState.Cleared));
        Feed(engine, 0, TestSupport.ChannelA, 10, 20);

        Assert.Empty(Captured(engine));
    }

    [Fact]
    public void OnAlert_OverlappingTriggers_NeverCaptureAWindowTwice()
    {
        var engine = Engine();
        Feed(engine, 0, TestSupport.ChannelA, 0, 20);
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 10));
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 12, AlertState.Escalated));
        Feed(engine, 0, TestSupport.ChannelA, 20, 30);

        var numbers = Captured(engine).Select(w => w.WindowNumber).ToList();
        Assert.Equal(numbers.Distinct().Count(), numbers.Count);
        Assert.Equal([7, 8, 9, 10, 11, 12, 13, 14], numbers);
    }

    [Fact]
    public void OnAlert_WindowAlreadyOutOfTheRing_CountsALateTrigger()
    {
        var engine = Engine(c => c.TriggerSlackWindows = 2); // ring of 3 + 2 + 1
        Feed(engine, 0, TestSupport.ChannelA, 0, 30);
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 5));
        Feed(engine, 0, TestSupport.ChannelA, 30, 31);

        Assert.Equal(1, engine.Counters.LateTriggers);
        Assert.Equal([25, 26], Captured(engine).Select(w => w.WindowNumber)); // the ring holds 25–30: post-trigger windows from its start
    }

    [Fact]
    public void AnomalousTrigger_RunOfAnomalies_IsOneCaptureWithItsLeadUp()
    {
        var engine = Engine(c => c.Trigger = UplinkTrigger.Anomalous);
        Feed(engine, 0, TestSupport.ChannelA, 0, 30, n => n is >= 10 and < 13);

        var windows = Captured(engine);
        Assert.Equal([7, 8, 9, 10, 11, 12, 13, 14], windows.Select(w => w.WindowNumber));
        Assert.Single(windows.Select(w => w.TriggerId).Distinct());
    }

    [Fact]
    public void Samples_OnePerIntervalPerChannel_OnlyHealthyNormalWindows()
    {
        var engine = Engine(c => c.SampleIntervalSeconds = 1); // every 10 windows
        for (var n = 0; n < 50; n++)
        {
            var a = TestSupport.Window(0, TestSupport.ChannelA, n, health: n == 0 ? ChannelHealthFlags.FlatLine : ChannelHealthFlags.None);
            engine.OnWindow(a.Result, a.Samples);
            var b = TestSupport.Window(1, TestSupport.ChannelB, n);
            engine.OnWindow(b.Result, b.Samples);
        }

        var windows = Captured(engine);
        var a0 = windows.Where(w => _sealed[0].Manifest.Channels[w.Channel].Id == TestSupport.ChannelA.ToString()).Select(w => w.WindowNumber);
        var b0 = windows.Where(w => _sealed[0].Manifest.Channels[w.Channel].Id == TestSupport.ChannelB.ToString()).Select(w => w.WindowNumber);
        Assert.Equal([1, 11, 21, 31, 41], a0); // window 0 was unhealthy: the next one is taken
        Assert.Equal([0, 10, 20, 30, 40], b0);
        Assert.All(windows, w => Assert.Equal(CaptureReason.Sample, w.Reason));
        Assert.False(_sealed[0].HasAlerts);
    }

    [Fact]
    public void ChannelBudget_Spent_DropsAndCounts_OtherChannelUnaffected()
    {
        const int bytes = TestSupport.WindowSize * 4;
        var engine = Engine(c =>
        {
            c.SampleIntervalSeconds = 0.1; // every window
            c.ChannelBytesPerDay = 10 * bytes;
            c.SampleShareOfBudget = 1;
        });
        Feed(engine, 0, TestSupport.ChannelA, 0, 30);
        Feed(engine, 1, TestSupport.ChannelB, 0, 5);

        var windows = Captured(engine);
        Assert.Equal(15, windows.Count);
        Assert.Equal(20, engine.Counters.BudgetDropped);
    }

    [Fact]
    public void SampleShare_LeavesRoomForAlertsLaterInTheDay()
    {
        const int bytes = TestSupport.WindowSize * 4;
        var engine = Engine(c =>
        {
            c.SampleIntervalSeconds = 0.1;
            c.TotalBytesPerDay = 20 * bytes;
            c.SampleShareOfBudget = 0.5;
        });
        Feed(engine, 0, TestSupport.ChannelA, 0, 40); // samples stop at 10 windows
        engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 45));
        Feed(engine, 0, TestSupport.ChannelA, 40, 60);

        var windows = Captured(engine);
        Assert.Equal(10, windows.Count(w => w.Reason == CaptureReason.Sample));
        Assert.Equal(6, windows.Count(w => w.Reason != CaptureReason.Sample));
        Assert.True(windows.Count * bytes <= 20 * bytes);
    }

    [Fact]
    public void TotalBudget_ResetsAtUtcMidnight_AndSurvivesARestartSameDay()
    {
        const int bytes = TestSupport.WindowSize * 4;
        void Configure(CaptureOptions c)
        {
            c.SampleIntervalSeconds = 0.1;
            c.TotalBytesPerDay = 5 * bytes;
            c.SampleShareOfBudget = 1;
        }

        var engine = Engine(Configure);
        Feed(engine, 0, TestSupport.ChannelA, 0, 10);
        Assert.Equal(5, Captured(engine).Count);
        var saved = _sealed[^1].Budget;

        // Restart the same day with the saved state: nothing more fits.
        var restarted = Engine(Configure, saved);
        Feed(restarted, 0, TestSupport.ChannelA, 100, 110);
        Assert.Equal(10, restarted.Counters.BudgetDropped);

        // Next UTC day: the budget is fresh.
        _time.Advance(TimeSpan.FromDays(1));
        Feed(restarted, 0, TestSupport.ChannelA, 200, 210);
        Assert.Equal(5, restarted.Counters.CapturedSample);
    }

    [Fact]
    public void Flush_BatchFullOrOld_Seals_AndManifestCarriesIdentityAndTimeRange()
    {
        var options = new UplinkOptions
        {
            Capture = new CaptureOptions { SampleIntervalSeconds = 0.1, ChannelBytesPerDay = 0, TotalBytesPerDay = 0 },
            Batch = new BatchOptions { MaxBytes = 64 * 1024, MaxAgeSeconds = 10 },
        };
        var engine = new CaptureEngine(options, _time, "gw-7", () => "pump@v9", () => TestSupport.FeatureNames, _ => new ChannelDescriptor { Id = TestSupport.ChannelA, SampleRateHz = TestSupport.SampleRate, Unit = SignalUnit.G }, _sealed.Add);
        Feed(engine, 0, TestSupport.ChannelA, 0, 16); // 16 × 4 KB = 64 KB: full

        Assert.Single(_sealed);
        var m = _sealed[0].Manifest;
        Assert.Equal("gw-7", m.GatewayId);
        Assert.Equal("pump@v9", m.ModelId);
        Assert.Equal(TestSupport.Start, m.StartUtc);
        Assert.Equal(TestSupport.Start + TimeSpan.FromSeconds(1.6), m.EndUtc);
        Assert.Equal("g", m.Channels[0].Unit);

        Feed(engine, 0, TestSupport.ChannelA, 16, 17);
        engine.Flush(force: false);
        Assert.Single(_sealed);
        _time.Advance(TimeSpan.FromSeconds(11));
        engine.Flush(force: false);
        Assert.Equal(2, _sealed.Count);
    }
}
