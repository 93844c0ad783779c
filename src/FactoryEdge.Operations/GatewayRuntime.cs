using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Operations;

/// <summary>Registers the whole gateway (pipeline, sources, sinks, adapters) into a service collection from a configuration.</summary>
public delegate void GatewayRegistrar(IServiceCollection services, IConfiguration configuration);

/// <summary>
/// Marks a service collection that is not the service's root: a configuration check or a restarted
/// generation of the pipeline. <see cref="OperationsServiceCollectionExtensions.AddFactoryEdgeOperations"/>
/// registers no endpoint, watchdog or reload service into it.
/// </summary>
internal sealed class NestedGatewayMarker;

/// <summary>
/// The running gateway: the host's own services at start (generation 0), replaced by a freshly built
/// generation when a valid configuration change needs the pipeline, sources or sinks rebuilt. A
/// restart is in-process and controlled: the current generation's hosted services stop (sources
/// stop, the pipeline drains, sinks flush), a new service provider is built from the new
/// configuration and its hosted services start. If that fails, the previous configuration is
/// started again. Health, metrics and the watchdog always look at <see cref="Services"/>.
/// </summary>
public sealed partial class GatewayRuntime : IAsyncDisposable
{
    private readonly IServiceProvider _root;
    private readonly GatewayRegistrar _registrar;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ServiceProvider? _child;
    private IConfiguration? _childConfiguration;
    private volatile bool _restarting;
    private volatile bool _failed;
    private int _generation;
    private long _restarts;

    public GatewayRuntime(IServiceProvider root, GatewayRegistrar registrar, ILogger<GatewayRuntime> logger)
    {
        _root = root;
        _registrar = registrar;
        _logger = logger;
    }

    /// <summary>The services of the running generation (the host's own at start).</summary>
    public IServiceProvider Services => (IServiceProvider?)_child ?? _root;

    /// <summary>0 at start, +1 per in-process restart.</summary>
    public int Generation => Volatile.Read(ref _generation);

    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>True while a controlled restart is stopping one generation and starting the next.</summary>
    public bool IsRestarting => _restarting;

    /// <summary>True when a restart failed and so did the rollback: nothing runs; the watchdog stops so the init system restarts the service.</summary>
    public bool HasFailed => _failed;

    public PipelineHostedService? PipelineService => Services.GetService<PipelineHostedService>();

    public IReadOnlyList<ISensorSource> Sources => [.. Services.GetServices<ISensorSource>()];

    /// <summary>
    /// Stops the running generation and starts one built from <paramref name="configuration"/>
    /// (already validated). On failure the previous configuration is started again and the error rethrown.
    /// </summary>
    public async Task RestartAsync(IConfiguration configuration, IConfiguration previous, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(previous);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        _restarting = true;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            await StopCurrentAsync(cts.Token).ConfigureAwait(false);
            try
            {
                await StartGenerationAsync(configuration, cts.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _restarts);
                LogRestarted(_logger, Generation);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogRestartFailed(_logger, ex);
                try
                {
                    using var rollback = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    rollback.CancelAfter(timeout);
                    await StartGenerationAsync(previous, rollback.Token).ConfigureAwait(false);
                    LogRolledBack(_logger, Generation);
                }
                catch (Exception rollbackError)
                {
                    _failed = true;
                    LogRollbackFailed(_logger, rollbackError);
                }

                throw;
            }
        }
        finally
        {
            _restarting = false;
            _gate.Release();
        }
    }

    /// <summary>Stops the running generation if it is not the host's own (the host stops that one).</summary>
    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_child is not null)
            {
                await StopCurrentAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_child is { } child)
        {
            _child = null;
            await child.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    /// <summary>The hosted services of the running generation, without the operations services themselves.</summary>
    internal IReadOnlyList<IHostedService> GatewayHostedServices() =>
        [.. Services.GetServices<IHostedService>().Where(static s => s.GetType().Assembly != typeof(GatewayRuntime).Assembly)];

    private async Task StopCurrentAsync(CancellationToken cancellationToken)
    {
        var services = GatewayHostedServices();
        for (var i = services.Count - 1; i >= 0; i--)
        {
            try
            {
                await services[i].StopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogStopFailed(_logger, services[i].GetType().Name, ex);
            }
        }

        if (_child is { } child)
        {
            _child = null;
            await child.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            // The host's own generation is disposed only when the host is: close what would otherwise
            // linger until then (the telemetry spool connection and its meter, whose twin the new
            // generation publishes). Its DisposeAsync is idempotent.
            try
            {
                if (_root.GetService<Telemetry.TelemetryService>() is { } telemetry)
                {
                    await telemetry.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (InvalidOperationException)
            {
                // Telemetry disabled: nothing was created.
            }
        }
    }

    private async Task StartGenerationAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        var provider = BuildGeneration(configuration);
        var started = new List<IHostedService>();
        try
        {
            provider.GetService<IStartupValidator>()?.Validate();
            foreach (var service in provider.GetServices<IHostedService>())
            {
                await service.StartAsync(cancellationToken).ConfigureAwait(false);
                started.Add(service);
            }
        }
        catch
        {
            for (var i = started.Count - 1; i >= 0; i--)
            {
                try
                {
                    await started[i].StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogStopFailed(_logger, started[i].GetType().Name, ex);
                }
            }

            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _child = provider;
        _childConfiguration = configuration;
        Interlocked.Increment(ref _generation);
    }

    private ServiceProvider BuildGeneration(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new NestedGatewayMarker());
        services.AddSingleton(configuration);
        services.AddSingleton(_root.GetRequiredService<ILoggerFactory>());
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(_root.GetService<TimeProvider>() ?? TimeProvider.System);
        if (_root.GetService<IHostEnvironment>() is { } environment)
        {
            services.AddSingleton(environment);
        }

        if (_root.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            services.AddSingleton(lifetime);
        }

        services.AddOptions();
        _registrar(services, configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>The configuration of the running generation (null: the host's own).</summary>
    internal IConfiguration? GenerationConfiguration => _childConfiguration;

    [LoggerMessage(EventId = 12101, Level = LogLevel.Warning, Message = "Configuration applied: pipeline, sources and sinks restarted in-process (generation {Generation})")]
    private static partial void LogRestarted(ILogger logger, int generation);

    [LoggerMessage(EventId = 12102, Level = LogLevel.Error, Message = "The new configuration failed to start; going back to the previous one")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 12103, Level = LogLevel.Warning, Message = "Previous configuration running again (generation {Generation})")]
    private static partial void LogRolledBack(ILogger logger, int generation);

    [LoggerMessage(EventId = 12104, Level = LogLevel.Critical, Message = "The previous configuration failed to start again: nothing is monitored; the watchdog stops so the service is restarted")]
    private static partial void LogRollbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 12105, Level = LogLevel.Warning, Message = "Stopping {Service} for a restart failed")]
    private static partial void LogStopFailed(ILogger logger, string service, Exception exception);
}
