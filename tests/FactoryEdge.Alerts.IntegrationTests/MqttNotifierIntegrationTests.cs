using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace FactoryEdge.Alerts.IntegrationTests;

[Trait("Category", "Integration")]
public sealed class MqttNotifierIntegrationTests(ITestOutputHelper output)
{
    private static Alert MakeAlert(string id, AlertState state = AlertState.Raised, string machine = "pump-1", int second = 0) => new()
    {
        AlertId = id,
        Channel = new ChannelId("plant1", "line2", machine, "de-bearing", "x"),
        State = state,
        Severity = AlertSeverity.Alarm,
        SourceTime = new DateTimeOffset(2026, 11, 26, 12, 0, second, TimeSpan.Zero),
        Score = 4.5f,
        Threshold = 2f,
        ModelId = "kmeans-v3",
        Message = "vibration anomaly on plant1/line2/" + machine,
        TopFeatures = [new("rms", 2.5f)],
        ProcessingLatencyMicroseconds = 640,
    };

    private static AlertsOptions Options(int port) => new()
    {
        RetryScanInterval = TimeSpan.FromMilliseconds(50),
        Mqtt = new MqttAlertOptions
        {
            Enabled = true,
            Host = "127.0.0.1",
            Port = port,
            ClientId = "fe-test-" + Guid.NewGuid().ToString("N")[..8],
            TopicPrefix = "fe/alerts",
            PublishTimeout = TimeSpan.FromSeconds(1),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(400),
            MaxAlertsPerMachinePerMinute = 0,
        },
    };

