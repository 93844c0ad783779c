using Microsoft.Extensions.Options;

namespace FactoryEdge.Alerts;

/// <summary>Names the bad key and the allowed values so that start-up stops with a useful message.</summary>
internal sealed class AlertsOptionsValidator : IValidateOptions<AlertsOptions>
{
    private const string Prefix = AlertsOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, AlertsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RetryScanInterval <= TimeSpan.Zero || options.RetryScanInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Prefix}RetryScanInterval is {options.RetryScanInterval}; allowed: greater than 0 and at most 00:01:00.");
        }

        if (options.MaxAlertAge <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}MaxAlertAge is {options.MaxAlertAge}; allowed: greater than 0.");
        }

        var mqtt = options.Mqtt;
        if (mqtt.Enabled)
        {
            if (string.IsNullOrWhiteSpace(mqtt.Host))
            {
                failures.Add($"{Prefix}Mqtt:Host is empty; allowed: a host name or IP address of the broker.");
            }

            if (mqtt.Port is < 1 or > 65535)
            {
                failures.Add($"{Prefix}Mqtt:Port is {mqtt.Port}; allowed: 1..65535.");
            }

            if (string.IsNullOrWhiteSpace(mqtt.TopicPrefix) || mqtt.TopicPrefix.AsSpan().IndexOfAny("#+") >= 0 || mqtt.TopicPrefix.EndsWith('/'))
            {
                failures.Add($"{Prefix}Mqtt:TopicPrefix is '{mqtt.TopicPrefix}'; allowed: a non-empty topic without '#', '+' or a trailing '/'.");
            }

            if (mqtt.Password is not null && string.IsNullOrEmpty(mqtt.Username))
            {
                failures.Add($"{Prefix}Mqtt:Username is empty while Mqtt:Password is set; allowed: set both or neither.");
            }

            if (mqtt.ClientCertificatePath is { Length: > 0 } cert && !mqtt.UseTls)
            {
                failures.Add($"{Prefix}Mqtt:ClientCertificatePath is '{cert}' while Mqtt:UseTls is false; allowed: UseTls true with a client certificate.");
            }

            Positive(failures, "Mqtt:PublishTimeout", mqtt.PublishTimeout);
            Positive(failures, "Mqtt:KeepAlive", mqtt.KeepAlive);
            Positive(failures, "Mqtt:ReconnectMinDelay", mqtt.ReconnectMinDelay);
            if (mqtt.ReconnectMaxDelay < mqtt.ReconnectMinDelay)
            {
                failures.Add($"{Prefix}Mqtt:ReconnectMaxDelay is {mqtt.ReconnectMaxDelay}; allowed: at least Mqtt:ReconnectMinDelay ({mqtt.ReconnectMinDelay}).");
            }

            Route(failures, "Mqtt", mqtt);
        }

        var life = options.Lifecycle;
        Positive(failures, "Lifecycle:MaxShelveDuration", life.MaxShelveDuration);
        Positive(failures, "Lifecycle:KeepCleared", life.KeepCleared);
        Positive(failures, "Lifecycle:ChatterWindow", life.ChatterWindow);
        Positive(failures, "Lifecycle:FloodWindow", life.FloodWindow);
        Positive(failures, "Lifecycle:FloodSummaryInterval", life.FloodSummaryInterval);
        if (life.SuppressionHoldOff < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}Lifecycle:SuppressionHoldOff is {life.SuppressionHoldOff}; allowed: 0 or more.");
        }

        if (life.TickInterval <= TimeSpan.Zero || life.TickInterval > TimeSpan.FromSeconds(10))
        {
            failures.Add($"{Prefix}Lifecycle:TickInterval is {life.TickInterval}; allowed: greater than 0 and at most 00:00:10.");
        }

        if (life.ChatterRaises is < 0 or 1)
        {
            failures.Add($"{Prefix}Lifecycle:ChatterRaises is {life.ChatterRaises}; allowed: 0 (off) or 2 and more.");
        }

        if (life.FloodThreshold < 0)
        {
            failures.Add($"{Prefix}Lifecycle:FloodThreshold is {life.FloodThreshold}; allowed: 0 (off) or more.");
        }

        if (life.CommandTopic.Length > 0 && (life.CommandTopic.AsSpan().IndexOfAny("#+") >= 0 || life.CommandTopic.EndsWith('/')))
        {
            failures.Add($"{Prefix}Lifecycle:CommandTopic is '{life.CommandTopic}'; allowed: empty (no MQTT commands) or a topic without '#', '+' or a trailing '/'.");
        }

        if (life.CommandTopic.Length > 0 && !mqtt.Enabled)
        {
            failures.Add($"{Prefix}Lifecycle:CommandTopic is '{life.CommandTopic}' while Mqtt:Enabled is false; allowed: enable MQTT or leave CommandTopic empty.");
        }

        if (life.ReplyTopic.Length > 0 && (life.ReplyTopic.AsSpan().IndexOfAny("#+") >= 0 || life.ReplyTopic == life.CommandTopic))
        {
            failures.Add($"{Prefix}Lifecycle:ReplyTopic is '{life.ReplyTopic}'; allowed: a topic without '#' or '+', different from CommandTopic.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            var hook = options.Webhooks[i];
            var key = $"Webhooks:{i}";
            if (string.IsNullOrWhiteSpace(hook.Name) || !names.Add(hook.Name))
            {
                failures.Add($"{Prefix}{key}:Name is '{hook.Name}'; allowed: a non-empty name unique among the webhooks.");
            }

            if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{Prefix}{key}:Url is '{hook.Url}'; allowed: an absolute http:// or https:// URL.");
            }

            if (hook.Secret.Length < 16)
            {
                failures.Add($"{Prefix}{key}:Secret has {hook.Secret.Length} characters; allowed: at least 16.");
            }

            if (hook.MaxAttempts is < 1 or > 1000)
            {
                failures.Add($"{Prefix}{key}:MaxAttempts is {hook.MaxAttempts}; allowed: 1..1000.");
            }

            Positive(failures, key + ":Timeout", hook.Timeout);
            Positive(failures, key + ":InitialBackoff", hook.InitialBackoff);
            if (hook.MaxBackoff < hook.InitialBackoff)
            {
                failures.Add($"{Prefix}{key}:MaxBackoff is {hook.MaxBackoff}; allowed: at least InitialBackoff ({hook.InitialBackoff}).");
            }

            Route(failures, key, hook);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{key} is {value}; allowed: greater than 0.");
        }
    }

    private static void Route(List<string> failures, string key, AlertRouteOptions route)
    {
        if (!Enum.IsDefined(route.MinimumSeverity))
        {
            failures.Add($"{Prefix}{key}:MinimumSeverity is '{route.MinimumSeverity}'; allowed: Warning, Alarm, Critical.");
        }

        if (route.MaxAlertsPerMachinePerMinute < 0)
        {
            failures.Add($"{Prefix}{key}:MaxAlertsPerMachinePerMinute is {route.MaxAlertsPerMachinePerMinute}; allowed: 0 (no limit) or more.");
        }

        foreach (var machine in route.Machines)
        {
            if (machine.Split('/').Length != 3 || machine.Split('/').Any(string.IsNullOrWhiteSpace))
            {
                failures.Add($"{Prefix}{key}:Machines contains '{machine}'; allowed: site/line/machine, each part a name or '*'.");
            }
        }
    }
}
