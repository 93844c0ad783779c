using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FactoryEdge.Core;

namespace FactoryEdge.Uplink;

/// <summary>A batch closed by the capture engine, handed to the writer. <see cref="Payload"/> is rented from the shared pool.</summary>
internal sealed record SealedBatch(BatchManifest Manifest, byte[] Payload, int Length, bool HasAlerts, BudgetState Budget);

/// <summary>Bytes of raw samples captured today (UTC), persisted so a restart does not reset the budget.</summary>
public sealed class BudgetState
{
    /// <summary>Days since 0001-01-01 (UTC).</summary>
    public long Day { get; set; }

    public long Total { get; set; }

    public long TotalSamples { get; set; }

    public Dictionary<string, long[]> Channels { get; set; } = [];

    internal BudgetState Clone() => new()
    {
        Day = Day,
        Total = Total,
        TotalSamples = TotalSamples,
        Channels = Channels.ToDictionary(kv => kv.Key, kv => (long[])kv.Value.Clone(), StringComparer.Ordinal),
    };

    public static BudgetState? TryLoad(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<BudgetState>(File.ReadAllBytes(path)) : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            return null;
        }
    }

    public void Save(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(this));
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>Counters of the uplink (read from any thread).</summary>
public sealed class UplinkCounters
{
    internal long WindowsSeenField;
    internal long CapturedTriggerField;
    internal long CapturedSampleField;
    internal long BudgetDroppedField;
    internal long TriggersField;
    internal long LateTriggersField;
    internal long SpoolFullDroppedField;
    internal long BatchesWrittenField;
    internal long RawBytesWrittenField;
    internal long FileBytesWrittenField;
    internal long BatchesUploadedField;
    internal long DuplicatesField;
    internal long QuarantinedField;
    internal long FailedAttemptsField;
    internal long BytesUploadedField;

    public long WindowsSeen => Interlocked.Read(ref WindowsSeenField);

    /// <summary>Windows captured around triggers (pre, trigger, post).</summary>
    public long CapturedTrigger => Interlocked.Read(ref CapturedTriggerField);

    public long CapturedSample => Interlocked.Read(ref CapturedSampleField);

    /// <summary>Windows not captured because a bytes/day budget was spent.</summary>
    public long BudgetDropped => Interlocked.Read(ref BudgetDroppedField);

    public long Triggers => Interlocked.Read(ref TriggersField);

    /// <summary>Triggers whose window had already left the ring (notification too late).</summary>
    public long LateTriggers => Interlocked.Read(ref LateTriggersField);

    /// <summary>Windows refused because the spool was at its cap.</summary>
    public long SpoolFullDropped => Interlocked.Read(ref SpoolFullDroppedField);

    public long BatchesWritten => Interlocked.Read(ref BatchesWrittenField);

    public long RawBytesWritten => Interlocked.Read(ref RawBytesWrittenField);

    public long FileBytesWritten => Interlocked.Read(ref FileBytesWrittenField);

    public long BatchesUploaded => Interlocked.Read(ref BatchesUploadedField);

    /// <summary>Uploads the receiver already had (a resend after a lost acknowledgement).</summary>
    public long Duplicates => Interlocked.Read(ref DuplicatesField);

    public long Quarantined => Interlocked.Read(ref QuarantinedField);

    public long FailedAttempts => Interlocked.Read(ref FailedAttemptsField);

    public long BytesUploaded => Interlocked.Read(ref BytesUploadedField);
}

