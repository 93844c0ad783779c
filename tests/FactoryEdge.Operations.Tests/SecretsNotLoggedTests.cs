namespace FactoryEdge.Operations.Tests;

/// <summary>
/// Runs the published gateway at Trace level with secrets in every place they can be (configuration
/// keys, credential files as keys and as environment variables, an Influx token), failing peers so
/// error paths log, then a rejected and an applied configuration change; scans everything printed.
/// </summary>
[Trait("Category", "Integration")]
[Collection(PublishedGatewayCollection.Name)]
public sealed class SecretsNotLoggedTests(PublishedGateway published) : IDisposable
{
    private const string MqttPasswordInConfig = "cfg-Mqtt-Pa55-7f3e1d";
    private const string MqttPasswordChanged = "cfg-Mqtt-Pa55-changed-81bb";
    private const string WebhookSecret = "hook-Secret-0123456789-a9c4";
    private const string WebhookSecretChanged = "hook-Secret-changed-5566-e0f1";
    private const string MqttPasswordFromCredential = "cred-Mqtt-Pa55-55e2c0";
    private const string InfluxToken = "influx-Tok3n-d41d8cd98f00";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fe-secrets-");

    public void Dispose()
    {
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task PublishedBinary_SecretsInConfigCredentialsAndEnvironment_NeverLogged()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var credentials = Directory.CreateDirectory(Path.Combine(_dir.FullName, "credentials"));
        await File.WriteAllTextAsync(Path.Combine(credentials.FullName, "factoryedge_FactoryEdge__Alerts__Mqtt__Password"), MqttPasswordFromCredential + "\n");
        await File.WriteAllTextAsync(Path.Combine(credentials.FullName, "FACTORYEDGE_INFLUX_TOKEN"), InfluxToken);
        var config = Path.Combine(_dir.FullName, "appsettings.json");
        await File.WriteAllTextAsync(config, Config(MqttPasswordInConfig, port: 1, WebhookSecret));

        using var socket = new FakeNotifySocket();
        using var gateway = new GatewayProcess(published.Executable, config, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = socket.Path,
            ["WATCHDOG_USEC"] = "1000000",
            [CredentialsConfigurationSource.DirectoryVariable] = credentials.FullName,
        });
        await ServiceProcessTests.WaitAsync(() => socket.Assignments.Contains("READY=1"), "READY=1", socket, gateway);
        await Task.Delay(TimeSpan.FromSeconds(4)); // connection failures to the closed broker, webhook and Influx ports get logged

        // A rejected change (bad port) and an applied one (the secrets themselves change; the MQTT
        // password in the file is overridden by its credential file, so the webhook secret is what restarts).
        await File.WriteAllTextAsync(config, Config(MqttPasswordInConfig, port: 99999, WebhookSecret));
        await ServiceProcessTests.WaitAsync(() => gateway.Output.Contains("Configuration change rejected", StringComparison.Ordinal), "rejection", socket, gateway);
        await File.WriteAllTextAsync(config, Config(MqttPasswordChanged, port: 1, WebhookSecretChanged));
        await ServiceProcessTests.WaitAsync(() => gateway.Output.Contains("restarted in-process", StringComparison.Ordinal), "restart", socket, gateway);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(await gateway.TerminateAsync(TimeSpan.FromSeconds(30)));

        var output = gateway.Output;
        Assert.Contains("Mqtt:Port is 99999", output, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Alerts:Webhooks:0:Secret", output, StringComparison.Ordinal); // the key is named, its value never
        Assert.True(output.Split('\n').Length > 50, "trace logging produced output:" + output);
        foreach (var secret in new[] { MqttPasswordInConfig, MqttPasswordChanged, WebhookSecret, WebhookSecretChanged, MqttPasswordFromCredential, InfluxToken })
        {
            Assert.False(output.Contains(secret, StringComparison.Ordinal), $"secret {secret[..8]}… appears in the log");
            Assert.DoesNotContain(secret, string.Join("\n", socket.Assignments), StringComparison.Ordinal);
        }
    }

    private string Config(string mqttPassword, int port, string webhookSecret) => GatewayUnderTest.Config(_dir.FullName, $$"""
        "Alerts": {
          "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{port}}, "Username": "gateway", "Password": "{{mqttPassword}}", "ReconnectMaxDelay": "00:00:01" },
          "Webhooks": [ { "Name": "ops", "Url": "http://127.0.0.1:1/hook", "Secret": "{{webhookSecret}}" } ]
        },
        {{GatewayUnderTest.Simulated("pump-1")}}
        """, ", \"Enabled\": false")
        .Replace("\"Default\": \"Information\"", "\"Default\": \"Trace\"", StringComparison.Ordinal)
        .Replace("\"Telemetry\": { \"Spool\"", "\"Telemetry\": { \"Influx\": { \"Url\": \"http://127.0.0.1:1\", \"Bucket\": \"b\", \"Org\": \"o\", \"MaxRetryDelayMs\": 500 }, \"Spool\"", StringComparison.Ordinal);
}
