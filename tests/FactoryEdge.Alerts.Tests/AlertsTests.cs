using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Alerts.Tests;

public sealed class PayloadAndRoutingTests
{
    [Fact]
    public void AlertJson_RoundTrip_KeepsEveryField()
    {
        var alert = Alerts.Make();
        var json = AlertJson.Serialize(alert, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var back = AlertJson.Deserialize(json);
        Assert.Equal(alert.AlertId, back.AlertId);
        Assert.Equal(alert.Channel, back.Channel);
        Assert.Equal(alert.State, back.State);
        Assert.Equal(alert.Severity, back.Severity);
        Assert.Equal(alert.SourceTime, back.SourceTime);
        Assert.Equal(alert.Score, back.Score);
        Assert.Equal(alert.Threshold, back.Threshold);
        Assert.Equal(alert.ModelId, back.ModelId);
        Assert.Equal(alert.TopFeatures, back.TopFeatures);

        using var doc = JsonDocument.Parse(json);
        Assert.Equal("alarm", doc.RootElement.GetProperty("severity").GetString());
        Assert.Equal("pump-1", doc.RootElement.GetProperty("machine").GetString());
        Assert.Equal("2026-01-02T03:04:05.0000000+00:00", doc.RootElement.GetProperty("timestamps").GetProperty("dispatched").GetString());
    }

    [Fact]
    public void AlertJson_Explanation_RoundTrips()
    {
        var alert = Alerts.Make() with { Explanation = new AlertExplanation("outer race (BPFO line at 106.4 Hz)", [new("env_bpfo", 18.0), new("kurtosis", 9.0)], "outer race", 106.4) };
        var json = AlertJson.Serialize(alert, DateTimeOffset.UnixEpoch);
        var back = AlertJson.Deserialize(json).Explanation!;
        Assert.Equal("outer race", back.Defect);
        Assert.Equal(106.4, back.DefectFrequencyHz);
        Assert.Equal(alert.Explanation.Drivers, back.Drivers);
        using var doc = JsonDocument.Parse(AlertJson.Serialize(Alerts.Make(), DateTimeOffset.UnixEpoch));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("explanation").ValueKind);
    }

    [Fact]
    public void AlertJson_NaNScore_IsNull()
    {
        var json = AlertJson.Serialize(Alerts.Make() with { Score = float.NaN }, DateTimeOffset.UnixEpoch);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("score").ValueKind);
        Assert.True(float.IsNaN(AlertJson.Deserialize(json).Score));
    }

    [Theory]
    [InlineData(AlertSeverity.Warning, AlertState.Raised, "pump-1", false)]
    [InlineData(AlertSeverity.Alarm, AlertState.Raised, "pump-1", true)]
    [InlineData(AlertSeverity.Warning, AlertState.Cleared, "pump-1", true)]
    [InlineData(AlertSeverity.Critical, AlertState.Raised, "fan-9", false)]
    public void Route_FiltersBySeverityAndMachine(AlertSeverity severity, AlertState state, string machine, bool expected)
    {
        var route = new AlertRoute(new AlertRouteOptions { MinimumSeverity = AlertSeverity.Alarm, Machines = ["plant1/*/pump-1"] });
        Assert.Equal(expected, route.Matches(Alerts.Make(severity: severity, state: state, machine: machine)));
    }

    [Fact]
    public void RateLimiter_LimitsPerMachine_RefillsOverTime_LetsClearedThrough()
    {
        var time = new FakeTimeProvider();
        var limiter = new AlertRateLimiter(2, time);
        Assert.True(limiter.TryAcquire(Alerts.Make("1")));
        Assert.True(limiter.TryAcquire(Alerts.Make("2")));
        Assert.False(limiter.TryAcquire(Alerts.Make("3")));
        Assert.True(limiter.TryAcquire(Alerts.Make("4", machine: "other")));
        Assert.True(limiter.TryAcquire(Alerts.Make("1", state: AlertState.Cleared)));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(limiter.TryAcquire(Alerts.Make("5")));
        Assert.Equal(1, limiter.Suppressed);
    }
}

