using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using FactoryEdge.Uplink;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the uplink into the host.</summary>
public static class UplinkServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="UplinkOptions"/> to <c>FactoryEdge:Uplink</c> (validated at start-up; unknown
    /// keys are errors) and, when <c>Enabled</c> is true, registers the <see cref="UplinkService"/>
    /// (started and stopped with the host), its <see cref="ITrainingWindowSink"/> and its alert trigger.
    /// Disabled (the default): nothing but the options.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeUplink(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<UplinkOptions>)))
        {
            return services; // binding twice would append every list (Upload:Windows) a second time
        }

        var section = configuration.GetSection(UplinkOptions.SectionName);
        services.AddOptions<UplinkOptions>()
            .Bind(section, o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UplinkOptions>, UplinkOptionsValidator>());
        if (!section.GetValue("Enabled", false))
        {
            return services;
        }

        var gatewayId = configuration["FactoryEdge:Gateway:Id"] is { Length: > 0 } id ? id : "gateway-1";
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<UplinkOptions>>().Value;
            // The pipeline is resolved late: its hosted service itself depends on the sinks.
            return new UplinkService(
                options,
                gatewayId,
                () => sp.GetService<PipelineHostedService>()?.Pipeline?.ModelId ?? "",
                () => sp.GetService<PipelineHostedService>()?.Pipeline?.FeatureNames ?? [],
                index => sp.GetService<PipelineHostedService>()?.Pipeline?.Channels is { } channels && index < channels.Count ? channels[index] : null,
                target: null,
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>());
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITrainingWindowSink, UplinkTrainingSink>(static sp => new UplinkTrainingSink(sp.GetRequiredService<UplinkService>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertNotifier, UplinkAlertTrigger>(static sp => new UplinkAlertTrigger(sp.GetRequiredService<UplinkService>())));
        services.AddHostedService(sp => new UplinkHostedService(sp.GetRequiredService<UplinkService>()));
        return services;
    }
}

/// <summary>
/// Starts the uplink with the host. It stops only once every hosted service has stopped
/// (<see cref="IHostedLifecycleService.StoppedAsync"/>), so the windows the pipeline drains on its way
/// down are still captured; then the open batch is sealed and written.
/// </summary>
internal sealed class UplinkHostedService(UplinkService service) : IHostedLifecycleService
{
    public Task StartAsync(CancellationToken cancellationToken) => service.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => service.StopAsync(cancellationToken);
}
