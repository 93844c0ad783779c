using FactoryEdge.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Pipeline.Hosting;

/// <summary>
/// Runs the pipeline inside the host: collects the channels of every registered
/// <see cref="ISensorSource"/>, starts the pipeline, runs each source (restarting a failed source with
/// capped exponential backoff and marking the gap), and on shutdown stops the sources, then drains the
/// pipeline so nothing already received is lost.
/// </summary>
public sealed partial class PipelineHostedService : BackgroundService
{
    private readonly PipelineOptions _options;
    private readonly IReadOnlyList<ISensorSource> _sources;
    private readonly IAnomalyScorer _scorer;
    private readonly IEnumerable<IAlertNotifier> _notifiers;
    private readonly IEnumerable<ITelemetrySink> _telemetry;
    private readonly IEnumerable<ITrainingWindowSink> _training;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IChannelDescriptorEnricher[] _enrichers;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PipelineHostedService(
        IOptions<PipelineOptions> options,
        IEnumerable<ISensorSource> sources,
        IAnomalyScorer scorer,
        IEnumerable<IAlertNotifier> notifiers,
        IEnumerable<ITelemetrySink> telemetry,
        IEnumerable<ITrainingWindowSink> training,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IEnumerable<IChannelDescriptorEnricher>? enrichers = null)
    {
        _enrichers = [.. enrichers ?? []];
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _sources = [.. sources];
        _scorer = scorer;
        _notifiers = notifiers;
        _telemetry = telemetry;
        _training = training;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger<PipelineHostedService>();
    }

    /// <summary>The running pipeline (null before start, or when no source has channels).</summary>
    public SignalPipeline? Pipeline { get; private set; }

    /// <summary>Completes when the pipeline has started (or it was decided there is nothing to run).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Sources currently running (not in a backoff after a failure).</summary>
    public int HealthySources => Volatile.Read(ref _healthySources);

    private int _healthySources;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var channels = new List<ChannelDescriptor>();
        var seen = new HashSet<ChannelId>();
        foreach (var source in _sources)
        {
            foreach (var channel in source.Channels)
            {
                if (!seen.Add(channel.Id))
                {
                    throw new InvalidOperationException($"Channel {channel.Id} is declared twice (again by source '{source.Name}'). Channel ids must be unique.");
                }

                var enriched = channel;
                foreach (var enricher in _enrichers)
                {
                    enriched = enricher.Enrich(enriched);
                }

                channels.Add(enriched);
            }
        }

        if (channels.Count == 0)
        {
            LogNoChannels(_logger);
            _ready.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }

        var pipeline = new SignalPipeline(_options, channels, _scorer, _notifiers, _telemetry, _training, _loggerFactory);
        Pipeline = pipeline;
        pipeline.Start();
        _ready.TrySetResult();
        try
        {
            var runs = new List<Task>();
            var offset = 0;
            foreach (var source in _sources)
            {
                var writers = pipeline.Writers.Skip(offset).Take(source.Channels.Count).ToArray();
                offset += source.Channels.Count;
                runs.Add(RunSourceAsync(source, writers, stoppingToken));
            }

            await Task.WhenAll(runs).ConfigureAwait(false);
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            await pipeline.StopAsync(CancellationToken.None).ConfigureAwait(false);
            LogStopped(_logger, pipeline.WindowsProcessed);
        }
    }

    private async Task RunSourceAsync(ISensorSource source, IReadOnlyList<IChannelWriter> writers, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(60);
        while (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _healthySources);
            try
            {
                await Task.Run(() => source.RunAsync(writers, cancellationToken), cancellationToken).ConfigureAwait(false);
                LogSourceEnded(_logger, source.Name);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSourceFailed(_logger, source.Name, delay.TotalSeconds, ex);
            }
            finally
            {
                Interlocked.Decrement(ref _healthySources);
            }

            foreach (var writer in writers)
            {
                writer.MarkGap();
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            delay = TimeSpan.FromTicks(Math.Min(max.Ticks, delay.Ticks * 2));
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "No sensor source declares any channel: the pipeline is idle. Configure FactoryEdge:Sources.")]
    private static partial void LogNoChannels(ILogger logger);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Source {Source} failed; restarting in {DelaySeconds} s (the gap is marked)")]
    private static partial void LogSourceFailed(ILogger logger, string source, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Source {Source} has no more data")]
    private static partial void LogSourceEnded(ILogger logger, string source);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Pipeline stopped after {Windows} windows")]
    private static partial void LogStopped(ILogger logger, long windows);
}
