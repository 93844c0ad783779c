using System.Globalization;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Scoring;

/// <summary>
/// Assigns a model line to channels: <see cref="Channels"/> is a pattern on <c>site/line/machine/sensor/axis</c>
/// where <c>*</c> matches one segment and a pattern with fewer segments matches every channel below it
/// (<c>plant/line-1/pump-3</c> = every channel of that machine; <c>*</c> = every channel).
/// </summary>
public sealed record ModelAssignment(string Channels, string ModelId)
{
    public bool Matches(ChannelId channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var pattern = Channels.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string[] parts = [channel.Site, channel.Line, channel.Machine, channel.Sensor, channel.Axis];
        if (pattern.Length > parts.Length)
        {
            return false;
        }

        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != "*" && !string.Equals(pattern[i], parts[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Outcome of offering a model to the scorer.</summary>
public sealed record ActivationResult(bool Accepted, string Message)
{
    public static ActivationResult Refused(string message) => new(false, message);
}

/// <summary>What a candidate in shadow mode would have done, beside the active model, on the same windows.</summary>
public sealed record ShadowReport(
    string ModelId, string ActiveModel, string ShadowModel, long Windows,
    long ActiveAnomalousWindows, long ShadowAnomalousWindows, long ActiveAlerts, long ShadowAlerts)
{
    /// <summary>Share of the shadow-scored windows the candidate flags.</summary>
    public double ShadowAnomalousRate => Windows == 0 ? 0 : (double)ShadowAnomalousWindows / Windows;

    /// <summary>Share of the same windows the active model flags.</summary>
    public double ActiveAnomalousRate => Windows == 0 ? 0 : (double)ActiveAnomalousWindows / Windows;
}

/// <summary>State of one model line in the scorer.</summary>
public sealed record ModelSlotStatus(string ModelId, string? Active, long? ActiveVersion, string? Shadow, int Channels, long ScoredWindows, long Swaps);

/// <summary>
/// ONNX Runtime behind <see cref="IAnomalyScorer"/>. One session per model; rows of a pipeline tick
/// are grouped per model line and scored in one run per line (chunks of MaxBatch), through
/// preallocated, IoBinding-bound tensors: a <see cref="Score"/> call allocates nothing.
/// <para>
/// Models are assigned per channel pattern (<see cref="ModelAssignment"/>). Channels without a
/// model (or before their model is loaded) go to the fallback scorer (the statistical baseline).
/// </para>
/// <para>
/// Hot swap: <see cref="Activate"/> validates a model against the pipeline's schema and channels on
/// the caller's thread and parks it; the scoring thread takes it at the start of its next batch, so
/// a swap happens atomically between batches and no window is lost or scored twice. A refused model
/// leaves the running one in place. A candidate can run in shadow beside the active model
/// (<see cref="StartShadow"/>), with its would-be alert rate reported, and be promoted.
/// </para>
/// </summary>
public sealed partial class OnnxAnomalyScorer : IAnomalyScorer, IAlertExplainer, IDisposable
{
    private readonly ModelAssignment[] _assignments;
    private readonly int _windowSize;
    private readonly IAnomalyScorer? _fallback;
    private readonly int _raiseAfter;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _control = new();
    private readonly List<LoadedModel> _staged = [];
    private Slot[] _slots = [];
    private int[] _slotOfChannel = [];
    private ChannelDescriptor[] _channels = [];
    private string[] _featureNames = [];
    private ScoringBatch? _fallbackBatch;
    private int[] _fallbackRows = [];
    private volatile string _modelId;
    private int _modelIdDirty;
    private int _disposed;

    /// <param name="assignments">Which model line scores which channels (first match wins).</param>
    /// <param name="windowSize">The pipeline's window size: a model trained on another size is refused (0 = not checked).</param>
    /// <param name="fallback">Scores channels that have no model (yet); null leaves them unscored.</param>
    /// <param name="raiseAfter">Consecutive anomalous windows that make an alert (for the shadow report).</param>
    /// <param name="logger">Swaps, refusals and shadow events.</param>
    public OnnxAnomalyScorer(IEnumerable<ModelAssignment> assignments, int windowSize, IAnomalyScorer? fallback = null, int raiseAfter = 3, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        _assignments = [.. assignments];
        _windowSize = windowSize;
        _fallback = fallback;
        _raiseAfter = Math.Max(1, raiseAfter);
        _logger = logger ?? NullLogger.Instance;
        _modelId = "onnx (not initialised)";
    }

    public string ModelId => _modelId;

    /// <summary>Completes when <see cref="Initialize"/> has run (the pipeline exists); models can then be activated.</summary>
    public Task Initialized => _initialized.Task;

    public IReadOnlyList<string> FeatureNames => _featureNames;

    /// <summary>Hands a model over before <see cref="Initialize"/> (e.g. <c>analyze --model</c>); bound there, or refused with an exception.</summary>
    public void Stage(LoadedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_control)
        {
            if (_initialized.Task.IsCompleted)
            {
                throw new InvalidOperationException("The scorer is initialised: use Activate.");
            }

            _staged.Add(model);
        }
    }

    public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(featureNames);
        lock (_control)
        {
            _channels = [.. channels];
            _featureNames = [.. featureNames];
            _fallback?.Initialize(channels, featureNames);
            var slots = new List<Slot>();
            _slotOfChannel = new int[channels.Count];
            for (var c = 0; c < channels.Count; c++)
            {
                _slotOfChannel[c] = -1;
                if (channels[c].Kind != ChannelKind.Waveform)
                {
                    continue;
                }

                var assignment = Array.Find(_assignments, a => a.Matches(channels[c].Id));
                if (assignment is null)
                {
                    continue;
                }

                var slot = slots.Find(s => s.ModelId == assignment.ModelId);
                if (slot is null)
                {
                    slot = new Slot(assignment.ModelId, channels.Count);
                    slots.Add(slot);
                }

                _slotOfChannel[c] = slots.IndexOf(slot);
                slot.ChannelList.Add(c);
            }

            foreach (var old in _slots)
            {
                old.Dispose();
            }

            _slots = [.. slots];
            var staged = _staged.ToArray();
            _staged.Clear();
            _initialized.TrySetResult();
            foreach (var model in staged)
            {
                var result = ActivateLocked(model, allowOlder: true, shadow: false);
                if (!result.Accepted)
                {
                    throw new ModelLoadException(result.Message);
                }

                // Staged models are active from the first batch.
                var slot = Array.Find(_slots, s => s.ModelId == model.Manifest.ModelId)!;
                slot.ApplyControl(this);
            }

            RefreshModelId();
        }
    }

    /// <summary>
    /// Offers a model (ownership passes to the scorer, accepted or not). It must match the pipeline's
    /// feature schema and window size, every channel assigned to its line (sample rate within the
    /// training range, a bearing when the model uses bearing features), and be newer than the active
    /// version unless <paramref name="allowOlder"/> (an explicit rollback). Accepted models become
    /// active at the start of the next batch.
    /// </summary>
    public ActivationResult Activate(LoadedModel model, bool allowOlder = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_control)
        {
            return ActivateLocked(model, allowOlder, shadow: false);
        }
    }

    /// <summary>Runs a candidate beside the active model of its line without affecting alerts.</summary>
    public ActivationResult StartShadow(LoadedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_control)
        {
            return ActivateLocked(model, allowOlder: true, shadow: true);
        }
    }