    private static async Task WaitUntil(Func<bool> condition, string what, int seconds = 15)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"Waited {seconds} s for {what}");
            }

            await Task.Delay(10);
        }
    }

    [MosquittoFact]
    public async Task Notify_SubscriberReceivesJsonEvent_AndRetainedMachineState()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using var subscriber = await Subscriber.ConnectAsync(broker.Port, "fe/alerts/#");
        await using var notifier = new MqttAlertNotifier(Options(broker.Port), new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None), broker.Log);

        await notifier.NotifyAsync(MakeAlert("it-1"), CancellationToken.None);

        await WaitUntil(() => subscriber.Messages.Count >= 2, "event and state");
        var evt = Assert.Single(subscriber.Messages, m => m.Topic == "fe/alerts/plant1/line2/pump-1/events");
        using (var doc = JsonDocument.Parse(evt.Payload))
        {
            Assert.Equal("it-1", doc.RootElement.GetProperty("alertId").GetString());
            Assert.Equal("raised", doc.RootElement.GetProperty("state").GetString());
            Assert.Equal("plant1/line2/pump-1/de-bearing/x", doc.RootElement.GetProperty("channel").GetString());
            Assert.Equal(4.5, doc.RootElement.GetProperty("score").GetDouble(), 3);
        }

        // A subscriber that arrives later still learns the machine's state (retained).
        await using var late = await Subscriber.ConnectAsync(broker.Port, "fe/alerts/+/+/+/state");
        await WaitUntil(() => !late.Messages.IsEmpty, "retained state");
        var state = Assert.Single(late.Messages);
        Assert.True(state.Retain);
        using var stateDoc = JsonDocument.Parse(state.Payload);
        Assert.Equal("alarm", stateDoc.RootElement.GetProperty("status").GetString());
        Assert.Equal("it-1", stateDoc.RootElement.GetProperty("activeAlerts")[0].GetProperty("alertId").GetString());
    }

    [MosquittoFact]
    public async Task BrokerRestarted_AlertsRaisedWhileDown_DeliveredAfterwardsWithSameIds()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        var outboxPath = Path.Combine(Path.GetTempPath(), "fe-alert-outbox-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using var outbox = new SqliteAlertOutbox(outboxPath);
            await using var notifier = new MqttAlertNotifier(Options(broker.Port), outbox, TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
            using (var run = new CancellationTokenSource())
            {
                var loop = notifier.RunAsync(run.Token);
                await WaitUntil(() => notifier.IsConnected, "first connect");
                await notifier.NotifyAsync(MakeAlert("before"), CancellationToken.None);
                await WaitUntil(() => notifier.Delivered == 1, "first alert acknowledged");

                broker.Stop();
                await notifier.NotifyAsync(MakeAlert("down-1", second: 1), CancellationToken.None);
                await notifier.NotifyAsync(MakeAlert("down-2", machine: "pump-2", second: 2), CancellationToken.None);
                await notifier.NotifyAsync(MakeAlert("down-1", AlertState.Cleared, second: 3), CancellationToken.None);
                await WaitUntil(() => outbox.Count("mqtt") == 3, "three alerts in the outbox");
                await run.CancelAsync();
                await loop;
            }

            // Same port; the subscriber is there before the notifier reconnects, so it sees the resends.
            await broker.StartAsync();
            await using var subscriber = await Subscriber.ConnectAsync(broker.Port, "fe/alerts/+/+/+/events");
            using var again = new CancellationTokenSource();
            var reconnect = notifier.RunAsync(again.Token);
            await WaitUntil(() => outbox.Count("mqtt") == 0 && subscriber.Messages.Count >= 3, "queued alerts delivered after the restart", 30);
            await again.CancelAsync();
            await reconnect;

            var received = subscriber.Messages.Select(m =>
            {
                using var doc = JsonDocument.Parse(m.Payload);
                return doc.RootElement.GetProperty("alertId").GetString() + ":" + doc.RootElement.GetProperty("state").GetString();
            }).ToArray();
            Assert.Equal(["down-1:raised", "down-2:raised", "down-1:cleared"], received);
            Assert.Equal(3, notifier.Redelivered);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { outboxPath, outboxPath + "-wal", outboxPath + "-shm" })
            {
                File.Delete(f);
            }
        }
    }

    [MosquittoFact]
    public async Task Tls_WithUserAndPassword_Delivers_WrongPassword_Refused()
    {
        using var broker = new MosquittoBroker(tls: true, username: "edge", password: "s3cret-pass");
        await broker.StartAsync();
        var options = Options(broker.Port);
        options.Mqtt.UseTls = true;
        options.Mqtt.AllowUntrustedCertificates = true;
        options.Mqtt.Username = "edge";
        options.Mqtt.Password = "s3cret-pass";
        await using var notifier = new MqttAlertNotifier(options, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None), broker.Log);
        await notifier.NotifyAsync(MakeAlert("tls-1"), CancellationToken.None);
        await WaitUntil(() => notifier.Delivered == 1, "acknowledged over TLS");

        options.Mqtt.Password = "wrong";
        options.Mqtt.ClientId += "-bad";
        await using var refused = new MqttAlertNotifier(options, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.False(await refused.TryConnectAsync(CancellationToken.None));
    }

    [MosquittoFact]
    public async Task Tls_WithClientCertificate_Delivers()
    {
        using var broker = new MosquittoBroker(tls: true, username: null, password: null, requireClientCertificate: true);
        await broker.StartAsync();
        var options = Options(broker.Port);
        options.Mqtt.UseTls = true;
        options.Mqtt.AllowUntrustedCertificates = true;
        options.Mqtt.ClientCertificatePath = broker.ClientPfxPath;
        options.Mqtt.ClientCertificatePassword = MosquittoBroker.ClientPfxPassword;
        await using var notifier = new MqttAlertNotifier(options, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None), broker.Log);
        await notifier.NotifyAsync(MakeAlert("mtls-1"), CancellationToken.None);
        await WaitUntil(() => notifier.Delivered == 1, "acknowledged over mutual TLS");

        options.Mqtt.ClientCertificatePath = null;
        options.Mqtt.ClientId += "-nocert";
        await using var refused = new MqttAlertNotifier(options, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.False(await refused.TryConnectAsync(CancellationToken.None));
    }

    [MosquittoFact]
    public async Task Latency_1000Alerts_PubAckAndReceipt_ReportsPercentiles()
    {
        const int count = 1000;
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        var received = new ConcurrentDictionary<string, long>();
        await using var subscriber = await Subscriber.ConnectAsync(broker.Port, "fe/alerts/+/+/+/events", (topic, payload) =>
        {
            var now = Stopwatch.GetTimestamp();
            using var doc = JsonDocument.Parse(payload);
            received[doc.RootElement.GetProperty("alertId").GetString()!] = now;
        });
        var options = Options(broker.Port);
        options.Mqtt.PublishTimeout = TimeSpan.FromSeconds(10);
        await using var notifier = new MqttAlertNotifier(options, new InMemoryAlertOutbox(), TimeProvider.System, NullLogger<MqttAlertNotifier>.Instance);
        Assert.True(await notifier.TryConnectAsync(CancellationToken.None));

        // Reference in the same run: a bare QoS 1 publish → PUBACK on a second MQTTnet client.
        using var bare = new MqttClientFactory().CreateMqttClient();
        var bareOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("fe-bare").Build();
        ((MqttClientTcpOptions)bareOptions.ChannelOptions).NoDelay = true;
        await bare.ConnectAsync(bareOptions);
        var bareMs = new double[count];
        var message = new MqttApplicationMessageBuilder().WithTopic("fe/bare").WithPayload(new byte[400]).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        for (var i = 0; i < 50; i++)
        {
            await bare.PublishAsync(message);
            await notifier.NotifyAsync(MakeAlert("warm-" + i.ToString(CultureInfo.InvariantCulture), machine: "warm"), CancellationToken.None);
        }

        for (var i = 0; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await bare.PublishAsync(message);
            bareMs[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        var ackMs = new double[count];
        var sent = new long[count];
        for (var i = 0; i < count; i++)
        {
            var alert = MakeAlert("lat-" + i.ToString(CultureInfo.InvariantCulture), machine: "m" + (i % 100).ToString(CultureInfo.InvariantCulture));
            sent[i] = Stopwatch.GetTimestamp();
            await notifier.NotifyAsync(alert, CancellationToken.None);
            ackMs[i] = Stopwatch.GetElapsedTime(sent[i]).TotalMilliseconds;
        }

        await WaitUntil(() => Enumerable.Range(0, count).All(i => received.ContainsKey("lat-" + i.ToString(CultureInfo.InvariantCulture))), "all alerts received");
        var receiptMs = Enumerable.Range(0, count).Select(i => Stopwatch.GetElapsedTime(sent[i], received["lat-" + i.ToString(CultureInfo.InvariantCulture)]).TotalMilliseconds).ToArray();
        await bare.DisconnectAsync();

        var report = string.Join(Environment.NewLine,
            Line("bare publish → PUBACK", bareMs),
            Line("NotifyAsync → PUBACK (event + retained state)", ackMs),
            Line("NotifyAsync start → subscriber receipt", receiptMs));
        output.WriteLine(report);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "mqtt-latency.txt"), report + Environment.NewLine);

        Assert.Equal(count, notifier.Delivered - 50);
        Assert.True(Percentile(ackMs, 0.99) < 50, report);
    }

    private static string Line(string what, double[] ms) => string.Create(CultureInfo.InvariantCulture,
        $"{what,-48} n={ms.Length} p50={Percentile(ms, 0.50):F3} ms p99={Percentile(ms, 0.99):F3} ms max={ms.Max():F3} ms");

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly IMqttClient _client;

        private Subscriber(IMqttClient client) => _client = client;

        public ConcurrentQueue<(string Topic, byte[] Payload, bool Retain)> Messages { get; } = new();

        public static async Task<Subscriber> ConnectAsync(int port, string filter, Action<string, byte[]>? onMessage = null)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var subscriber = new Subscriber(client);
            client.ApplicationMessageReceivedAsync += e =>
            {
                var payload = e.ApplicationMessage.Payload.ToArray();
                if (onMessage is null)
                {
                    subscriber.Messages.Enqueue((e.ApplicationMessage.Topic, payload, e.ApplicationMessage.Retain));
                }
                else
                {
                    onMessage(e.ApplicationMessage.Topic, payload);
                }

                return Task.CompletedTask;
            };
            var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("fe-sub-" + Guid.NewGuid().ToString("N")[..8]).Build();
            ((MqttClientTcpOptions)options.ChannelOptions).NoDelay = true;
            await client.ConnectAsync(options);
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return subscriber;
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
        }
    }
}
