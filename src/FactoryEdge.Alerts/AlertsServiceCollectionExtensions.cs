using FactoryEdge.Alerts;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composition of the alert notifiers into the host.</summary>
public static class AlertsServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="AlertsOptions"/> to <c>FactoryEdge:Alerts</c> (validated at start-up), registers the
    /// outbox, the MQTT notifier (when <c>Mqtt:Enabled</c>) and one notifier per webhook as
    /// <see cref="IAlertNotifier"/>s, and the hosted service that reconnects and redelivers.
    /// </summary>
    public static IServiceCollection AddFactoryEdgeAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(IAlertOutbox)))
        {
            return services;
        }

        services.AddOptions<AlertsOptions>()
            .Bind(configuration.GetSection(AlertsOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertsOptions>, AlertsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAlertOutbox>(static sp =>
        {
            var path = sp.GetRequiredService<IOptions<AlertsOptions>>().Value.OutboxPath;
            return string.IsNullOrWhiteSpace(path) ? new InMemoryAlertOutbox() : new SqliteAlertOutbox(path);
        });
        services.TryAddSingleton(static sp => CreateNotifiers(sp));

        // Alarm management: every alert passes the alarm board on its way to the notifiers.
        services.TryAddSingleton(static sp => new AlarmAuditLog(sp.GetRequiredService<IOptions<AlertsOptions>>().Value.Lifecycle.AuditLogPath));
        services.TryAddSingleton(static sp => new AlarmBoard(
            sp.GetRequiredService<IOptions<AlertsOptions>>().Value.Lifecycle,
            sp.GetRequiredService<AlarmAuditLog>(),
            sp.GetRequiredService<TimeProvider>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<AlarmBoard>()));
        services.TryAddSingleton<IAlarmBoard>(static sp => sp.GetRequiredService<AlarmBoard>());
        services.TryAddSingleton(static sp => new AlarmGateNotifier(
            sp.GetRequiredService<AlarmBoard>(),
            sp.GetRequiredService<AlertNotifierSet>().All,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<AlarmGateNotifier>()));
        services.AddSingleton<IAlertNotifier>(static sp => sp.GetRequiredService<AlarmGateNotifier>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITelemetrySink, AlarmBoardHealthSink>(static sp => new AlarmBoardHealthSink(sp.GetRequiredService<AlarmBoard>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AlertDeliveryService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AlarmLifecycleService>(static sp => new AlarmLifecycleService(
            sp.GetRequiredService<AlarmBoard>(), sp.GetRequiredService<IOptions<AlertsOptions>>().Value, sp.GetRequiredService<TimeProvider>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<AlarmLifecycleService>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MqttCommandServiceHost>(static sp => new MqttCommandServiceHost(sp)));
        return services;
    }

    private static AlertNotifierSet CreateNotifiers(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<AlertsOptions>>().Value;
        var outbox = sp.GetRequiredService<IAlertOutbox>();
        var time = sp.GetRequiredService<TimeProvider>();
        var loggers = sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var all = new List<OutboxAlertNotifier>();
        if (options.Mqtt.Enabled)
        {
            all.Add(new MqttAlertNotifier(options, outbox, time, loggers.CreateLogger<MqttAlertNotifier>()));
        }

        foreach (var hook in options.Webhooks)
        {
            all.Add(new WebhookAlertNotifier(hook, options, outbox, time, loggers.CreateLogger<WebhookAlertNotifier>()));
        }

        return new AlertNotifierSet(all);
    }
}