    /// <summary>Makes the shadow candidate of <paramref name="modelId"/> the active model (at the next batch).</summary>
    public bool Promote(string modelId)
    {
        var slot = Find(modelId);
        if (slot is null || (Volatile.Read(ref slot.Shadow) is null && Volatile.Read(ref slot.PendingShadow) is null))
        {
            return false;
        }

        Volatile.Write(ref slot.PromoteRequested, 1);
        return true;
    }

    /// <summary>Stops the shadow candidate of <paramref name="modelId"/> (at the next batch).</summary>
    public bool StopShadow(string modelId)
    {
        var slot = Find(modelId);
        if (slot is null)
        {
            return false;
        }

        Volatile.Write(ref slot.StopShadowRequested, 1);
        return true;
    }

    public ShadowReport? GetShadowReport(string modelId)
    {
        var slot = Find(modelId);
        if (slot is null || Volatile.Read(ref slot.Shadow) is not { } shadow)
        {
            return null;
        }

        return new ShadowReport(
            modelId, Volatile.Read(ref slot.Active)?.DisplayId ?? "none", shadow.DisplayId,
            Interlocked.Read(ref slot.ShadowWindows), Interlocked.Read(ref slot.ShadowActiveAnomalous), Interlocked.Read(ref slot.ShadowAnomalous),
            Interlocked.Read(ref slot.ShadowActiveAlerts), Interlocked.Read(ref slot.ShadowAlerts));
    }