public sealed class OptionsAndHostingTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>("FactoryEdge:Alerts:" + p.Key, p.Value))).Build();

    [Fact]
    public void Validator_BadKeys_NamesKeyAndAllowedValues()
    {
        var options = new AlertsOptions
        {
            Mqtt = new MqttAlertOptions { Enabled = true, Port = 0, TopicPrefix = "a/#" },
            Webhooks = [new WebhookAlertOptions { Name = "chat", Url = "ftp://x", Secret = "short", Machines = ["a/b"] }],
        };
        var result = new AlertsOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var text = string.Join("\n", result.Failures!);
        Assert.Contains("FactoryEdge:Alerts:Mqtt:Port is 0; allowed: 1..65535.", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Alerts:Mqtt:TopicPrefix", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Alerts:Webhooks:0:Url", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Alerts:Webhooks:0:Secret", text, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Alerts:Webhooks:0:Machines", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AddFactoryEdgeAlerts_Webhook_RegistersFanOutNotifier()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(Config(("Webhooks:0:Name", "chat"), ("Webhooks:0:Url", "http://127.0.0.1:9/hook"), ("Webhooks:0:Secret", "0123456789abcdef")));
        using var provider = services.BuildServiceProvider();
        var notifier = Assert.Single(provider.GetServices<IAlertNotifier>());
        Assert.Equal("alerts", notifier.Name);
        Assert.Single(provider.GetRequiredService<AlertNotifierSet>().All);
    }

    [Fact]
    public void AddFactoryEdgeAlerts_BadSeverity_FailsValidation()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(Config(("Mqtt:Enabled", "true"), ("Mqtt:Port", "70000")));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AlertsOptions>>().Value);
        Assert.Contains("Mqtt:Port", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class OutboxTests
{
    [Fact]
    public void SqliteOutbox_SurvivesReopen_DueOrderAndReschedule()
    {
        var path = Path.Combine(Path.GetTempPath(), "fe-alerts-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using (var outbox = new SqliteAlertOutbox(path))
            {
                outbox.Add(new OutboxEntry("mqtt", "a", AlertState.Raised, [1], 10, 1, 10));
                outbox.Add(new OutboxEntry("mqtt", "b", AlertState.Raised, [2], 20, 1, 20));
                outbox.Add(new OutboxEntry("mqtt", "a", AlertState.Raised, [9], 30, 1, 30));
                outbox.Reschedule("mqtt", "b", AlertState.Raised, 2, 100);
            }

            using (var outbox = new SqliteAlertOutbox(path))
            {
                Assert.Equal(2, outbox.Count("mqtt"));
                var due = outbox.Due("mqtt", 50, 10);
                var a = Assert.Single(due);
                Assert.Equal([1], a.Payload);
                Assert.Equal(2, outbox.Due("mqtt", 100, 10).Count);
                outbox.Remove("mqtt", "a", AlertState.Raised);
                Assert.Equal(1, outbox.Count("mqtt"));
                Assert.Equal(0, outbox.Count("webhook:x"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}

public sealed class MqttNotifierTests
{
    private static readonly AlertsOptions Options = new() { Mqtt = new MqttAlertOptions { Enabled = true, TopicPrefix = "fe/alerts", MaxAlertsPerMachinePerMinute = 0 } };

    internal static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("Waited 10 s for " + what);
            }

            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Notify_Connected_PublishesEventAndRetainedState()
    {
        var transport = new FakeMqttTransport();
        var outbox = new InMemoryAlertOutbox();
        await using var notifier = new MqttAlertNotifier(Options, transport, outbox, TimeProvider.System, NullLogger.Instance);
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None));

        await notifier.NotifyAsync(Alerts.Make(), CancellationToken.None);

        var published = transport.Published.ToArray();
        Assert.Equal(2, published.Length);
        var evt = Assert.Single(published, p => p.Topic == "fe/alerts/plant1/line2/pump-1/events");
        Assert.False(evt.Retain);
        Assert.Equal("a-1", AlertJson.Deserialize(evt.Payload).AlertId);
        var state = Assert.Single(published, p => p.Topic == "fe/alerts/plant1/line2/pump-1/state");
        Assert.True(state.Retain);
        using var doc = JsonDocument.Parse(state.Payload);
        Assert.Equal("alarm", doc.RootElement.GetProperty("status").GetString());
        await WaitUntil(() => notifier.Delivered == 1 && outbox.Count("mqtt") == 0, "outbox emptied");
    }

    [Fact]
    public async Task Notify_Cleared_StateBecomesNormal()
    {
        var transport = new FakeMqttTransport();
        await using var notifier = new MqttAlertNotifier(Options, transport, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger.Instance);
        await notifier.TryConnectAsync(CancellationToken.None);
        await notifier.NotifyAsync(Alerts.Make(), CancellationToken.None);
        await notifier.NotifyAsync(Alerts.Make(state: AlertState.Cleared, sourceTicks: 638_000_000_100_000_000), CancellationToken.None);
        var last = transport.Published.Last(p => p.Retain);
        using var doc = JsonDocument.Parse(last.Payload);
        Assert.Equal("normal", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("activeAlerts").GetArrayLength());
    }

    [Fact]
    public async Task Notify_BrokerDown_QueuesThenRedeliversSameIdAfterReconnect()
    {
        var transport = new FakeMqttTransport { Up = false };
        var outbox = new InMemoryAlertOutbox();
        await using var notifier = new MqttAlertNotifier(Options, transport, outbox, TimeProvider.System, NullLogger.Instance);
        Assert.False(await notifier.TryConnectAsync(CancellationToken.None));

        await notifier.NotifyAsync(Alerts.Make("x-1"), CancellationToken.None);
        await notifier.NotifyAsync(Alerts.Make("x-2"), CancellationToken.None);
        await WaitUntil(() => outbox.Count("mqtt") == 2, "two queued");
        Assert.Empty(transport.Published);

        transport.Up = true;
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None));
        // Entries are rescheduled with backoff after the failed first attempt; retry once they are due.
        await WaitUntil(() => outbox.Due("mqtt", TimeProvider.System.GetUtcNow().UtcTicks, 10).Count == 2, "entries due");
        Assert.Equal(2, await notifier.RetryDueAsync(CancellationToken.None));

        var ids = transport.Published.Where(p => !p.Retain).Select(p => AlertJson.Deserialize(p.Payload).AlertId).ToArray();
        Assert.Equal(["x-1", "x-2"], ids);
        Assert.Equal(0, outbox.Count("mqtt"));
        Assert.Equal(2, notifier.Redelivered);
    }

    [Fact]
    public async Task RunAsync_Reconnects_AndDrainsOutbox()
    {
        var transport = new FakeMqttTransport();
        var outbox = new InMemoryAlertOutbox();
        var options = new AlertsOptions { RetryScanInterval = TimeSpan.FromMilliseconds(20), Mqtt = new MqttAlertOptions { Enabled = true, ReconnectMinDelay = TimeSpan.FromMilliseconds(10), MaxAlertsPerMachinePerMinute = 0 } };
        await using var notifier = new MqttAlertNotifier(options, transport, outbox, TimeProvider.System, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var run = notifier.RunAsync(cts.Token);
        await WaitUntil(() => transport.IsConnected, "connected");
        transport.Drop();
        transport.Up = false;
        await notifier.NotifyAsync(Alerts.Make("q-1"), CancellationToken.None);
        await WaitUntil(() => outbox.Count("mqtt") == 1, "queued");
        transport.Up = true;
        await WaitUntil(() => outbox.Count("mqtt") == 0, "drained after reconnect");
        Assert.Equal(1, notifier.Reconnects);
        Assert.Contains(transport.Published, p => !p.Retain && AlertJson.Deserialize(p.Payload).AlertId == "q-1");
        await cts.CancelAsync();
        await run;
    }
}

public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task SqliteOutbox_AlertRaisedWhileDown_DeliveredByNextProcessWithSameId()
    {
        var path = Path.Combine(Path.GetTempPath(), "fe-alerts-crash-" + Guid.NewGuid().ToString("N") + ".db");
        var options = new AlertsOptions { Mqtt = new MqttAlertOptions { Enabled = true, MaxAlertsPerMachinePerMinute = 0 } };
        try
        {
            using (var outbox = new SqliteAlertOutbox(path))
            {
                await using var first = new MqttAlertNotifier(options, new FakeMqttTransport { Up = false }, outbox, TimeProvider.System, NullLogger.Instance);
                await first.NotifyAsync(Alerts.Make("crash-1"), CancellationToken.None);
                await MqttNotifierTests.WaitUntil(() => outbox.Count("mqtt") == 1, "persisted");
            }

            using (var outbox = new SqliteAlertOutbox(path))
            {
                var transport = new FakeMqttTransport();
                await using var second = new MqttAlertNotifier(options, transport, outbox, TimeProvider.System, NullLogger.Instance);
                Assert.True(await second.TryConnectAsync(CancellationToken.None));
                Assert.Equal(1, await second.RetryDueAsync(CancellationToken.None));
                var evt = Assert.Single(transport.Published, p => !p.Retain);
                Assert.Equal("crash-1", AlertJson.Deserialize(evt.Payload).AlertId);
                Assert.Equal(0, outbox.Count("mqtt"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}

public sealed class WebhookNotifierTests
{
    private const string Secret = "0123456789abcdef-secret";

    private static (WebhookAlertNotifier Notifier, InMemoryAlertOutbox Outbox, HttpClient Http) Create(WebhookReceiver receiver, int maxAttempts = 10)
    {
        var hook = new WebhookAlertOptions { Name = "chat", Url = receiver.Url, Secret = Secret, MaxAttempts = maxAttempts, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(1), MaxAlertsPerMachinePerMinute = 0 };
        var outbox = new InMemoryAlertOutbox();
        var http = new HttpClient();
        return (new WebhookAlertNotifier(hook, new AlertsOptions(), http, false, outbox, TimeProvider.System, NullLogger.Instance), outbox, http);
    }

    [Fact]
    public async Task Notify_PostsSignedJsonWithIdempotencyKey()
    {
        using var receiver = new WebhookReceiver();
        var (notifier, outbox, http) = Create(receiver);
        using (http)
        using (notifier)
        {
            await notifier.NotifyAsync(Alerts.Make(), CancellationToken.None);
            await MqttNotifierTests.WaitUntil(() => notifier.Delivered == 1, "delivered");
            var request = Assert.Single(receiver.Requests);
            Assert.Equal("a-1:raised", request.Headers["Idempotency-Key"]);
            Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
            Assert.True(WebhookAlertNotifier.Verify(Encoding.UTF8.GetBytes(Secret), request.Headers[WebhookAlertNotifier.TimestampHeader], request.Body, request.Headers[WebhookAlertNotifier.SignatureHeader]));
            Assert.False(WebhookAlertNotifier.Verify(Encoding.UTF8.GetBytes("wrong-secret-0123456"), request.Headers[WebhookAlertNotifier.TimestampHeader], request.Body, request.Headers[WebhookAlertNotifier.SignatureHeader]));
            Assert.Equal("a-1", AlertJson.Deserialize(request.Body).AlertId);
            Assert.Equal(0, outbox.Count(notifier.Name));
        }
    }

    [Fact]
    public async Task Notify_ServerErrors_RetriedWithSameIdempotencyKey()
    {
        using var receiver = new WebhookReceiver();
        receiver.Script.Enqueue(503);
        receiver.Script.Enqueue(500);
        var (notifier, outbox, http) = Create(receiver);
        using (http)
        using (notifier)
        {
            await notifier.NotifyAsync(Alerts.Make("w-1"), CancellationToken.None);
            await MqttNotifierTests.WaitUntil(() => outbox.Due(notifier.Name, TimeProvider.System.GetUtcNow().UtcTicks, 1).Count == 1, "queued and due");
            while (outbox.Count(notifier.Name) > 0)
            {
                await notifier.RetryDueAsync(CancellationToken.None);
                await Task.Delay(5);
            }

            var requests = receiver.Requests.ToArray();
            Assert.Equal([503, 500, 200], requests.Select(r => r.Answered));
            Assert.All(requests, r => Assert.Equal("w-1:raised", r.Headers["Idempotency-Key"]));
            Assert.Equal(1, notifier.Redelivered);
        }
    }

    [Fact]
    public async Task Notify_ClientError_Dropped()
    {
        using var receiver = new WebhookReceiver();
        receiver.Script.Enqueue(400);
        var (notifier, outbox, http) = Create(receiver);
        using (http)
        using (notifier)
        {
            await notifier.NotifyAsync(Alerts.Make(), CancellationToken.None);
            await MqttNotifierTests.WaitUntil(() => notifier.Dropped == 1, "dropped");
            Assert.Equal(0, outbox.Count(notifier.Name));
        }
    }

    [Fact]
    public async Task Notify_ReceiverDown_GivesUpAfterMaxAttempts()
    {
        var port = Alerts.FreePort();
        var hook = new WebhookAlertOptions { Name = "down", Url = $"http://127.0.0.1:{port}/", Secret = Secret, MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(1) };
        var outbox = new InMemoryAlertOutbox();
        using var http = new HttpClient();
        using var notifier = new WebhookAlertNotifier(hook, new AlertsOptions(), http, false, outbox, TimeProvider.System, NullLogger.Instance);
        await notifier.NotifyAsync(Alerts.Make(), CancellationToken.None);
        await MqttNotifierTests.WaitUntil(() => outbox.Count(notifier.Name) == 1, "queued");
        while (outbox.Count(notifier.Name) > 0)
        {
            await Task.Delay(5);
            await notifier.RetryDueAsync(CancellationToken.None);
        }

        Assert.Equal(1, notifier.Dropped);
    }
}