/// <summary>
/// The capture policy. Every window goes into its channel's ring (a copy into a preallocated slot:
/// nothing is allocated for windows that are not captured). A trigger — an alert raised or
/// escalated on the channel, or an anomalous window — captures the ring's last
/// <see cref="CaptureOptions.PreTriggerWindows"/> windows before the trigger window, the trigger window
/// and the next <see cref="CaptureOptions.PostTriggerWindows"/>. Independently, a run of
/// <see cref="CaptureOptions.SampleWindows"/> healthy, running, normal windows is sampled every
/// <see cref="CaptureOptions.SampleIntervalSeconds"/> of source time per channel. Captures are charged
/// to per-channel and total bytes/day budgets; samples may use only their share of each.
/// Thread-safe: windows arrive on the sink thread, alerts on a notifier thread, flushes on a timer.
/// </summary>
internal sealed class CaptureEngine
{
    private readonly CaptureOptions _capture;
    private readonly BatchOptions _batch;
    private readonly TimeProvider _time;
    private readonly string _gatewayId;
    private readonly Func<string> _modelId;
    private readonly Func<IReadOnlyList<string>> _featureNames;
    private readonly Func<int, ChannelDescriptor?> _describe;
    private readonly Action<SealedBatch> _seal;
    private readonly ConcurrentQueue<(ChannelId Channel, long SourceTicks, string AlertId)> _alerts = new();
    private readonly Dictionary<ChannelId, ChannelState> _byId = [];
    private readonly Lock _gate = new();
    private readonly long _sampleIntervalTicks;
    private ChannelState?[] _channels = new ChannelState?[16];
    private BudgetState _budget;

    // The open batch.
    private readonly List<BatchWindow> _windows = [];
    private readonly List<BatchChannel> _batchChannels = [];
    private readonly Dictionary<int, int> _batchChannelIndex = [];
    private byte[] _payload;
    private int _payloadLength;
    private bool _hasAlerts;
    private long _openedTimestamp;
    private long _minStartTicks = long.MaxValue;
    private long _maxEndTicks = long.MinValue;

    public CaptureEngine(UplinkOptions options, TimeProvider time, string gatewayId, Func<string> modelId, Func<IReadOnlyList<string>> featureNames, Func<int, ChannelDescriptor?> describe, Action<SealedBatch> seal, BudgetState? budget = null)
    {
        _capture = options.Capture;
        _batch = options.Batch;
        _time = time;
        _gatewayId = gatewayId;
        _modelId = modelId;
        _featureNames = featureNames;
        _describe = describe;
        _seal = seal;
        _sampleIntervalTicks = (long)(options.Capture.SampleIntervalSeconds * TimeSpan.TicksPerSecond);
        _payload = ArrayPool<byte>.Shared.Rent(options.Batch.MaxBytes + (64 * 1024 * 4));
        var today = Today();
        _budget = budget is not null && budget.Day == today ? budget : new BudgetState { Day = today };
    }

    public UplinkCounters Counters { get; } = new();

    /// <summary>Takes an alert (any thread). Raised and escalated alerts trigger a capture with <see cref="UplinkTrigger.Alert"/>.</summary>
    public void OnAlert(Alert alert)
    {
        if (_capture.Trigger == UplinkTrigger.Alert && alert.State is AlertState.Raised or AlertState.Escalated)
        {
            _alerts.Enqueue((alert.Channel, alert.SourceTime.UtcTicks, alert.AlertId));
        }
    }