    public IReadOnlyList<ModelSlotStatus> GetStatus() =>
        [.. _slots.Select(s =>
        {
            var active = Volatile.Read(ref s.Active);
            return new ModelSlotStatus(s.ModelId, active?.DisplayId, active?.Version, Volatile.Read(ref s.Shadow)?.DisplayId, s.ChannelList.Count, Interlocked.Read(ref s.Scored), Interlocked.Read(ref s.Swaps));
        })];

    /// <summary>The active model of a line (null before one is loaded).</summary>
    public ModelManifest? ActiveManifest(string modelId) => Find(modelId) is { } slot ? Volatile.Read(ref slot.Active)?.Manifest : null;

    /// <summary>True when the model line has a model waiting to become active at the next batch.</summary>
    public bool HasPending(string modelId) => Find(modelId) is { } slot && (Volatile.Read(ref slot.Pending) is not null || Volatile.Read(ref slot.PendingShadow) is not null || Volatile.Read(ref slot.PromoteRequested) != 0);

    /// <summary>
    /// Explains an alerting window with <see cref="FaultDiagnoser"/> against the channel's active
    /// model (its training baselines); channels on the fallback scorer are explained by it.
    /// </summary>
    public AlertExplanation? Explain(int channelIndex, ReadOnlySpan<float> features)
    {
        var slotOfChannel = _slotOfChannel;
        var s = (uint)channelIndex < (uint)slotOfChannel.Length ? slotOfChannel[channelIndex] : -1;
        var model = s >= 0 ? Volatile.Read(ref _slots[s].Active) : null;
        if (model is null)
        {
            return (_fallback as IAlertExplainer)?.Explain(channelIndex, features);
        }

        var diagnosis = FaultDiagnoser.Diagnose(model.Manifest, _featureNames, features);
        var drivers = diagnosis.Drivers.Take(3).ToList();
        var driverText = string.Join(", ", drivers.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:+0.#;-0.#}σ")));
        string? defect = diagnosis.Defect switch
        {
            DefectType.OuterRace => "outer race",
            DefectType.InnerRace => "inner race",
            DefectType.Ball => "ball",
            DefectType.Imbalance => "imbalance",
            DefectType.Misalignment => "misalignment",
            DefectType.Looseness => "looseness",
            _ => null,
        };
        var summary = defect is null
            ? driverText
            : diagnosis.MatchedFrequencyHz is { } hz
                ? string.Create(CultureInfo.InvariantCulture, $"{defect} (line at {hz:0.#} Hz); {driverText}")
                : $"{defect}; {driverText}";
        return new AlertExplanation(summary, drivers, defect, diagnosis.MatchedFrequencyHz);
    }

    public void Score(ScoringBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var slots = _slots;
        foreach (var slot in slots)
        {
            slot.Count = 0; // a run that threw last time (batch left unscored by the pipeline) leaves nothing behind
            if (slot.HasControl)
            {
                slot.ApplyControl(this);
            }
        }

        if (Volatile.Read(ref _modelIdDirty) != 0)
        {
            RefreshModelId();
        }

        var fallbackBatch = _fallback is null ? null : EnsureFallbackBatch(batch.Capacity);
        fallbackBatch?.Clear();
        var slotOfChannel = _slotOfChannel;
        for (var row = 0; row < batch.Count; row++)
        {
            var channel = batch.ChannelIndices[row];
            var s = (uint)channel < (uint)slotOfChannel.Length ? slotOfChannel[channel] : -1;
            var slot = s >= 0 ? slots[s] : null;
            var model = slot?.Active;
            var features = batch.Features(row);
            batch.WarmingUp[row] = false;
            if (model is null)
            {
                if (fallbackBatch is not null)
                {
                    _fallbackRows[fallbackBatch.Add(channel, features)] = row;
                }
                else
                {
                    batch.Scores[row] = float.NaN;
                    batch.Thresholds[row] = float.NaN;
                }

                continue;
            }

            batch.Thresholds[row] = model.Threshold;
            if (model.IsWarmingUp(features))
            {
                batch.WarmingUp[row] = true;
                batch.Scores[row] = 0f;
                continue;
            }

            var r = slot!.Count;
            if (!model.Stage(features, r))
            {
                batch.Scores[row] = float.NaN;
                continue;
            }

            slot.RowOf[r] = row;
            slot.ChannelOf[r] = channel;
            var shadow = slot.Shadow;
            slot.ShadowStaged[r] = shadow is not null && !shadow.IsWarmingUp(features) && shadow.Stage(features, r);
            slot.Count = r + 1;
            if (slot.Count == slot.Capacity)
            {
                slot.Flush(batch, _raiseAfter);
            }
        }

        foreach (var slot in slots)
        {
            if (slot.Count > 0)
            {
                slot.Flush(batch, _raiseAfter);
            }
        }

        if (fallbackBatch is { Count: > 0 })
        {
            _fallback!.Score(fallbackBatch);
            for (var i = 0; i < fallbackBatch.Count; i++)
            {
                var row = _fallbackRows[i];
                batch.Scores[row] = fallbackBatch.Scores[i];
                batch.Thresholds[row] = fallbackBatch.Thresholds[i];
                batch.WarmingUp[row] = fallbackBatch.WarmingUp[i];
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_control)
        {
            foreach (var slot in _slots)
            {
                slot.Dispose();
            }

            foreach (var model in _staged)
            {
                model.Dispose();
            }

            _staged.Clear();
        }
    }

    private ScoringBatch EnsureFallbackBatch(int capacity)
    {
        if (_fallbackBatch is null || _fallbackBatch.Capacity < capacity)
        {
            // Once per pipeline (batch capacity is fixed), not per call.
            _fallbackBatch = new ScoringBatch(capacity, Math.Max(1, _featureNames.Length));
            _fallbackRows = new int[capacity];
        }

        return _fallbackBatch;
    }

    private Slot? Find(string modelId) => Array.Find(_slots, s => s.ModelId == modelId);

    private ActivationResult ActivateLocked(LoadedModel model, bool allowOlder, bool shadow)
    {
        var manifest = model.Manifest;
        var result = Validate();
        if (!result.Accepted)
        {
            model.Dispose();
            LogRefused(_logger, manifest.DisplayId, result.Message);
        }

        return result;

        ActivationResult Validate()
        {
            if (!_initialized.Task.IsCompleted)
            {
                return ActivationResult.Refused($"model {manifest.DisplayId}: the scorer is not initialised yet (no pipeline)");
            }

            var slot = Find(manifest.ModelId);
            if (slot is null)
            {
                return ActivationResult.Refused($"model {manifest.DisplayId}: no channel is assigned to model '{manifest.ModelId}' (assignments: {string.Join(", ", _assignments.Select(a => $"{a.Channels} → {a.ModelId}"))})");
            }

            if (CheckChannels(manifest, slot) is { } channelProblem)
            {
                return ActivationResult.Refused(channelProblem);
            }

            var current = Volatile.Read(ref slot.Pending) ?? Volatile.Read(ref slot.Active);
            if (!shadow && current is not null)
            {
                if (manifest.Version == current.Version && string.Equals(manifest.ModelSha256, current.Manifest.ModelSha256, StringComparison.OrdinalIgnoreCase))
                {
                    return ActivationResult.Refused($"model {manifest.DisplayId} is already active");
                }

                if (manifest.Version == current.Version)
                {
                    return ActivationResult.Refused($"model {manifest.DisplayId}: a different model with the same version as the active one; a retrained model needs a new version");
                }

                if (manifest.Version < current.Version && !allowOlder)
                {
                    return ActivationResult.Refused($"model {manifest.DisplayId} is older than the active {current.DisplayId}; rolling back must be asked for explicitly");
                }
            }

            BoundModel bound;
            try
            {
                bound = new BoundModel(model, _featureNames, _windowSize);
            }
            catch (ModelLoadException ex)
            {
                return ActivationResult.Refused(ex.Message);
            }

            if (shadow)
            {
                Interlocked.Exchange(ref slot.PendingShadow, bound)?.Dispose();
            }
            else
            {
                Interlocked.Exchange(ref slot.Pending, bound)?.Dispose();
            }

            LogAccepted(_logger, manifest.DisplayId, shadow ? "shadow" : "active", slot.ChannelList.Count);
            return new ActivationResult(true, $"model {manifest.DisplayId} accepted as {(shadow ? "shadow" : "active")} for {slot.ChannelList.Count} channel(s); it takes over at the next batch");
        }
    }

    private string? CheckChannels(ModelManifest manifest, Slot slot)
    {
        foreach (var c in slot.ChannelList)
        {
            var channel = _channels[c];
            if (channel.SampleRateHz < manifest.SampleRateMinHz * 0.99 || channel.SampleRateHz > manifest.SampleRateMaxHz * 1.01)
            {
                return $"model {manifest.DisplayId} was trained at {manifest.SampleRateMinHz}–{manifest.SampleRateMaxHz} Hz; channel {channel.Id} samples at {channel.SampleRateHz} Hz";
            }

            if (manifest.RequiresBearing && channel.Bearing is null)
            {
                return $"model {manifest.DisplayId} uses bearing-defect features; channel {channel.Id} declares no bearing";
            }
        }

        return null;
    }

    private void RefreshModelId()
    {
        Volatile.Write(ref _modelIdDirty, 0);
        var parts = new List<string>();
        foreach (var slot in _slots)
        {
            parts.Add(Volatile.Read(ref slot.Active)?.DisplayId ?? $"{slot.ModelId}@none");
        }

        var unassigned = Array.IndexOf(_slotOfChannel, -1) >= 0;
        if (_fallback is not null && (unassigned || parts.Count == 0 || _slots.Any(s => Volatile.Read(ref s.Active) is null)))
        {
            parts.Add(_fallback.ModelId);
        }

        _modelId = parts.Count == 0 ? "none" : string.Join('+', parts);
    }

    private void MarkModelIdDirty() => Volatile.Write(ref _modelIdDirty, 1);

    /// <summary>One model line: the channels it scores, its active and shadow models, the batch rows staged for it.</summary>
    private sealed class Slot(string modelId, int channelCount) : IDisposable
    {
        public readonly string ModelId = modelId;
        public readonly List<int> ChannelList = [];
        public BoundModel? Active;
        public BoundModel? Shadow;
        public BoundModel? Pending;
        public BoundModel? PendingShadow;
        public int PromoteRequested;
        public int StopShadowRequested;
        public long Scored;
        public long Swaps;
        public long ShadowWindows;
        public long ShadowAnomalous;
        public long ShadowActiveAnomalous;
        public long ShadowAlerts;
        public long ShadowActiveAlerts;
        public int Count;
        public int Capacity;
        public int[] RowOf = [];
        public int[] ChannelOf = [];
        public bool[] ShadowStaged = [];
        private readonly int[] _activeRun = new int[channelCount];
        private readonly int[] _shadowRun = new int[channelCount];

        public bool HasControl =>
            Volatile.Read(ref Pending) is not null || Volatile.Read(ref PendingShadow) is not null ||
            Volatile.Read(ref PromoteRequested) != 0 || Volatile.Read(ref StopShadowRequested) != 0;

        /// <summary>On the scoring thread, between batches: swaps, shadow start/stop, promotion.</summary>
        public void ApplyControl(OnnxAnomalyScorer owner)
        {
            if (Interlocked.Exchange(ref Pending, null) is { } next)
            {
                var previous = Active;
                Volatile.Write(ref Active, next);
                Interlocked.Increment(ref Swaps);
                Resize(next.MaxBatch);
                LogSwapped(owner._logger, ModelId, previous?.DisplayId ?? "none", next.DisplayId);
                previous?.Dispose();
                owner.MarkModelIdDirty();
            }

            if (Interlocked.Exchange(ref PendingShadow, null) is { } candidate)
            {
                Shadow?.Dispose();
                ResetShadowCounters();
                Volatile.Write(ref Shadow, candidate);
                Resize(candidate.MaxBatch);
                LogShadowStarted(owner._logger, ModelId, candidate.DisplayId);
            }

            if (Interlocked.Exchange(ref PromoteRequested, 0) != 0 && Shadow is { } promoted)
            {
                var previous = Active;
                Volatile.Write(ref Shadow, null);
                Volatile.Write(ref Active, promoted);
                Interlocked.Increment(ref Swaps);
                LogPromoted(owner._logger, ModelId, previous?.DisplayId ?? "none", promoted.DisplayId);
                previous?.Dispose();
                owner.MarkModelIdDirty();
            }

            if (Interlocked.Exchange(ref StopShadowRequested, 0) != 0 && Shadow is { } stopped)
            {
                Volatile.Write(ref Shadow, null);
                stopped.Dispose();
            }
        }

        public void Flush(ScoringBatch batch, int raiseAfter)
        {
            var model = Active!;
            var n = Count;
            model.Run(n);
            var shadow = Shadow;
            var shadowRows = 0;
            if (shadow is not null)
            {
                for (var r = 0; r < n; r++)
                {
                    shadowRows += ShadowStaged[r] ? 1 : 0;
                }

                if (shadowRows > 0)
                {
                    shadow.Run(n);
                }
            }

            for (var r = 0; r < n; r++)
            {
                var row = RowOf[r];
                var score = model.ScoreOf(r);
                batch.Scores[row] = score;
                if (shadow is not null && ShadowStaged[r])
                {
                    var channel = ChannelOf[r];
                    var activeAnomalous = score > model.Threshold;
                    var shadowAnomalous = shadow.ScoreOf(r) > shadow.Threshold;
                    ShadowWindows++;
                    ShadowActiveAnomalous += activeAnomalous ? 1 : 0;
                    ShadowAnomalous += shadowAnomalous ? 1 : 0;
                    ShadowActiveAlerts += Run(_activeRun, channel, activeAnomalous, raiseAfter);
                    ShadowAlerts += Run(_shadowRun, channel, shadowAnomalous, raiseAfter);
                }
            }

            Scored += n;
            Count = 0;
        }

        public void Dispose()
        {
            Interlocked.Exchange(ref Active, null)?.Dispose();
            Interlocked.Exchange(ref Shadow, null)?.Dispose();
            Interlocked.Exchange(ref Pending, null)?.Dispose();
            Interlocked.Exchange(ref PendingShadow, null)?.Dispose();
        }

        /// <summary>Counts an alert when a channel's run of anomalous windows reaches <paramref name="raiseAfter"/>.</summary>
        private static int Run(int[] runs, int channel, bool anomalous, int raiseAfter)
        {
            if (!anomalous)
            {
                runs[channel] = 0;
                return 0;
            }

            return ++runs[channel] == raiseAfter ? 1 : 0;
        }

        private void ResetShadowCounters()
        {
            ShadowWindows = ShadowAnomalous = ShadowActiveAnomalous = ShadowAlerts = ShadowActiveAlerts = 0;
            Array.Clear(_activeRun);
            Array.Clear(_shadowRun);
        }

        private void Resize(int maxBatch)
        {
            // Both models of a slot stage into their own session buffers at the same row: the
            // smaller MaxBatch bounds a flush. Arrays change only when a model with another size arrives.
            var capacity = Math.Min(maxBatch, Shadow?.MaxBatch ?? maxBatch);
            capacity = Math.Min(capacity, Active?.MaxBatch ?? capacity);
            if (capacity != Capacity)
            {
                Capacity = capacity;
                RowOf = new int[capacity];
                ChannelOf = new int[capacity];
                ShadowStaged = new bool[capacity];
            }
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Model line {ModelLine}: {Previous} replaced by {Next} between batches")]
    private static partial void LogSwapped(ILogger logger, string modelLine, string previous, string next);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Model {Model} accepted as {Role} for {Channels} channel(s)")]
    private static partial void LogAccepted(ILogger logger, string model, string role, int channels);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Model {Model} refused, the running model stays: {Reason}")]
    private static partial void LogRefused(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Model line {ModelLine}: shadow candidate {Model} started")]
    private static partial void LogShadowStarted(ILogger logger, string modelLine, string model);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "Model line {ModelLine}: shadow {Next} promoted, replacing {Previous}")]
    private static partial void LogPromoted(ILogger logger, string modelLine, string previous, string next);
}
