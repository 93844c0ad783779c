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
