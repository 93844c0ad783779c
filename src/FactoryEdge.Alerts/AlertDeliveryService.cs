using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>Runs each notifier's connection and retry loop on the host's stopping token.</summary>
internal sealed partial class AlertDeliveryService : BackgroundService
{
    private readonly IReadOnlyList<OutboxAlertNotifier> _notifiers;
    private readonly ILogger<AlertDeliveryService> _logger;

    public AlertDeliveryService(AlertNotifierSet notifiers, ILogger<AlertDeliveryService> logger)
    {
        _notifiers = notifiers.All;
        _logger = logger;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var notifier in _notifiers)
        {
            LogStarting(_logger, notifier.Name, notifier.Pending);
        }

        return Task.WhenAll(_notifiers.Select(n => n.RunAsync(stoppingToken)));
    }

    [LoggerMessage(EventId = 9301, Level = LogLevel.Information, Message = "Alert notifier {Notifier} started with {Pending} alerts waiting in the outbox")]
    private static partial void LogStarting(ILogger logger, string notifier, int pending);
}
