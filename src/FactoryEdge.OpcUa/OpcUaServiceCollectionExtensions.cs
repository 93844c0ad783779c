using FactoryEdge.Core;
using FactoryEdge.OpcUa;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the OPC UA adapter into the host.</summary>
public static class OpcUaServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="OpcUaOptions"/> to the <c>FactoryEdge:OpcUa</c> section, validates it at start-up (a
    /// bad key stops the host with a message naming it and the allowed values), and registers
    /// <see cref="OpcUaSensorSource"/> as an <see cref="ISensorSource"/>.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeOpcUa(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(OpcUaSensorSource)))
        {
            // Binding twice would append every server list a second time.
            return services;
        }

        services.AddOptions<OpcUaOptions>()
            .Bind(configuration.GetSection(OpcUaOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OpcUaOptions>, OpcUaOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new OpcUaSensorSource(
            sp.GetRequiredService<IOptions<OpcUaOptions>>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISensorSource, OpcUaSensorSource>(static sp => sp.GetRequiredService<OpcUaSensorSource>()));
        return services;
    }
}
