using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Scoring;

/// <summary>A model file seen in the models folder.</summary>
public sealed record ModelFileInfo(string Path, string ModelId, long Version, string ModelSha256);

/// <summary>
/// Watches the models folder and feeds the scorer without stopping the pipeline: a new version
/// dropped in (model, manifest, signature) is verified, checked against the pipeline's schema and
/// channels, then swapped in between two batches — or run in shadow first when
/// <see cref="ScoringOptions.ShadowNewModels"/> is set. A refused model is logged with the reason and
/// the running one stays. Versions older than the active one are only loaded by <see cref="Rollback"/>.
/// The same operations are exposed for an API or CLI (<see cref="LoadFile"/>, <see cref="Promote"/>).
/// </summary>
public sealed partial class ModelManager : BackgroundService
{
    private readonly OnnxAnomalyScorer _scorer;
    private readonly ScoringOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);
    private readonly List<ModelFileInfo> _accepted = [];
    private TrustedKeyRing? _keys;
    private bool _controlFailureLogged;

    public ModelManager(OnnxAnomalyScorer scorer, IOptions<ScoringOptions> options, TimeProvider? timeProvider = null, ILogger<ModelManager>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        _scorer = scorer;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Directory = Path.GetFullPath(_options.ModelsDirectory.Length == 0 ? "." : _options.ModelsDirectory, AppContext.BaseDirectory);
    }

    public string Directory { get; }

    /// <summary>Models accepted so far (newest last).</summary>
    public IReadOnlyList<ModelFileInfo> Accepted
    {
        get
        {
            lock (_gate)
            {
                return [.. _accepted];
            }
        }
    }

    /// <summary>Scans the folder once: every new or changed model file is considered.</summary>
    public void Scan()
    {
        lock (_gate)
        {
            ScanLocked();
        }
    }

    /// <summary>Loads one model file (pushed through an API or CLI) as active or shadow.</summary>
    public ActivationResult LoadFile(string modelPath, bool shadow = false, bool allowOlder = false)
    {
        lock (_gate)
        {
            return LoadLocked(modelPath, shadow, allowOlder);
        }
    }

    /// <summary>
    /// Explicit rollback of a model line: to <paramref name="version"/>, or to the newest accepted
    /// version older than the active one. The file must still be in the folder and still verify.
    /// </summary>
    public ActivationResult Rollback(string modelId, long? version = null)
    {
        lock (_gate)
        {
            var active = _scorer.ActiveManifest(modelId);
            var candidates = ListFolder().Where(f => f.ModelId == modelId && (version is { } v ? f.Version == v : active is null || f.Version < active.Version))
                .OrderByDescending(f => f.Version).ToList();
            if (candidates.Count == 0)
            {
                var message = version is { } wanted
                    ? $"rollback of {modelId}: no file of version {wanted} in {Directory}"
                    : $"rollback of {modelId}: no version older than {active?.DisplayId ?? "the active one"} in {Directory}";
                LogRollbackFailed(_logger, modelId, message);
                return ActivationResult.Refused(message);
            }

            var result = ActivationResult.Refused("no candidate");
            foreach (var candidate in candidates)
            {
                // The newest older version that still verifies.
                result = LoadLocked(candidate.Path, shadow: false, allowOlder: true);
                if (result.Accepted)
                {
                    LogRolledBack(_logger, modelId, candidate.Version);
                    break;
                }
            }

            return result;
        }
    }

    public bool Promote(string modelId) => _scorer.Promote(modelId);

    /// <summary>
    /// Answers the operator commands waiting in <c>MODELS/.control</c> (<see cref="ModelControl"/>)
    /// and rewrites <c>status.json</c>. Called after every folder scan.
    /// </summary>
    public void ProcessControl()
    {
        foreach (var id in ModelControl.PendingRequests(Directory))
        {
            var requestPath = ModelControl.RequestPath(Directory, id);
            ModelControlResponse response;
            try
            {
                var request = System.Text.Json.JsonSerializer.Deserialize<ModelControlRequest>(File.ReadAllBytes(requestPath), ModelControl.JsonOptions)
                    ?? throw new System.Text.Json.JsonException("empty request");
                response = Execute(request with { Id = id });
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
            {
                response = new ModelControlResponse { Id = id, Ok = false, Message = $"unreadable request {Path.GetFileName(requestPath)}: {ex.Message}", AnsweredUtc = _time.GetUtcNow() };
            }
            catch (IOException)
            {
                continue; // still being written: next scan
            }

            LogControl(_logger, id, response.Ok, response.Message);
            ModelControl.WriteAtomically(ModelControl.ResponsePath(Directory, id), response);
            File.Delete(requestPath);
        }

        var lines = _scorer.GetStatus();
        ModelControl.WriteAtomically(ModelControl.StatusPath(Directory), new ModelControlStatus
        {
            UpdatedUtc = _time.GetUtcNow(),
            Lines = lines,
            Shadows = [.. lines.Where(l => l.Shadow is not null).Select(l => _scorer.GetShadowReport(l.ModelId)).OfType<ShadowReport>()],
        });
    }

    /// <summary>
    /// <see cref="ProcessControl"/> for the background loop: a read-only models folder disables the
    /// operator commands (logged once) without stopping the scans.
    /// </summary>
    private void ProcessControlSafely()
    {
        try
        {
            ProcessControl();
            _controlFailureLogged = false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (!_controlFailureLogged)
            {
                _controlFailureLogged = true;
                LogControlUnavailable(_logger, ModelControl.Folder(Directory), ex.Message);
            }
        }
    }

    /// <summary>Runs one operator command (<see cref="ProcessControl"/>, or an API).</summary>
    public ModelControlResponse Execute(ModelControlRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lines = _scorer.GetStatus();
        ModelControlResponse Answer(bool ok, string message, ShadowReport? shadow = null) =>
            new() { Id = request.Id, Ok = ok, Message = message, Shadow = shadow, Lines = _scorer.GetStatus(), AnsweredUtc = _time.GetUtcNow() };

        if (request.Command == ModelControlCommand.Status)
        {
            return Answer(true, $"{lines.Count} model line(s)");
        }

        if (request.ModelId is not { Length: > 0 } modelId || !lines.Any(l => l.ModelId == modelId))
        {
            return Answer(false, $"unknown model line '{request.ModelId}' (lines: {string.Join(", ", lines.Select(l => l.ModelId))})");
        }

        switch (request.Command)
        {
            case ModelControlCommand.Promote:
                var shadowName = lines.First(l => l.ModelId == modelId).Shadow;
                return Promote(modelId)
                    ? Answer(true, $"{shadowName ?? modelId} becomes active at the next batch")
                    : Answer(false, $"model line {modelId} has no shadow candidate to promote");
            case ModelControlCommand.Rollback:
                var result = Rollback(modelId, request.Version);
                return Answer(result.Accepted, result.Message);
            case ModelControlCommand.ShadowReport:
                return GetShadowReport(modelId) is { } report
                    ? Answer(true, $"{report.ShadowModel} in shadow beside {report.ActiveModel}", report)
                    : Answer(false, $"model line {modelId} has no shadow candidate");
            case ModelControlCommand.StopShadow:
                return _scorer.StopShadow(modelId)
                    ? Answer(true, $"shadow candidate of {modelId} stopped at the next batch")
                    : Answer(false, $"model line {modelId} has no shadow candidate");
            default:
                return Answer(false, $"unknown command {request.Command}");
        }
    }

    public ShadowReport? GetShadowReport(string modelId) => _scorer.GetShadowReport(modelId);

    public override void Dispose()
    {
        _keys?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _scorer.Initialized.WaitAsync(stoppingToken).ConfigureAwait(false);
        var period = TimeSpan.FromSeconds(_options.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Scan();
                ProcessControlSafely();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever went wrong with the folder or a file, monitoring goes on with the running models.
                LogScanFailed(_logger, Directory, ex);
            }

            await Task.Delay(period, _time, stoppingToken).ConfigureAwait(false);
        }
    }

    private TrustedKeyRing Keys => _keys ??= new TrustedKeyRing(_options.TrustedKeys, AppContext.BaseDirectory);

    private ModelLoadPolicy Policy => new()
    {
        TrustedKeys = Keys,
        RequireSignature = !_options.AllowUnsignedModels,
        MaxBatch = _options.MaxBatch,
        IntraOpThreads = _options.IntraOpThreads,
    };

    private void ScanLocked()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        // Newest version of each line first; an older one is only considered if every newer one was refused.
        var changed = new List<(ModelFileInfo File, string Fingerprint)>();
        foreach (var file in ListFolder())
        {
            var fingerprint = Fingerprint(file.Path);
            if (_seen.TryGetValue(file.Path, out var previous) && previous == fingerprint)
            {
                continue;
            }

            changed.Add((file, fingerprint));
        }

        foreach (var line in changed.GroupBy(c => c.File.ModelId))
        {
            var active = _scorer.ActiveManifest(line.Key);
            foreach (var (file, fingerprint) in line.OrderByDescending(c => c.File.Version))
            {
                _seen[file.Path] = fingerprint;
                if (active is not null && file.Version <= active.Version)
                {
                    if (file.Version < active.Version || !string.Equals(file.ModelSha256, active.ModelSha256, StringComparison.OrdinalIgnoreCase))
                    {
                        LogIgnoredOlder(_logger, file.Path, $"{file.ModelId}@v{file.Version}", active.DisplayId);
                    }

                    continue;
                }

                if (LoadLocked(file.Path, _options.ShadowNewModels, allowOlder: false).Accepted)
                {
                    // Newer files of this line were refused; older ones are not wanted once this one runs.
                    foreach (var (other, otherPrint) in line)
                    {
                        _seen[other.Path] = otherPrint;
                    }

                    break;
                }
            }
        }
    }

    private ActivationResult LoadLocked(string modelPath, bool shadow, bool allowOlder)
    {
        LoadedModel model;
        try
        {
            model = ModelLoader.Load(modelPath, Policy);
        }
        catch (ModelLoadException ex)
        {
            LogLoadRefused(_logger, modelPath, ex.Message);
            return ActivationResult.Refused(ex.Message);
        }

        var manifest = model.Manifest;
        var info = new ModelFileInfo(model.Origin.ModelPath, manifest.ModelId, manifest.Version, manifest.ModelSha256);
        var result = shadow ? _scorer.StartShadow(model) : _scorer.Activate(model, allowOlder);
        if (result.Accepted)
        {
            _accepted.Add(info);
        }

        return result;
    }

    /// <summary>Every <c>*.onnx</c> whose manifest reads; unreadable ones are logged once per change.</summary>
    private List<ModelFileInfo> ListFolder()
    {
        var files = new List<ModelFileInfo>();
        if (!System.IO.Directory.Exists(Directory))
        {
            return files;
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.onnx").Order(StringComparer.Ordinal))
        {
            var manifestPath = ModelFiles.ManifestPath(path);
            if (!File.Exists(manifestPath))
            {
                continue; // still being copied, or not a model of ours
            }

            try
            {
                var manifest = ModelManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath);
                files.Add(new ModelFileInfo(path, manifest.ModelId, manifest.Version, manifest.ModelSha256));
            }
            catch (Exception ex) when (ex is ModelLoadException or IOException or UnauthorizedAccessException)
            {
                var fingerprint = Fingerprint(path);
                if (!_seen.TryGetValue(path, out var previous) || previous != fingerprint)
                {
                    _seen[path] = fingerprint;
                    LogLoadRefused(_logger, path, ex.Message);
                }
            }
        }

        return files;
    }

    private static string Fingerprint(string modelPath)
    {
        static string Stamp(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "-";
        }

        return $"{Stamp(modelPath)}|{Stamp(ModelFiles.ManifestPath(modelPath))}|{Stamp(ModelFiles.SignaturePath(modelPath))}";
    }

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "Model {Path} refused, the running model stays: {Reason}")]
    private static partial void LogLoadRefused(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Warning, Message = "Model {Path} ({Model}) is not newer than the active {Active}: ignored (use an explicit rollback)")]
    private static partial void LogIgnoredOlder(ILogger logger, string path, string model, string active);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Information, Message = "Model line {ModelLine} rolled back to version {Version}")]
    private static partial void LogRolledBack(ILogger logger, string modelLine, long version);

    [LoggerMessage(EventId = 7013, Level = LogLevel.Warning, Message = "Rollback of {ModelLine} failed: {Reason}")]
    private static partial void LogRollbackFailed(ILogger logger, string modelLine, string reason);

    [LoggerMessage(EventId = 7015, Level = LogLevel.Information, Message = "Operator command {Request}: ok={Ok}, {Message}")]
    private static partial void LogControl(ILogger logger, string request, bool ok, string message);

    [LoggerMessage(EventId = 7016, Level = LogLevel.Warning, Message = "Operator commands unavailable: cannot use {Folder} ({Reason}); model scans go on")]
    private static partial void LogControlUnavailable(ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 7014, Level = LogLevel.Error, Message = "Scanning the models folder {Directory} failed")]
    private static partial void LogScanFailed(ILogger logger, string directory, Exception exception);
}
