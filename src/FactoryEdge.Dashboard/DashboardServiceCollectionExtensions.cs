using FactoryEdge.Core;
using FactoryEdge.Dashboard;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Registers the dashboard from <c>FactoryEdge:Dashboard</c> (validated at start, unknown keys
    /// refused): the display tap as telemetry sink, training-window sink (live spectra) and alert
    /// notifier, the live hub, and the hosted web server. With <c>Enabled = false</c> only the options.
    /// An <see cref="IAlarmBoard"/>, when registered, is used for the alarm list and operator actions.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DashboardOptions>()
            .Bind(configuration.GetSection(DashboardOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DashboardOptions>, DashboardOptionsValidator>());
        if (!configuration.GetValue(DashboardOptions.SectionName + ":Enabled", true))
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DisplayTap(sp.GetRequiredService<IOptions<DashboardOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new LiveHub(sp.GetRequiredService<IOptions<DashboardOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ITelemetrySink>(sp => sp.GetRequiredService<DisplayTap>());
        services.AddSingleton<IAlertNotifier>(sp => sp.GetRequiredService<DisplayTap>());
        if (configuration.GetValue(DashboardOptions.SectionName + ":LiveSpectra", true))
        {
            services.AddSingleton<ITrainingWindowSink>(sp => sp.GetRequiredService<DisplayTap>());
        }

        services.TryAddSingleton<DashboardServer>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardServer>());
        return services;
    }
}
