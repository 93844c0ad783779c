using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Protocol;

namespace FactoryEdge.Alerts.IntegrationTests;

/// <summary>Acknowledgement through the MQTT command topic against a real mosquitto, the gateway composed with AddFactoryEdgeAlerts.</summary>
[Trait("Category", "Integration")]
public sealed class AlarmCommandIntegrationTests
{
    private const string Prefix = "fe/alerts";
    private const string CommandTopic = "fe/alerts/commands";

    [MosquittoFact]
    public async Task AckOnCommandTopic_AuditedReplyAndRetainedAlarmState()
    {
        await using var run = await GatewayRun.StartAsync();
        await run.RaiseAsync("ack-1");

        await run.Operator.PublishAsync(CommandTopic, """{"action":"ack","alertId":"ack-1","user":"jane","comment":"bearing greased","requestId":"r-1"}""");

        var reply = await run.Operator.WaitForAsync(m => m.Topic == CommandTopic + "/replies" && m.Json.RootElement.GetProperty("requestId").GetString() == "r-1");
        Assert.True(reply.Json.RootElement.GetProperty("succeeded").GetBoolean(), reply.Text);
        Assert.True(run.Board.Snapshot().Single(v => v.AlertId == "ack-1").Acknowledged);

        // The audit line is on disk before the reply is published.
        var line = run.AuditLines().Single();
        Assert.Equal(("jane", "mqtt", "acknowledge", "ack-1", true), (line.GetProperty("user").GetString(), line.GetProperty("source").GetString(), line.GetProperty("action").GetString(), line.GetProperty("target").GetString(), line.GetProperty("succeeded").GetBoolean()));
        Assert.Contains("bearing greased", line.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Retained alarm state of the machine shows the acknowledgement (a late subscriber sees it too).
        await using var late = await MqttPeer.ConnectAsync(run.Broker.Port, Prefix + "/plant1/line2/pump-1/alarms");
        var state = await late.WaitForAsync(m => m.Retain && m.Json.RootElement.GetProperty("alarms").EnumerateArray().Any(a => a.GetProperty("alertId").GetString() == "ack-1" && a.GetProperty("acknowledged").GetBoolean()));
        Assert.Equal("jane", state.Json.RootElement.GetProperty("alarms")[0].GetProperty("acknowledgedBy").GetString());
    }

    [MosquittoFact]
    public async Task AckOnOtherTopics_Ignored_RetainedAckRefused()
    {
        await using var run = await GatewayRun.StartAsync();
        await run.RaiseAsync("ack-2");
        var ack = """{"action":"ack","alertId":"ack-2","user":"mallory","requestId":"x"}""";

        await run.Operator.PublishAsync(CommandTopic + "-other", ack);
        await run.Operator.PublishAsync(Prefix + "/plant1/line2/pump-1/commands", ack);
        await run.Operator.PublishAsync("fe/alerts/Commands", ack);
        // A sentinel on the real topic: once its reply is back, everything published before it was handled.
        await run.Operator.PublishAsync(CommandTopic, """{"action":"unshelve","alertId":"ack-2","user":"jane","requestId":"sentinel"}""");
        await run.Operator.WaitForAsync(m => m.Topic == CommandTopic + "/replies" && m.Json.RootElement.GetProperty("requestId").GetString() == "sentinel");

        Assert.False(run.Board.Snapshot().Single(v => v.AlertId == "ack-2").Acknowledged);
        Assert.DoesNotContain(run.Operator.Messages, m => m.Topic == CommandTopic + "/replies" && m.Json.RootElement.GetProperty("requestId").GetString() == "x");
        var audit = Assert.Single(run.AuditLines());
        Assert.False(audit.GetProperty("succeeded").GetBoolean());
        Assert.Equal(("unshelve", "jane"), (audit.GetProperty("action").GetString(), audit.GetProperty("user").GetString()));
    }

    [MosquittoFact]
    public async Task RetainedCommand_ReplayedOnSubscribe_RefusedAndAudited()
    {
        await using var run = await GatewayRun.StartAsync(async port =>
        {
            // Left retained on the command topic before the gateway subscribes: the broker replays it.
            await using var early = await MqttPeer.ConnectAsync(port, "fe/none");
            await early.PublishAsync(CommandTopic, """{"action":"ack","alertId":"old-1","user":"mallory","requestId":"replayed"}""", retain: true);
        });

        var reply = await run.Operator.WaitForAsync(m => m.Topic == CommandTopic + "/replies" && m.Json.RootElement.GetProperty("requestId").GetString() == "replayed");
        Assert.False(reply.Json.RootElement.GetProperty("succeeded").GetBoolean());
        var refusal = run.AllAuditLines().First(a => a.GetProperty("user").GetString() == "mallory");
        Assert.False(refusal.GetProperty("succeeded").GetBoolean());
        Assert.Contains("retained", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await run.Operator.PublishAsync(CommandTopic, "", retain: true);
    }

    [MosquittoFact]
    public async Task EventReceivedFromBroker_ValidAgainstDocumentedSchema()
    {
        await using var run = await GatewayRun.StartAsync();
        await using var consumer = await MqttPeer.ConnectAsync(run.Broker.Port, Prefix + "/+/+/+/events");
        var complete = new DateTimeOffset(2026, 11, 26, 12, 0, 0, 160, TimeSpan.Zero);
        await run.RaiseAsync("schema-1", a => a with
        {
            Explanation = new AlertExplanation("outer race (BPFO line at 106.4 Hz); env_bpfo +18σ", [new("env_bpfo", 18.0)], "outer race", 106.4),
            IsoZone = IsoZone.C,
            TopFeatures = [new("rms", 1.5f), new("env_bpfo", 0.4f)],
            WindowCompleteTime = complete,
            ScoredTime = complete.AddTicks(3000),
            ProcessingLatencyMicroseconds = 640,
        });

        var message = await consumer.WaitForAsync(m => m.Json.RootElement.GetProperty("alertId").GetString() == "schema-1");

        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "alert-event.schema.json")));
        var errors = FactoryEdge.Alerts.Tests.SchemaValidator.Validate(schema.RootElement, message.Json.RootElement);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors) + Environment.NewLine + message.Text);
        Assert.Equal("C", message.Json.RootElement.GetProperty("isoZone").GetString());
        Assert.Equal(106.4, message.Json.RootElement.GetProperty("explanation").GetProperty("defectFrequencyHz").GetDouble());
    }

    private sealed class GatewayRun : IAsyncDisposable
    {
        private readonly string _directory;

        private GatewayRun(MosquittoBroker broker, IHost host, MqttPeer op, string directory)
        {
            Broker = broker;
            Host = host;
            Operator = op;
            _directory = directory;
            AuditPath = Path.Combine(directory, "audit.jsonl");
        }

        public MosquittoBroker Broker { get; }

        public IHost Host { get; }

        public MqttPeer Operator { get; }

        public string AuditPath { get; }

        public IAlarmBoard Board => Host.Services.GetRequiredService<IAlarmBoard>();

        private int _auditBaseline;

        /// <summary>Audit lines written after start-up (the readiness probes excluded).</summary>
        public JsonElement[] AuditLines() => [.. AllAuditLines().Skip(_auditBaseline)];

        public JsonElement[] AllAuditLines() => [.. File.ReadAllLines(AuditPath).Select(l => JsonDocument.Parse(l).RootElement)];

        public static async Task<GatewayRun> StartAsync(Func<int, Task>? beforeGateway = null)
        {
            var broker = new MosquittoBroker();
            await broker.StartAsync();
            if (beforeGateway is not null)
            {
                await beforeGateway(broker.Port);
            }

            var directory = Path.Combine(Path.GetTempPath(), "fe-alarm-it-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["FactoryEdge:Alerts:Mqtt:Enabled"] = "true",
                ["FactoryEdge:Alerts:Mqtt:Host"] = "127.0.0.1",
                ["FactoryEdge:Alerts:Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
                ["FactoryEdge:Alerts:Mqtt:ClientId"] = "fe-it-" + Guid.NewGuid().ToString("N")[..8],
                ["FactoryEdge:Alerts:Mqtt:TopicPrefix"] = Prefix,
                ["FactoryEdge:Alerts:Lifecycle:CommandTopic"] = CommandTopic,
                ["FactoryEdge:Alerts:Lifecycle:AuditLogPath"] = Path.Combine(directory, "audit.jsonl"),
            });
            builder.Services.AddFactoryEdgeAlerts(builder.Configuration);
            var host = builder.Build();
            await host.StartAsync();
            var op = await MqttPeer.ConnectAsync(broker.Port, CommandTopic + "/replies");
            await Task.Delay(beforeGateway is null ? 0 : 500);
            var run = new GatewayRun(broker, host, op, directory);

            // Ready once the command service answers (it subscribes after connecting).
            var watch = Stopwatch.StartNew();
            while (true)
            {
                await op.PublishAsync(CommandTopic, """{"action":"ack","alertId":"probe","user":"probe","requestId":"probe"}""");
                if (await op.TryWaitForAsync(m => m.Json.RootElement.GetProperty("requestId").GetString() == "probe", TimeSpan.FromMilliseconds(300)))
                {
                    break;
                }

                if (watch.Elapsed > TimeSpan.FromSeconds(15))
                {
                    throw new TimeoutException("the command service did not answer: " + broker.Log);
                }
            }

            await Task.Delay(200);
            run._auditBaseline = File.ReadAllLines(run.AuditPath).Length;   // the probes (refused: no such alarm)
            return run;
        }

        public async Task RaiseAsync(string id, Func<Alert, Alert>? change = null)
        {
            var notifier = Assert.Single(Host.Services.GetServices<IAlertNotifier>());
            var alert = new Alert
            {
                AlertId = id,
                Channel = new ChannelId("plant1", "line2", "pump-1", "de-bearing", "x"),
                State = AlertState.Raised,
                Severity = AlertSeverity.Alarm,
                SourceTime = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
                Score = 4,
                Threshold = 1,
                ModelId = "m",
                Message = "test",
            };
            await notifier.NotifyAsync(change is null ? alert : change(alert), CancellationToken.None);
            Assert.Contains(Board.Snapshot(), v => v.AlertId == id);
        }

        public async ValueTask DisposeAsync()
        {
            await Operator.DisposeAsync();
            await Host.StopAsync();
            Host.Dispose();
            Broker.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    internal sealed record Message(string Topic, string Text, bool Retain)
    {
        public JsonDocument Json { get; } = Text.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(Text);
    }

    internal sealed class MqttPeer : IAsyncDisposable
    {
        private readonly IMqttClient _client;

        private MqttPeer(IMqttClient client) => _client = client;

        public ConcurrentQueue<Message> Messages { get; } = new();

        public static async Task<MqttPeer> ConnectAsync(int port, string filter)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var peer = new MqttPeer(client);
            client.ApplicationMessageReceivedAsync += e =>
            {
                peer.Messages.Enqueue(new Message(e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()), e.ApplicationMessage.Retain));
                return Task.CompletedTask;
            };
            var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("fe-op-" + Guid.NewGuid().ToString("N")[..8]).Build();
            await client.ConnectAsync(options);
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return peer;
        }

        public Task PublishAsync(string topic, string payload, bool retain = false) =>
            _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain).Build());

        public async Task<Message> WaitForAsync(Func<Message, bool> match)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(15))
            {
                if (Messages.FirstOrDefault(match) is { } m)
                {
                    return m;
                }

                await Task.Delay(10);
            }

            throw new TimeoutException("no matching message; got: " + string.Join(" | ", Messages.Select(m => m.Topic + " " + m.Text)));
        }

        public async Task<bool> TryWaitForAsync(Func<Message, bool> match, TimeSpan timeout)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < timeout)
            {
                if (Messages.Any(match))
                {
                    return true;
                }

                await Task.Delay(10);
            }

            return false;
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
