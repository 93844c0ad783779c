using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>Options of the alert notifiers, bound to <c>FactoryEdge:Alerts</c>.</summary>
public sealed class AlertsOptions
{
    public const string SectionName = "FactoryEdge:Alerts";

    /// <summary>
    /// SQLite file of the outbox that keeps alerts until every notifier has delivered them (also across
    /// a restart). Empty keeps the outbox in memory (lost on restart).
    /// </summary>
    public string OutboxPath { get; set; } = "";

    /// <summary>How often the delivery loop looks for alerts due for a retry.</summary>
    public TimeSpan RetryScanInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Outbox entries older than this are dropped (logged) instead of being sent late.</summary>
    public TimeSpan MaxAlertAge { get; set; } = TimeSpan.FromDays(7);

    public MqttAlertOptions Mqtt { get; set; } = new();

    public List<WebhookAlertOptions> Webhooks { get; set; } = [];

    /// <summary>Alarm management: acknowledgement, shelving, suppression, chattering, floods, audit log.</summary>
    public AlarmLifecycleOptions Lifecycle { get; set; } = new();
}

/// <summary>Which alerts a notifier receives, and how many per machine.</summary>
public class AlertRouteOptions
{
    /// <summary>Alerts below this severity are not sent (Cleared is always sent after a sent Raised).</summary>
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Warning;

    /// <summary>
    /// Machines (<c>site/line/machine</c>; <c>*</c> matches one part, e.g. <c>plant1/*/*</c>) whose alerts
    /// are sent. Empty sends every machine.
    /// </summary>
    public List<string> Machines { get; set; } = [];

    /// <summary>Most alerts per machine per minute (Cleared not counted); 0 = no limit.</summary>
    public int MaxAlertsPerMachinePerMinute { get; set; } = 60;
}

/// <summary>MQTT notifier (MQTTnet): QoS 1 events plus a retained state per machine.</summary>
public sealed class MqttAlertOptions : AlertRouteOptions
{
    public bool Enabled { get; set; }

    public string Host { get; set; } = "localhost";

    public int Port { get; set; } = 1883;

    /// <summary>Client id; empty uses <c>factoryedge-{machine name}</c>.</summary>
    public string ClientId { get; set; } = "";

    public string? Username { get; set; }

    public string? Password { get; set; }

    public bool UseTls { get; set; }

    /// <summary>Accept a broker certificate that does not validate (test brokers only).</summary>
    public bool AllowUntrustedCertificates { get; set; }

    /// <summary>PKCS#12 client certificate for mutual TLS (optional).</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>Events go to <c>{TopicPrefix}/{site}/{line}/{machine}/events</c>, state to <c>…/state</c> (retained).</summary>
    public string TopicPrefix { get; set; } = "factoryedge/alerts";

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a publish waits for its PUBACK before the alert is left to the retry loop.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>A webhook: HTTP POST of the alert JSON, signed with HMAC-SHA256.</summary>
public sealed class WebhookAlertOptions : AlertRouteOptions
{
    /// <summary>Name used in logs and in the outbox (unique).</summary>
    public string Name { get; set; } = "";

    public string Url { get; set; } = "";

    /// <summary>Shared secret for <c>X-FactoryEdge-Signature</c> (at least 16 characters).</summary>
    public string Secret { get; set; } = "";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    public int MaxAttempts { get; set; } = 10;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);
}
