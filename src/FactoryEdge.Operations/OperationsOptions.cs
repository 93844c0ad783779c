using Microsoft.Extensions.Options;

namespace FactoryEdge.Operations;

/// <summary>Service operation: health and metrics endpoint, watchdog, configuration reload (section <c>FactoryEdge:Operations</c>).</summary>
public sealed class OperationsOptions
{
    public const string SectionName = "FactoryEdge:Operations";

    /// <summary>Serve /healthz, /readyz and /metrics. The sd_notify watchdog runs either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the endpoint listens: one or more http:// URLs separated by ';'. Loopback by default.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:9470";

    /// <summary>Seconds without a loop of some pipeline thread after which the pipeline counts as stalled (watchdog pings stop, /healthz fails).</summary>
    public double StallAfterSeconds { get; set; } = 10;

    /// <summary>Seconds without a sample after which a channel is stale and its source counts as down.</summary>
    public double SourceStaleSeconds { get; set; } = 15;

    /// <summary>Seconds after start during which a source that has not delivered yet is "starting", not down.</summary>
    public double StartupGraceSeconds { get; set; } = 30;

    /// <summary>Watch the configuration files and apply valid changes (an invalid file is rejected and logged).</summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>How often the configuration files are checked for changes.</summary>
    public double ReloadPollSeconds { get; set; } = 2;

    /// <summary>Longest a controlled restart of the pipeline and sources may take before the watchdog stops pinging.</summary>
    public double RestartTimeoutSeconds { get; set; } = 60;

    internal IReadOnlyList<Uri> ParsedUrls() =>
        [.. Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u, UriKind.Absolute))];
}

public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    private const string S = OperationsOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var urls = options.Urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        if (options.Enabled && urls.Length == 0)
        {
            failures.Add($"{S}:Urls = '' is not allowed: give at least one http://HOST:PORT (default http://127.0.0.1:9470), or set {S}:Enabled = false.");
        }

        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/" || uri.Port is < 0 or > 65535
                || !(uri.Host is "localhost" or "*" or "+" || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            {
                failures.Add($"{S}:Urls: '{url}' is not allowed: use http://IP:PORT or http://localhost:PORT (all interfaces: http://0.0.0.0:PORT; e.g. http://127.0.0.1:9470); the endpoint serves no TLS, keep it on loopback or a management network.");
            }
        }

        Range(failures, "StallAfterSeconds", options.StallAfterSeconds, 1, 3600);
        Range(failures, "SourceStaleSeconds", options.SourceStaleSeconds, 1, 86400);
        Range(failures, "StartupGraceSeconds", options.StartupGraceSeconds, 0, 3600);
        Range(failures, "ReloadPollSeconds", options.ReloadPollSeconds, 0.1, 3600);
        Range(failures, "RestartTimeoutSeconds", options.RestartTimeoutSeconds, 5, 3600);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            failures.Add(FormattableString.Invariant($"{S}:{key} = {value} is not allowed: use {min} to {max} seconds."));
        }
    }
}
