using System.Globalization;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FactoryEdge.Alerts.IntegrationTests;

[Trait("Category", "Integration")]
public sealed class HostIntegrationTests
{
    [MosquittoFact]
    public async Task AddFactoryEdgeAlerts_HostStarted_PipelineNotifierPublishesToMosquitto()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        var outbox = Path.Combine(Path.GetTempPath(), "fe-host-outbox-" + Guid.NewGuid().ToString("N") + ".db");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FactoryEdge:Alerts:OutboxPath"] = outbox,
            ["FactoryEdge:Alerts:Mqtt:Enabled"] = "true",
            ["FactoryEdge:Alerts:Mqtt:Host"] = "127.0.0.1",
            ["FactoryEdge:Alerts:Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["FactoryEdge:Alerts:Mqtt:MinimumSeverity"] = "Alarm",
        });
        builder.Services.AddFactoryEdgeAlerts(builder.Configuration);
        try
        {
            using (var host = builder.Build())
            {
                await host.StartAsync();
                var notifier = Assert.Single(host.Services.GetServices<IAlertNotifier>());
                var mqtt = (MqttAlertNotifier)host.Services.GetRequiredService<AlertNotifierSet>().All[0];
                for (var i = 0; i < 500 && !mqtt.IsConnected; i++)
                {
                    await Task.Delay(10);
                }

                Assert.True(mqtt.IsConnected, broker.Log);
                var alert = new Alert
                {
                    AlertId = "host-1",
                    Channel = new ChannelId("s", "l", "m", "sensor", "x"),
                    State = AlertState.Raised,
                    Severity = AlertSeverity.Critical,
                    SourceTime = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero),
                    Score = 9,
                    Threshold = 1,
                    ModelId = "m1",
                    Message = "test",
                };
                await notifier.NotifyAsync(alert, CancellationToken.None);
                await notifier.NotifyAsync(alert with { AlertId = "host-2", Severity = AlertSeverity.Warning }, CancellationToken.None);
                for (var i = 0; i < 500 && mqtt.Delivered < 1; i++)
                {
                    await Task.Delay(10);
                }

                Assert.Equal(1, mqtt.Delivered);
                Assert.Equal(1, mqtt.Filtered);
                await host.StopAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { outbox, outbox + "-wal", outbox + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}
