using FactoryEdge.Core;

namespace FactoryEdge.Alerts;

/// <summary>The configured notifiers (one instance each, shared by the pipeline and the delivery service).</summary>
internal sealed class AlertNotifierSet(IReadOnlyList<OutboxAlertNotifier> all) : IAsyncDisposable, IDisposable
{
    public IReadOnlyList<OutboxAlertNotifier> All { get; } = all;

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (var notifier in All)
        {
            switch (notifier)
            {
                case IAsyncDisposable a:
                    await a.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable d:
                    d.Dispose();
                    break;
            }
        }
    }
}

/// <summary>
/// One <see cref="IAlertNotifier"/> for the pipeline that hands each alert to every configured notifier
/// concurrently (MQTT and webhooks do not wait for each other).
/// </summary>
internal sealed class AlertNotifierFanOut(IReadOnlyList<OutboxAlertNotifier> notifiers) : IAlertNotifier
{
    public string Name => "alerts";

    public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
    {
        if (notifiers.Count == 1)
        {
            return notifiers[0].NotifyAsync(alert, cancellationToken);
        }

        if (notifiers.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(Task.WhenAll(notifiers.Select(n => n.NotifyAsync(alert, cancellationToken).AsTask())));
    }
}
