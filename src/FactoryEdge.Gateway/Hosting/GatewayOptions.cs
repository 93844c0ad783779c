using Microsoft.Extensions.Options;

namespace FactoryEdge.Gateway.Hosting;

/// <summary>Identity of this gateway (section <c>FactoryEdge:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "FactoryEdge:Gateway";

    /// <summary>Gateway id, reported in telemetry and uplink batches.</summary>
    public string Id { get; set; } = "gateway-1";

    /// <summary>Default site of channels that do not name one.</summary>
    public string Site { get; set; } = "site";

    /// <summary>Default production line of channels that do not name one.</summary>
    public string Line { get; set; } = "line";
}

public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Check(failures, "Id", options.Id);
        Check(failures, "Site", options.Site);
        Check(failures, "Line", options.Line);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static void Check(List<string> failures, string key, string? value, string section = GatewayOptions.SectionName)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains('/', StringComparison.Ordinal) || value.Length > 64)
        {
            failures.Add($"{section}:{key} = '{value}' is not allowed: use 1–64 characters without '/'.");
        }
    }
}
