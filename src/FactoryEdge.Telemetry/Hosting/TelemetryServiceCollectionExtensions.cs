using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Signal;
using FactoryEdge.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the telemetry adapter into the host.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="TelemetryOptions"/> to <c>FactoryEdge:Telemetry</c> (validated at start-up: a bad
    /// key stops the host with a message naming it and the allowed values) and, unless
    /// <c>Enabled</c> is false, registers the <see cref="TelemetryService"/> (started and stopped with
    /// the host), the <see cref="TelemetrySink"/> as an <see cref="ITelemetrySink"/>, the
    /// <see cref="TelemetryAlertNotifier"/> as an <see cref="IAlertNotifier"/> and the health reporter.
    /// With no <c>Influx:Url</c> the spool is the embedded store.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(TelemetryService)))
        {
            // Binding twice would append every list (Features) a second time.
            return services;
        }

        var section = configuration.GetSection(TelemetryOptions.SectionName);
        services.AddOptions<TelemetryOptions>()
            .Bind(section, o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());
        if (section.GetValue("Enabled", true) is false)
        {
            services.AddSingleton<TelemetryService>(_ => throw new InvalidOperationException("Telemetry is disabled (FactoryEdge:Telemetry:Enabled = false)."));
            return services;
        }

        var gatewayId = configuration["FactoryEdge:Gateway:Id"] is { Length: > 0 } id ? id : "gateway-1";
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TelemetryOptions>>().Value;
            // Resolved late: the pipeline's hosted service itself depends on the sinks (this service).
            return new TelemetryService(
                options,
                () => sp.GetService<PipelineHostedService>()?.Pipeline?.FeatureNames ?? FeatureSchema.Names(FeatureExtractorOptions.DefaultBands),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>());
        });
        services.AddSingleton(sp => new TelemetrySink(sp.GetRequiredService<TelemetryService>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITelemetrySink, TelemetrySink>(static sp => sp.GetRequiredService<TelemetrySink>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertNotifier, TelemetryAlertNotifier>());
        services.AddHostedService(sp => new TelemetryHostedService(sp.GetRequiredService<TelemetryService>()));
        services.AddHostedService(sp => new TelemetryHealthReporter(
            sp.GetRequiredService<TelemetryService>(),
            sp.GetRequiredService<TelemetrySink>(),
            () => sp.GetService<PipelineHostedService>()?.Pipeline,
            sp.GetRequiredService<IOptions<TelemetryOptions>>().Value,
            gatewayId,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<TelemetryHealthReporter>>()));
        return services;
    }
}

/// <summary>Starts the telemetry service with the host and stops it (last delivery attempt, rest to the spool).</summary>
internal sealed class TelemetryHostedService(TelemetryService service) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => service.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => service.StopAsync(cancellationToken);
}
