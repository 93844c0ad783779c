using System.Globalization;

namespace FactoryEdge.Alerts;

/// <summary>Command-line helpers: <c>--mqtt mqtt://HOST:PORT</c> as configuration overrides.</summary>
public static class AlertsCommandLine
{
    /// <summary>
    /// The <c>FactoryEdge:Alerts:Mqtt</c> keys for a broker URL: <c>mqtt://[user[:password]@]host[:port][/topic/prefix]</c>
    /// (port 1883), or <c>mqtts://…</c> (TLS, port 8883). The same keys configure <c>run</c>.
    /// </summary>
    /// <exception cref="FormatException">The URL is not an mqtt:// or mqtts:// URL with a host.</exception>
    public static IReadOnlyList<KeyValuePair<string, string?>> MqttOverrides(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "mqtt" && uri.Scheme != "mqtts") || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"--mqtt is '{url}'; allowed: mqtt://HOST[:PORT][/TOPIC/PREFIX] or mqtts://… (TLS), optionally with user:password@.");
        }

        var tls = uri.Scheme == "mqtts";
        const string prefix = AlertsOptions.SectionName + ":Mqtt:";
        var overrides = new List<KeyValuePair<string, string?>>
        {
            new(prefix + "Enabled", "true"),
            new(prefix + "Host", uri.Host),
            new(prefix + "Port", (uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port).ToString(CultureInfo.InvariantCulture)),
            new(prefix + "UseTls", tls ? "true" : "false"),
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            overrides.Add(new(prefix + "Username", Uri.UnescapeDataString(parts[0])));
            if (parts.Length == 2)
            {
                overrides.Add(new(prefix + "Password", Uri.UnescapeDataString(parts[1])));
            }
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            overrides.Add(new(prefix + "TopicPrefix", Uri.UnescapeDataString(path)));
        }

        return overrides;
    }
}
