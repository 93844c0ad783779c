using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Scoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Gateway.Hosting;

/// <summary>Builds and runs the service host: configuration, adapters, pipeline, service integration.</summary>
public static class GatewayHost
{
    public const string ConfigEnvironmentVariable = "FACTORYEDGE_CONFIG";

    /// <summary>Resolves which configuration file to use.</summary>
    public static string ResolveConfigPath(string? explicitPath)
    {
        if (explicitPath is { Length: > 0 })
        {
            return explicitPath;
        }

        return Environment.GetEnvironmentVariable(ConfigEnvironmentVariable) is { Length: > 0 } fromEnv
            ? fromEnv
            : Path.Combine(AppContext.BaseDirectory, "appsettings.json");
    }

    /// <summary>Creates the host (not started). Throws <see cref="FileNotFoundException"/> for a missing config file.</summary>
    public static IHost Build(string configPath, Action<IServiceCollection>? configure = null, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"Configuration file '{configPath}' not found (set --config or {ConfigEnvironmentVariable}).", configPath);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = false,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("FACTORYEDGE__");
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(o => o.ServiceName = "FactoryEdge");
        builder.Services.AddFactoryEdgeGateway(builder.Configuration);
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>Registers the gateway's own services: identity, pipeline, sources from config, log notifier.</summary>
    public static IServiceCollection AddFactoryEdgeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddFactoryEdgePipeline(configuration);
        services.AddFactoryEdgeScoring(configuration);
        services.AddOptions<MachinesOptions>()
            .Configure(o => configuration.GetSection(MachinesOptions.SectionName).Bind(o.Machines, b => b.ErrorOnUnknownConfiguration = true))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MachinesOptions>, MachinesOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChannelDescriptorEnricher, MachineCatalog>());
        services.AddFactoryEdgeSources(configuration);
        services.AddFactoryEdgeModbus(configuration);
        services.AddFactoryEdgeOpcUa(configuration);
        services.AddFactoryEdgeTelemetry(configuration);
        services.AddFactoryEdgeAlerts(configuration);
        services.AddFactoryEdgeUplink(configuration); // training windows to the cloud, off unless FactoryEdge:Uplink:Enabled (docs/uplink.md)
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertNotifier, LogAlertNotifier>());
        services.AddFactoryEdgeDashboard(configuration); // the engineers' web page (docs/dashboard.md)
        services.AddFactoryEdgeOperations(configuration, static (s, c) => s.AddFactoryEdgeGateway(c)); // last: health, metrics, watchdog, reload (docs/operations.md)
        return services;
    }

    /// <summary>The <c>run</c> verb: exits non-zero, naming the bad keys, when configuration is invalid.</summary>
    public static async Task<int> RunAsync(string? configPath, CancellationToken cancellationToken)
    {
        var path = ResolveConfigPath(configPath);
        IHost host;
        try
        {
            host = Build(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync("configuration error: " + ex.Message).ConfigureAwait(false);
            return Cli.ExitCodes.BadConfig;
        }

        using (host)
        {
            try
            {
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
                return Cli.ExitCodes.Ok;
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync("configuration error: " + string.Join(Environment.NewLine + "configuration error: ", ex.Failures)).ConfigureAwait(false);
                return Cli.ExitCodes.BadConfig;
            }
            catch (InvalidOperationException ex) when (ex.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase) || ex.InnerException is FormatException)
            {
                await Console.Error.WriteLineAsync("configuration error: " + ex.Message).ConfigureAwait(false);
                return Cli.ExitCodes.BadConfig;
            }
        }
    }
}

/// <summary>Writes alerts to the log (and so to the journal / event log): always on, the notifier of last resort.</summary>
public sealed partial class LogAlertNotifier(ILogger<LogAlertNotifier> logger) : IAlertNotifier
{
    public string Name => "log";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        LogAlert(logger, alert.State, alert.Severity, alert.Message, alert.AlertId, alert.SourceTime);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "ALERT {State} {Severity}: {Text} (id {AlertId}, source time {SourceTime:O})")]
    private static partial void LogAlert(ILogger logger, AlertState state, AlertSeverity severity, string text, string alertId, DateTimeOffset sourceTime);
}
