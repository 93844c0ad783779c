using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Operations;

/// <summary>
/// Watches the configuration files (the main file and the site override) and applies a change only
/// after it validated: an unreadable or invalid file is rejected with one log line per problem
/// naming the key, and the running configuration stays. A valid change to <c>Logging</c> applies
/// live; a change to any other <c>FactoryEdge</c> section (thresholds, sources and sensor lists,
/// sinks, models) restarts the pipeline, sources and sinks in-process (<see cref="GatewayRuntime"/>);
/// <c>FactoryEdge:Operations</c> itself applies at the next service restart. Keys are logged, never values.
/// </summary>
public sealed partial class ConfigurationReloadService : BackgroundService
{
    private readonly IConfiguration _root;
    private readonly GatewayRuntime _runtime;
    private readonly GatewayRegistrar _registrar;
    private readonly OperationsMonitor _monitor;
    private readonly OperationsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<string> _files;
    private Dictionary<string, string?> _applied;
    private IConfiguration _appliedConfiguration;
    private string _fingerprint;

    public ConfigurationReloadService(IConfiguration root, GatewayRuntime runtime, GatewayRegistrar registrar, OperationsMonitor monitor, IOptions<OperationsOptions> options, TimeProvider time, ILogger<ConfigurationReloadService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = root;
        _runtime = runtime;
        _registrar = registrar;
        _monitor = monitor;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _files = ConfigurationValidation.Files(root);
        _applied = Flatten(root);
        _appliedConfiguration = root;
        _fingerprint = Fingerprint(_files);
    }

    /// <summary>The files watched.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>Changes applied since start.</summary>
    public long Applied { get; private set; }

    /// <summary>Changes rejected since start.</summary>
    public long Rejected { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.ReloadOnChange || _files.Count == 0 || _root is not IConfigurationBuilder)
        {
            return;
        }

        LogWatching(_logger, string.Join(", ", _files));
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.ReloadPollSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = Fingerprint(_files);
                if (now == _fingerprint)
                {
                    continue;
                }

                // Let a writer finish: act once the files are the same on two consecutive looks.
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(1, _options.ReloadPollSeconds)), _time, stoppingToken).ConfigureAwait(false);
                var settled = Fingerprint(_files);
                if (settled != now)
                {
                    continue;
                }

                _fingerprint = settled;
                await CheckAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads the files again and applies or rejects the result.</summary>
    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        IConfigurationRoot candidate;
        try
        {
            candidate = ConfigurationValidation.Reread(_root);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or System.Text.Json.JsonException)
        {
            Reject([ex.Message + (ex.InnerException is { } inner ? " " + inner.Message : "")]);
            return;
        }

        var flattened = Flatten(candidate);
        var changed = flattened.Keys.Union(_applied.Keys, StringComparer.OrdinalIgnoreCase)
            .Where(k => !_applied.TryGetValue(k, out var a) || !flattened.TryGetValue(k, out var b) || !string.Equals(a, b, StringComparison.Ordinal))
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (changed.Count == 0)
        {
            return;
        }

        var failures = ConfigurationValidation.Validate(candidate, _registrar);
        if (failures.Count > 0)
        {
            Reject(failures);
            return;
        }

        var gateway = changed.Where(k => k.StartsWith("FactoryEdge:", StringComparison.OrdinalIgnoreCase) && !k.StartsWith(OperationsOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase)).ToList();
        var operations = changed.Where(k => k.StartsWith(OperationsOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase)).ToList();
        LogChanged(_logger, string.Join(", ", changed));
        if (operations.Count > 0)
        {
            LogNeedsServiceRestart(_logger, string.Join(", ", operations));
        }

        // The host's own configuration follows (log levels apply live through it).
        (_root as IConfigurationRoot)?.Reload();
        if (gateway.Count > 0)
        {
            try
            {
                await _runtime.RestartAsync(candidate, _appliedConfiguration, TimeSpan.FromSeconds(_options.RestartTimeoutSeconds), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Rejected++;
                _monitor.ConfigReloads.Add(1, new KeyValuePair<string, object?>("result", "failed"));
                return;
            }

            _appliedConfiguration = candidate;
        }

        _applied = flattened;
        Applied++;
        _monitor.ConfigReloads.Add(1, new KeyValuePair<string, object?>("result", "applied"));
    }

    private void Reject(IReadOnlyList<string> failures)
    {
        foreach (var failure in failures)
        {
            LogRejected(_logger, failure);
        }

        Rejected++;
        _monitor.ConfigReloads.Add(1, new KeyValuePair<string, object?>("result", "rejected"));
    }

    private static Dictionary<string, string?> Flatten(IConfiguration configuration)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (key.StartsWith("FactoryEdge:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Logging:", StringComparison.OrdinalIgnoreCase))
            {
                result[key] = value;
            }
        }

        return result;
    }

    private static string Fingerprint(IReadOnlyList<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\n"));
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData("<absent>"u8);
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    [LoggerMessage(EventId = 12301, Level = LogLevel.Information, Message = "Watching configuration files for changes: {Files}")]
    private static partial void LogWatching(ILogger logger, string files);

    [LoggerMessage(EventId = 12302, Level = LogLevel.Error, Message = "Configuration change rejected, the running configuration stays: {Failure}")]
    private static partial void LogRejected(ILogger logger, string failure);

    [LoggerMessage(EventId = 12303, Level = LogLevel.Warning, Message = "Configuration change validated; changed keys: {Keys}")]
    private static partial void LogChanged(ILogger logger, string keys);

    [LoggerMessage(EventId = 12304, Level = LogLevel.Warning, Message = "Changed keys of FactoryEdge:Operations apply at the next service restart: {Keys}")]
    private static partial void LogNeedsServiceRestart(ILogger logger, string keys);
}
