using FactoryEdge.Core;
using FactoryEdge.Operations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the operations layer (health, metrics, watchdog, configuration reload) into the host.</summary>
public static class OperationsServiceCollectionExtensions
{
    /// <summary>Environment variable naming the site override file (default: <c>site.json</c> beside the main configuration file).</summary>
    public const string SiteConfigEnvironmentVariable = "FACTORYEDGE_SITE_CONFIG";

    /// <summary>
    /// Binds <see cref="OperationsOptions"/> (<c>FactoryEdge:Operations</c>, validated at start) and times
    /// the scorer. In the service's root collection it also adds the site override file to the
    /// configuration (after the main file, before environment variables), the sd_notify watchdog, the
    /// health and metrics endpoint and the configuration reload. <paramref name="registrar"/> registers
    /// the whole gateway from a configuration: it is how a changed configuration is validated and how
    /// the pipeline is rebuilt in-process. Call it last in the gateway's composition.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeOperations(this IServiceCollection services, IConfiguration configuration, GatewayRegistrar registrar)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(registrar);
        services.AddOptions<OperationsOptions>()
            .Bind(configuration.GetSection(OperationsOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OperationsOptions>, OperationsOptionsValidator>());
        services.TryAddSingleton<PipelineStallSwitch>();
        DecorateScorer(services);

        var nested = services.Any(d => d.ServiceType == typeof(NestedGatewayMarker));
        if (nested || services.Any(d => d.ServiceType == typeof(GatewayRuntime)))
        {
            return services;
        }

        if (configuration is IConfigurationBuilder builder && SiteConfigPath(configuration) is { } site)
        {
            ConfigurationValidation.InsertJsonFileAfterLastFile(builder, site);
        }

        if (configuration is IConfigurationBuilder withSecrets && CredentialsConfigurationSource.DefaultDirectory() is { } credentials
            && !withSecrets.Sources.OfType<CredentialsConfigurationSource>().Any())
        {
            // Last: a secret file wins over files and environment variables.
            withSecrets.Sources.Add(new CredentialsConfigurationSource(credentials));
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(registrar);
        services.AddSingleton<IServiceNotifier, SdNotifier>();
        services.AddSingleton(sp => new GatewayRuntime(sp, registrar, sp.GetRequiredService<Logging.ILogger<GatewayRuntime>>()));
        services.AddSingleton<OperationsMonitor>();
        services.AddSingleton<OperationsHttpServer>();
        services.AddSingleton<ConfigurationReloadService>();
        services.AddHostedService(sp => sp.GetRequiredService<OperationsMonitor>());
        services.AddHostedService(sp => sp.GetRequiredService<OperationsHttpServer>());
        services.AddHostedService(sp => sp.GetRequiredService<ConfigurationReloadService>());
        services.AddHostedService(sp => new GenerationStopper(sp.GetRequiredService<GatewayRuntime>(), sp.GetRequiredService<PipelineStallSwitch>()));
        return services;
    }

    /// <summary>The site override file: <c>FACTORYEDGE_SITE_CONFIG</c>, else <c>site.json</c> beside the first JSON configuration file (null when there is none).</summary>
    public static string? SiteConfigPath(IConfiguration configuration)
    {
        if (Environment.GetEnvironmentVariable(SiteConfigEnvironmentVariable) is { Length: > 0 } explicitPath)
        {
            return Path.GetFullPath(explicitPath);
        }

        return ConfigurationValidation.Files(configuration) is [var main, ..] ? Path.Combine(Path.GetDirectoryName(main)!, "site.json") : null;
    }

    private static void DecorateScorer(IServiceCollection services)
    {
        var index = -1;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IAnomalyScorer))
            {
                index = i;
                break;
            }
        }

        if (index < 0 || services[index].ImplementationType == typeof(InstrumentedScorer))
        {
            return;
        }

        var inner = services[index];
        if (inner.ImplementationFactory is { } factory && factory.Target is InstrumentedScorerFactory)
        {
            return;
        }

        services[index] = ServiceDescriptor.Singleton<IAnomalyScorer>(new InstrumentedScorerFactory(inner).Create);
    }

    private sealed class InstrumentedScorerFactory(ServiceDescriptor inner)
    {
        public IAnomalyScorer Create(IServiceProvider sp)
        {
            var scorer = inner.ImplementationInstance as IAnomalyScorer
                ?? (IAnomalyScorer?)inner.ImplementationFactory?.Invoke(sp)
                ?? (IAnomalyScorer)ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!);
            return new InstrumentedScorer(scorer, sp.GetRequiredService<PipelineStallSwitch>());
        }
    }

    /// <summary>Stops a restarted generation when the host stops (the host stops its own services itself) and releases a test stall.</summary>
    private sealed class GenerationStopper(GatewayRuntime runtime, PipelineStallSwitch stall) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            stall.Release();
            return runtime.StopAsync(cancellationToken);
        }
    }
}
