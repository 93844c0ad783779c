using FactoryEdge.Core;
using FactoryEdge.Modbus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the Modbus adapter into the host.</summary>
public static class ModbusServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="ModbusOptions"/> to the <c>FactoryEdge:Modbus</c> section, validates it at start-up (a bad
    /// key stops the host with a message naming it and the allowed values), and registers
    /// <see cref="ModbusSensorSource"/> as an <see cref="ISensorSource"/>.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeModbus(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ModbusSensorSource)))
        {
            // Binding twice would append every device list a second time.
            return services;
        }

        services.AddOptions<ModbusOptions>()
            .Bind(configuration.GetSection(ModbusOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModbusOptions>, ModbusOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new ModbusSensorSource(
            sp.GetRequiredService<IOptions<ModbusOptions>>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISensorSource, ModbusSensorSource>(static sp => sp.GetRequiredService<ModbusSensorSource>()));
        return services;
    }
}