    /// <summary>Takes one window (the sink thread). <paramref name="samples"/> is copied.</summary>
    public void OnWindow(WindowResult result, ReadOnlySpan<float> samples)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref Counters.WindowsSeenField);
            var state = State(result);
            var slot = state.Push(result, samples);
            DrainAlerts();
            if (_capture.Trigger == UplinkTrigger.Anomalous && result.Anomalous && state.PendingTicks == long.MinValue)
            {
                // A run of anomalous windows extends one capture (same id) instead of starting new ones.
                state.PendingTicks = result.Timestamps.SourceStartTicks;
                state.PendingId = state.PostRemaining > 0 && state.ActiveId is { } active
                    ? active
                    : string.Create(CultureInfo.InvariantCulture, $"{result.Channel}#{result.WindowNumber}");
                Interlocked.Increment(ref Counters.TriggersField);
            }

            if (!TryActivate(state) && state.PostRemaining > 0 && !slot.Captured)
            {
                state.PostRemaining--;
                Capture(state, slot, CaptureReason.PostTrigger, state.ActiveId);
            }

            Sample(state, slot);
            FlushIfDueLocked(force: false);
        }
    }

    /// <summary>Seals the open batch when it is old enough (or now, with <paramref name="force"/>).</summary>
    public void Flush(bool force)
    {
        lock (_gate)
        {
            DrainAlerts();
            FlushIfDueLocked(force);
        }
    }

    private ChannelState State(WindowResult result)
    {
        var index = result.ChannelIndex;
        if (index >= _channels.Length)
        {
            Array.Resize(ref _channels, Math.Max(index + 1, _channels.Length * 2));
        }

        var state = _channels[index];
        if (state is null || !state.Id.Equals(result.Channel))
        {
            state = new ChannelState(index, result.Channel, _capture.PreTriggerWindows + _capture.TriggerSlackWindows + 1);
            _channels[index] = state;
            _byId[result.Channel] = state;
        }

        return state;
    }

    private void DrainAlerts()
    {
        while (_alerts.TryDequeue(out var alert))
        {
            Interlocked.Increment(ref Counters.TriggersField);
            if (!_byId.TryGetValue(alert.Channel, out var state))
            {
                continue;
            }

            if (state.PendingTicks == long.MinValue || alert.SourceTicks < state.PendingTicks)
            {
                state.PendingTicks = alert.SourceTicks;
                state.PendingId = alert.AlertId;
            }

            TryActivate(state);
        }
    }

    /// <summary>Starts a pending trigger once its window is in the ring: pre, trigger and post windows.</summary>
    private bool TryActivate(ChannelState state)
    {
        if (state.PendingTicks == long.MinValue || state.Count == 0 || state.Newest.SourceTicks < state.PendingTicks)
        {
            return false;
        }

        var t = state.PendingTicks;
        var id = state.PendingId;
        state.PendingTicks = long.MinValue;
        state.PendingId = null;
        if (state.Oldest.SourceTicks > t)
        {
            Interlocked.Increment(ref Counters.LateTriggersField);
        }

        // Pre-trigger: the last PreTriggerWindows windows before t that are not captured yet.
        var before = 0;
        for (var i = 0; i < state.Count; i++)
        {
            if (state.At(i).SourceTicks < t)
            {
                before++;
            }
        }

        var post = Math.Max(state.PostRemaining, _capture.PostTriggerWindows);
        var skip = Math.Max(0, before - _capture.PreTriggerWindows);
        for (var i = 0; i < state.Count; i++)
        {
            var slot = state.At(i);
            if (slot.SourceTicks < t)
            {
                if (skip-- > 0 || slot.Captured)
                {
                    continue;
                }

                Capture(state, slot, CaptureReason.PreTrigger, id);
            }
            else if (slot.SourceTicks == t)
            {
                if (!slot.Captured)
                {
                    Capture(state, slot, CaptureReason.Trigger, id);
                }
            }
            else if (post > 0)
            {
                post--;
                if (!slot.Captured)
                {
                    Capture(state, slot, CaptureReason.PostTrigger, id);
                }
            }
        }

        state.PostRemaining = post;
        state.ActiveId = id;
        return true;
    }

    private void Sample(ChannelState state, Slot slot)
    {
        if (_sampleIntervalTicks <= 0 || slot.Captured)
        {
            return;
        }

        var normal = !slot.Result.Health.ExcludesWindow() && slot.Result.MachineState != MachineState.Stopped && !slot.Result.Anomalous;
        if (state.SampleRemaining > 0)
        {
            if (!normal)
            {
                state.SampleRemaining = 0;
                return;
            }

            state.SampleRemaining--;
            Capture(state, slot, CaptureReason.Sample, null);
            return;
        }

        if (slot.SourceTicks + _sampleIntervalTicks < state.NextSampleTicks)
        {
            state.NextSampleTicks = slot.SourceTicks; // source time went back (replay restarted)
        }

        if (normal && slot.SourceTicks >= state.NextSampleTicks)
        {
            state.NextSampleTicks = slot.SourceTicks + _sampleIntervalTicks;
            state.SampleRemaining = _capture.SampleWindows - 1;
            Capture(state, slot, CaptureReason.Sample, null);
        }
    }

    private void Capture(ChannelState state, Slot slot, CaptureReason reason, string? triggerId)
    {
        var cost = (long)slot.Length * 4;
        var isSample = reason == CaptureReason.Sample;
        RollDay();
        if (!_budget.Channels.TryGetValue(state.Key, out var used))
        {
            used = new long[2];
            _budget.Channels[state.Key] = used;
        }

        if (!Fits(used[0], cost, _capture.ChannelBytesPerDay, 1) || !Fits(_budget.Total, cost, _capture.TotalBytesPerDay, 1)
            || (isSample && (!Fits(used[1], cost, _capture.ChannelBytesPerDay, _capture.SampleShareOfBudget) || !Fits(_budget.TotalSamples, cost, _capture.TotalBytesPerDay, _capture.SampleShareOfBudget))))
        {
            Interlocked.Increment(ref Counters.BudgetDroppedField);
            // A refused trigger capture is not tried again by an overlapping trigger; a refused sample
            // stays available to a trigger (which may use the whole budget).
            slot.Captured = !isSample;
            return;
        }

        used[0] += cost;
        _budget.Total += cost;
        if (isSample)
        {
            used[1] += cost;
            _budget.TotalSamples += cost;
            Interlocked.Increment(ref Counters.CapturedSampleField);
        }
        else
        {
            _hasAlerts = true;
            Interlocked.Increment(ref Counters.CapturedTriggerField);
        }

        slot.Captured = true;
        Append(state, slot, reason, triggerId);
    }

    private static bool Fits(long used, long cost, long budget, double share) => budget <= 0 || used + cost <= budget * share;

    private void Append(ChannelState state, Slot slot, CaptureReason reason, string? triggerId)
    {
        if (_windows.Count == 0)
        {
            _openedTimestamp = _time.GetTimestamp();
        }

        var bytes = MemoryMarshal.AsBytes(slot.Samples.AsSpan(0, slot.Length));
        if (_payloadLength + bytes.Length > _payload.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_payload.Length * 2, _payloadLength + bytes.Length));
            _payload.AsSpan(0, _payloadLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_payload);
            _payload = bigger;
        }

        bytes.CopyTo(_payload.AsSpan(_payloadLength));
        if (!BitConverter.IsLittleEndian)
        {
            var floats = MemoryMarshal.Cast<byte, int>(_payload.AsSpan(_payloadLength, bytes.Length));
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(floats, floats);
        }

        _payloadLength += bytes.Length;
        if (!_batchChannelIndex.TryGetValue(state.Index, out var channelIndex))
        {
            channelIndex = _batchChannels.Count;
            _batchChannelIndex[state.Index] = channelIndex;
            _batchChannels.Add(DescribeChannel(state, slot.Result));
        }

        var r = slot.Result;
        _windows.Add(new BatchWindow
        {
            Channel = channelIndex,
            Reason = reason,
            TriggerId = triggerId,
            WindowNumber = r.WindowNumber,
            FirstSampleIndex = r.FirstSampleIndex,
            SourceStartUtc = new DateTimeOffset(r.Timestamps.SourceStartTicks, TimeSpan.Zero),
            Clock = r.Clock.ToString().ToLowerInvariant(),
            Score = r.Score,
            Threshold = r.Threshold,
            Anomalous = r.Anomalous,
            WarmingUp = r.WarmingUp,
            Health = (int)r.Health,
            MachineState = (int)r.MachineState,
            Features = (float[])r.Features.Clone(),
            Samples = slot.Length,
        });
        _minStartTicks = Math.Min(_minStartTicks, slot.SourceTicks);
        var end = slot.SourceTicks + (long)(slot.Length / r.SampleRateHz * TimeSpan.TicksPerSecond);
        _maxEndTicks = Math.Max(_maxEndTicks, end);
    }

    private BatchChannel DescribeChannel(ChannelState state, WindowResult result)
    {
        var descriptor = _describe(state.Index);
        if (descriptor is not null && !descriptor.Id.Equals(state.Id))
        {
            descriptor = null;
        }

        return new BatchChannel
        {
            Id = state.Key,
            SampleRateHz = result.SampleRateHz,
            Unit = descriptor?.Unit.Symbol() ?? "",
            NominalShaftHz = descriptor?.NominalShaftHz ?? 0,
            FullScale = descriptor?.FullScale ?? 0,
            Bearing = descriptor?.Bearing is { } b
                ? new BatchBearing { Name = b.Name, BallCount = b.BallCount, BallDiameter = b.BallDiameter, PitchDiameter = b.PitchDiameter, ContactAngleDegrees = b.ContactAngleDegrees }
                : null,
        };
    }

    private void FlushIfDueLocked(bool force)
    {
        if (_windows.Count == 0)
        {
            return;
        }

        var full = _payloadLength >= _batch.MaxBytes;
        var old = _time.GetElapsedTime(_openedTimestamp) >= TimeSpan.FromSeconds(_batch.MaxAgeSeconds);
        if (!force && !full && !old)
        {
            return;
        }

        var manifest = new BatchManifest
        {
            GatewayId = _gatewayId,
            ModelId = _modelId(),
            CreatedUtc = _time.GetUtcNow(),
            StartUtc = new DateTimeOffset(_minStartTicks, TimeSpan.Zero),
            EndUtc = new DateTimeOffset(_maxEndTicks, TimeSpan.Zero),
            FeatureNames = [.. _featureNames()],
            Channels = [.. _batchChannels],
            Windows = [.. _windows],
        };
        var sealedBatch = new SealedBatch(manifest, _payload, _payloadLength, _hasAlerts, _budget.Clone());
        _payload = ArrayPool<byte>.Shared.Rent(_batch.MaxBytes + (64 * 1024 * 4));
        _payloadLength = 0;
        _windows.Clear();
        _batchChannels.Clear();
        _batchChannelIndex.Clear();
        _hasAlerts = false;
        _minStartTicks = long.MaxValue;
        _maxEndTicks = long.MinValue;
        _seal(sealedBatch);
    }

    private long Today() => _time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay;

    private void RollDay()
    {
        var today = Today();
        if (_budget.Day != today)
        {
            _budget = new BudgetState { Day = today };
        }
    }

    internal sealed class Slot
    {
        public WindowResult Result = null!;
        public float[] Samples = [];
        public int Length;
        public long SourceTicks;
        public bool Captured;
    }

    private sealed class ChannelState(int index, ChannelId id, int capacity)
    {
        private readonly Slot[] _ring = new Slot[capacity];
        private int _head; // next write

        public int Index { get; } = index;

        public ChannelId Id { get; } = id;

        public string Key { get; } = id.ToString();

        public int Count { get; private set; }

        public long PendingTicks = long.MinValue;
        public string? PendingId;
        public string? ActiveId;
        public int PostRemaining;
        public long NextSampleTicks = long.MinValue;
        public int SampleRemaining;

        /// <summary>i = 0 is the oldest.</summary>
        public Slot At(int i) => _ring[(_head - Count + i + (2 * _ring.Length)) % _ring.Length];

        public Slot Oldest => At(0);

        public Slot Newest => At(Count - 1);

        public Slot Push(WindowResult result, ReadOnlySpan<float> samples)
        {
            var slot = _ring[_head] ??= new Slot();
            if (slot.Result is null || slot.Result.Features.Length != result.Features.Length)
            {
                slot.Result = new WindowResult(result.Features.Length);
            }

            if (slot.Samples.Length < samples.Length)
            {
                slot.Samples = new float[samples.Length];
            }

            result.CopyTo(slot.Result);
            samples.CopyTo(slot.Samples);
            slot.Length = samples.Length;
            slot.SourceTicks = result.Timestamps.SourceStartTicks;
            slot.Captured = false;
            _head = (_head + 1) % _ring.Length;
            Count = Math.Min(Count + 1, _ring.Length);
            return slot;
        }
    }
}
