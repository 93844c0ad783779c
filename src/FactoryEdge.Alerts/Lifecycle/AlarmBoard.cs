using System.Globalization;
using FactoryEdge.Core;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Alerts;

/// <summary>Sends what the alarm board lets through (the notifiers) and flood summaries.</summary>
internal interface IAlarmAnnunciator
{
    ValueTask AnnounceAsync(Alert alert, CancellationToken cancellationToken);

    ValueTask AnnounceFloodAsync(FloodSummary summary, CancellationToken cancellationToken);
}

/// <summary>
/// The alarm board (ISA-18.2 in spirit): every alert of the pipeline passes it on its way to the
/// notifiers. It keeps the operator state of each alarm (raised → escalated → cleared, acknowledged,
/// shelved) and decides what is annunciated:
/// <list type="bullet">
/// <item>shelved channels: nothing is sent until the shelf is lifted or expires; then a still-active
/// alarm is sent;</item>
/// <item>suppression by design: alarms of a channel whose windows were unhealthy (sensor or cable fault —
/// a channel-health event, never a machine alarm), or of a machine that was stopped, within
/// <see cref="AlarmLifecycleOptions.SuppressionHoldOff"/>;</item>
/// <item>chattering: from the <see cref="AlarmLifecycleOptions.ChatterRaises"/>-th raise of a channel within
/// <see cref="AlarmLifecycleOptions.ChatterWindow"/> (the pipeline's raise/clear hysteresis is the first line);</item>
/// <item>floods: beyond <see cref="AlarmLifecycleOptions.FloodThreshold"/> raises within
/// <see cref="AlarmLifecycleOptions.FloodWindow"/>, alerts are held and one summary is sent per
/// <see cref="AlarmLifecycleOptions.FloodSummaryInterval"/>.</item>
/// </list>
/// A Cleared is sent only for an alarm whose raise was sent, and always then. Escalation makes an
/// acknowledged alarm unacknowledged again. Every operator action is written to the audit log first.
/// </summary>
public sealed partial class AlarmBoard : IAlarmBoard
{
    internal const string ReasonUnhealthy = "channel unhealthy";
    internal const string ReasonStopped = "machine stopped";
    internal const string ReasonChattering = "chattering";
    internal const string ReasonFlood = "flood";
    internal const string ReasonSummarised = "summarised in a flood";

    private readonly AlarmLifecycleOptions _options;
    private readonly AlarmAuditLog _audit;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _alarms = new(StringComparer.Ordinal);
    private readonly Dictionary<ChannelId, Entry> _activeByChannel = [];
    private readonly Dictionary<ChannelId, Shelf> _shelves = [];
    private readonly Dictionary<ChannelId, DateTimeOffset> _lastUnhealthy = [];
    private readonly Dictionary<ChannelId, ChannelHealthFlags> _unhealthyNow = [];
    private readonly Dictionary<(string, string, string), DateTimeOffset> _lastStopped = [];
    private readonly Dictionary<ChannelId, Queue<DateTimeOffset>> _raises = [];
    private readonly Queue<DateTimeOffset> _floodRaises = new();
    private readonly List<Entry> _floodHeld = [];
    private IAlarmAnnunciator? _annunciator;
    private DateTimeOffset? _floodStarted;
    private DateTimeOffset _floodPeriodStart;
    private DateTimeOffset _nextSummary;
    private long _held;
    private long _summaries;

    public AlarmBoard(AlarmLifecycleOptions options, AlarmAuditLog audit, TimeProvider time, ILogger<AlarmBoard> logger)
        : this(options, audit, time, (ILogger)logger)
    {
    }

    internal AlarmBoard(AlarmLifecycleOptions options, AlarmAuditLog audit, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _audit = audit;
        _time = time;
        _logger = logger;
    }

    public event EventHandler<AlarmView>? Changed;

    /// <summary>A channel's health changed: unhealthy at its first bad window, healthy again once <see cref="AlarmLifecycleOptions.SuppressionHoldOff"/> passed without one.</summary>
    public event EventHandler<ChannelHealthEvent>? ChannelHealthChanged;

    /// <summary>Alerts held back so far (shelved, suppressed, chattering, flood).</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Flood summaries sent so far.</summary>
    public long FloodSummaries => Interlocked.Read(ref _summaries);

    /// <summary>True while a flood is in progress.</summary>
    public bool Flooding
    {
        get
        {
            lock (_lock)
            {
                return _floodStarted is not null;
            }
        }
    }

    /// <summary>Where released alarms and flood summaries go (set once by the composition).</summary>
    internal void Attach(IAlarmAnnunciator annunciator) => _annunciator = annunciator;

    public IReadOnlyList<AlarmView> Snapshot()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            Prune(now);
            return [.. _alarms.Values.OrderByDescending(e => e.RaisedAt).ThenByDescending(e => e.LastChangeAt).Select(e => View(e, now))];
        }
    }

    public IReadOnlyList<AuditEntry> Audit(int max) => _audit.Recent(max);

    /// <summary>Notes a window's channel health and machine state (suppression by design).</summary>
    public void ObserveWindow(ChannelId channel, ChannelHealthFlags health, MachineState machineState)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var unhealthy = health.ExcludesWindow();
        var stopped = machineState == MachineState.Stopped;
        if (!unhealthy && !stopped)
        {
            return;
        }

        var now = _time.GetUtcNow();
        ChannelHealthEvent? changed = null;
        lock (_lock)
        {
            if (unhealthy)
            {
                _lastUnhealthy[channel] = now;
                var flags = health & ~ChannelHealthFlags.GapBefore;
                if (!_unhealthyNow.TryGetValue(channel, out var known) || (known | flags) != known)
                {
                    _unhealthyNow[channel] = known | flags;
                    changed = new ChannelHealthEvent(channel, false, known | flags, now);
                }
            }

            if (stopped)
            {
                _lastStopped[(channel.Site, channel.Line, channel.Machine)] = now;
            }
        }

        if (changed is not null)
        {
            LogChannelHealth(_logger, channel.ToString(), false, changed.Flags);
            RaiseHealthChanged(changed);
        }
    }

    /// <summary>
    /// Records an alert of the pipeline and decides whether it goes out now. True: send it; false: it is
    /// held back (the board keeps it and may release it later through the annunciator).
    /// </summary>
    public bool Admit(Alert alert) => Admit(alert, out _);

    internal bool Admit(Alert alert, out Alert toSend)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var now = _time.GetUtcNow();
        AlarmView view;
        bool send;
        toSend = alert;
        lock (_lock)
        {
            if (!_alarms.TryGetValue(alert.AlertId, out var entry))
            {
                if (alert.State == AlertState.Cleared)
                {
                    // Never seen raised (e.g. raised before a restart): pass it on so nobody is left in alarm.
                    return true;
                }

                entry = new Entry(alert, now);
                _alarms[alert.AlertId] = entry;
            }

            entry.Latest = alert;
            entry.LastChangeAt = now;
            entry.Severity = alert.State == AlertState.Cleared ? entry.Severity : alert.Severity;
            switch (alert.State)
            {
                case AlertState.Cleared:
                    entry.State = AlertState.Cleared;
                    entry.ClearedAt = now;
                    entry.SuppressedBecause = null;
                    _activeByChannel.Remove(alert.Channel);
                    _floodHeld.Remove(entry);
                    send = entry.Annunciated;
                    break;
                case AlertState.Escalated:
                    entry.State = AlertState.Escalated;
                    if (entry.Acknowledged)
                    {
                        // A higher severity needs a new acknowledgement.
                        entry.Acknowledged = false;
                        entry.AcknowledgedBy = null;
                        entry.AcknowledgedAt = null;
                    }

                    _activeByChannel[alert.Channel] = entry;
                    send = Decide(entry, now, countsAsRaise: false, out toSend);
                    break;
                default:
                    entry.State = AlertState.Raised;
                    _activeByChannel[alert.Channel] = entry;
                    send = Decide(entry, now, countsAsRaise: true, out toSend);
                    break;
            }

            if (!send && alert.State != AlertState.Cleared)
            {
                Interlocked.Increment(ref _held);
                LogHeld(_logger, alert.AlertId, alert.Channel.ToString(), entry.SuppressedBecause ?? "shelved");
            }

            view = View(entry, now);
        }

        RaiseChanged(view);
        return send;
    }

    public AlarmActionResult Acknowledge(string alertId, string user, AlarmActionSource source, string? comment = null)
    {
        var now = _time.GetUtcNow();
        AlarmActionResult result;
        AlarmView? view = null;
        lock (_lock)
        {
            if (Check(alertId, user, comment) is { } refused)
            {
                result = refused;
            }
            else if (!_alarms.TryGetValue(alertId, out var entry))
            {
                result = AlarmActionResult.Refused($"no alarm with id '{alertId}' on the board");
            }
            else if (entry.Acknowledged)
            {
                result = AlarmActionResult.Refused(string.Create(CultureInfo.InvariantCulture, $"already acknowledged by {entry.AcknowledgedBy} at {entry.AcknowledgedAt:O}"));
            }
            else
            {
                entry.Acknowledged = true;
                entry.AcknowledgedBy = user;
                entry.AcknowledgedAt = now;
                entry.LastChangeAt = now;
                result = AlarmActionResult.Ok(entry.State == AlertState.Cleared ? "acknowledged (alarm already cleared)" : "acknowledged");
                view = View(entry, now);
            }
        }

        Record(now, user, source, "acknowledge", alertId, result, comment);
        if (view is not null)
        {
            RaiseChanged(view);
        }

        return result;
    }

    public AlarmActionResult Shelve(string alertId, TimeSpan duration, string user, AlarmActionSource source, string? comment = null)
    {
        var now = _time.GetUtcNow();
        AlarmActionResult result;
        AlarmView? view = null;
        lock (_lock)
        {
            if (Check(alertId, user, comment) is { } refused)
            {
                result = refused;
            }
            else if (duration <= TimeSpan.Zero || duration > _options.MaxShelveDuration)
            {
                result = AlarmActionResult.Refused(string.Create(CultureInfo.InvariantCulture, $"shelving for {duration} is not allowed; allowed: more than 0 and at most {_options.MaxShelveDuration}"));
            }
            else if (!_alarms.TryGetValue(alertId, out var entry))
            {
                result = AlarmActionResult.Refused($"no alarm with id '{alertId}' on the board");
            }
            else
            {
                var until = now + duration;
                _shelves[entry.Channel] = new Shelf(until, user, alertId);
                entry.LastChangeAt = now;
                result = AlarmActionResult.Ok(string.Create(CultureInfo.InvariantCulture, $"channel {entry.Channel} shelved until {until:O}"));
                view = View(entry, now);
            }
        }

        Record(now, user, source, "shelve", alertId, result, comment is null ? $"for {duration}" : $"for {duration}: {comment}");
        if (view is not null)
        {
            RaiseChanged(view);
        }

        return result;
    }

    public AlarmActionResult Unshelve(string alertId, string user, AlarmActionSource source)
    {
        var now = _time.GetUtcNow();
        AlarmActionResult result;
        List<Alert> releases = [];
        List<AlarmView> views = [];
        lock (_lock)
        {
            if (Check(alertId, user, null) is { } refused)
            {
                result = refused;
            }
            else if (!_alarms.TryGetValue(alertId, out var entry))
            {
                result = AlarmActionResult.Refused($"no alarm with id '{alertId}' on the board");
            }
            else if (!_shelves.Remove(entry.Channel))
            {
                result = AlarmActionResult.Refused($"channel {entry.Channel} is not shelved");
            }
            else
            {
                entry.LastChangeAt = now;
                result = AlarmActionResult.Ok($"channel {entry.Channel} unshelved");
                ReleaseChannel(entry.Channel, now, releases, views);
                views.Add(View(entry, now));
            }
        }

        Record(now, user, source, "unshelve", alertId, result, null);
        foreach (var v in views)
        {
            RaiseChanged(v);
        }

        _ = SendReleasesAsync(releases, null);
        return result;
    }

    /// <summary>Records a command that was refused before it reached an alarm (unreadable, wrong topic, retained).</summary>
    public void RecordRefusal(string user, AlarmActionSource source, string action, string target, string reason)
    {
        Record(_time.GetUtcNow(), string.IsNullOrWhiteSpace(user) ? "?" : user, source, action, target ?? "", AlarmActionResult.Refused(reason), null);
    }

    /// <summary>
    /// Periodic work: expired shelves, ended suppressions and chattering (still-active alarms are sent),
    /// flood summaries, removal of old cleared alarms. Called by the lifecycle service every
    /// <see cref="AlarmLifecycleOptions.TickInterval"/>.
    /// </summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        List<Alert> releases = [];
        List<AlarmView> views = [];
        List<(string User, string Target, Shelf Shelf)> expired = [];
        FloodSummary? summary = null;
        List<ChannelHealthEvent>? recovered = null;
        lock (_lock)
        {
            foreach (var (channel, shelf) in _shelves.ToArray())
            {
                if (shelf.Until <= now)
                {
                    _shelves.Remove(channel);
                    expired.Add(("system", shelf.AlertId, shelf));
                    ReleaseChannel(channel, now, releases, views);
                }
            }

            foreach (var entry in _activeByChannel.Values.ToArray())
            {
                if (entry.SuppressedBecause is ReasonUnhealthy or ReasonStopped or ReasonChattering && !_shelves.ContainsKey(entry.Channel))
                {
                    var reason = HoldReason(entry, now, countsAsRaise: false);
                    if (reason is null)
                    {
                        Release(entry, now, releases);
                        views.Add(View(entry, now));
                    }
                    else if (reason != entry.SuppressedBecause && reason != ReasonFlood)
                    {
                        entry.SuppressedBecause = reason;
                        views.Add(View(entry, now));
                    }
                }
            }

            summary = FloodTick(now, views);
            Prune(now);
            foreach (var (channel, flags) in _unhealthyNow.ToArray())
            {
                if (!_lastUnhealthy.TryGetValue(channel, out var bad) || now - bad > _options.SuppressionHoldOff)
                {
                    _unhealthyNow.Remove(channel);
                    (recovered ??= []).Add(new ChannelHealthEvent(channel, true, ChannelHealthFlags.None, now));
                }
            }
        }

        foreach (var e in recovered ?? [])
        {
            LogChannelHealth(_logger, e.Channel.ToString(), true, e.Flags);
            RaiseHealthChanged(e);
        }

        foreach (var (user, target, shelf) in expired)
        {
            Record(now, user, AlarmActionSource.System, "unshelve", target, AlarmActionResult.Ok(string.Create(CultureInfo.InvariantCulture, $"shelving by {shelf.By} expired at {shelf.Until:O}")), null);
        }

        foreach (var v in views)
        {
            RaiseChanged(v);
        }

        await SendReleasesAsync(releases, summary, cancellationToken).ConfigureAwait(false);
    }

    private static AlarmActionResult? Check(string alertId, string user, string? comment)
    {
        if (string.IsNullOrWhiteSpace(alertId) || alertId.Length > 128)
        {
            return AlarmActionResult.Refused("alert id missing or longer than 128 characters");
        }

        if (string.IsNullOrWhiteSpace(user) || user.Length > 128)
        {
            return AlarmActionResult.Refused("user missing or longer than 128 characters");
        }

        if (comment is { Length: > 1000 })
        {
            return AlarmActionResult.Refused("comment longer than 1000 characters");
        }

        return null;
    }

    /// <summary>Decides for a raise or escalation; when it goes out, <paramref name="toSend"/> is what to send.</summary>
    private bool Decide(Entry entry, DateTimeOffset now, bool countsAsRaise, out Alert toSend)
    {
        toSend = entry.Latest;
        if (_shelves.TryGetValue(entry.Channel, out var shelf) && shelf.Until > now)
        {
            entry.SuppressedBecause = null;
            return false;
        }

        var reason = HoldReason(entry, now, countsAsRaise);
        entry.SuppressedBecause = reason;
        if (reason is not null)
        {
            if (reason == ReasonFlood && !_floodHeld.Contains(entry))
            {
                _floodHeld.Add(entry);
            }

            return false;
        }

        toSend = MarkAnnunciated(entry);
        return true;
    }

    /// <summary>Why a raise/escalation of <paramref name="entry"/> is held back now (null: send it).</summary>
    private string? HoldReason(Entry entry, DateTimeOffset now, bool countsAsRaise)
    {
        var channel = entry.Channel;
        if (_options.SuppressWhenUnhealthy && _lastUnhealthy.TryGetValue(channel, out var bad) && now - bad <= _options.SuppressionHoldOff)
        {
            return ReasonUnhealthy;
        }

        if (_options.SuppressWhenStopped && _lastStopped.TryGetValue((channel.Site, channel.Line, channel.Machine), out var stopped) && now - stopped <= _options.SuppressionHoldOff)
        {
            return ReasonStopped;
        }

        if (_options.ChatterRaises > 0)
        {
            if (!_raises.TryGetValue(channel, out var raises))
            {
                raises = new Queue<DateTimeOffset>();
                _raises[channel] = raises;
            }

            if (countsAsRaise)
            {
                raises.Enqueue(now);
            }

            while (raises.Count > 0 && now - raises.Peek() > _options.ChatterWindow)
            {
                raises.Dequeue();
            }

            if (raises.Count >= _options.ChatterRaises && !entry.Annunciated)
            {
                return ReasonChattering;
            }
        }

        if (_options.FloodThreshold > 0 && !entry.Annunciated)
        {
            if (countsAsRaise)
            {
                _floodRaises.Enqueue(now);
            }

            while (_floodRaises.Count > 0 && now - _floodRaises.Peek() > _options.FloodWindow)
            {
                _floodRaises.Dequeue();
            }

            if (_floodStarted is null && _floodRaises.Count > _options.FloodThreshold)
            {
                _floodStarted = now;
                _floodPeriodStart = now;
                _nextSummary = now + _options.FloodSummaryInterval;
                LogFloodStarted(_logger, _floodRaises.Count, _options.FloodWindow.TotalSeconds);
            }

            if (_floodStarted is not null && !(_options.CriticalBypassesFlood && entry.Severity == AlertSeverity.Critical))
            {
                return ReasonFlood;
            }
        }

        return null;
    }

    private FloodSummary? FloodTick(DateTimeOffset now, List<AlarmView> views)
    {
        if (_floodStarted is not { } started || now < _nextSummary)
        {
            return null;
        }

        while (_floodRaises.Count > 0 && now - _floodRaises.Peek() > _options.FloodWindow)
        {
            _floodRaises.Dequeue();
        }

        var ongoing = _floodRaises.Count > _options.FloodThreshold;
        FloodSummary? summary = null;
        if (_floodHeld.Count > 0 || !ongoing)
        {
            summary = new FloodSummary
            {
                FloodStarted = started,
                From = _floodPeriodStart,
                To = now,
                Ongoing = ongoing,
                HeldAlerts = _floodHeld.Count,
                RateInWindow = _floodRaises.Count,
                Machines = [.. _floodHeld.GroupBy(e => e.Channel.MachineKey, StringComparer.Ordinal)
                    .Select(g => new FloodMachineCount(g.Key, g.Count(), g.Max(e => e.Severity)))
                    .OrderByDescending(m => m.Alerts).ThenBy(m => m.Machine, StringComparer.Ordinal)],
                AlertIds = [.. _floodHeld.Take(100).Select(e => e.AlertId)],
            };
            foreach (var entry in _floodHeld)
            {
                entry.SuppressedBecause = ReasonSummarised;
                views.Add(View(entry, now));
            }

            _floodHeld.Clear();
            _floodPeriodStart = now;
        }

        _nextSummary = now + _options.FloodSummaryInterval;
        if (!ongoing)
        {
            _floodStarted = null;
            LogFloodEnded(_logger, (now - started).TotalSeconds);
        }

        return summary;
    }

    private void ReleaseChannel(ChannelId channel, DateTimeOffset now, List<Alert> releases, List<AlarmView> views)
    {
        if (_activeByChannel.TryGetValue(channel, out var entry) && entry.State != AlertState.Cleared)
        {
            var reason = HoldReason(entry, now, countsAsRaise: false);
            entry.SuppressedBecause = reason;
            if (reason is null)
            {
                Release(entry, now, releases);
            }
            else if (reason == ReasonFlood && !_floodHeld.Contains(entry))
            {
                _floodHeld.Add(entry);
            }

            views.Add(View(entry, now));
        }
    }

    /// <summary>Sends what the notifiers have not seen of an active alarm: its raise, or its escalation.</summary>
    private void Release(Entry entry, DateTimeOffset now, List<Alert> releases)
    {
        entry.SuppressedBecause = null;
        if (!entry.Annunciated || entry.Severity > entry.AnnunciatedSeverity)
        {
            releases.Add(MarkAnnunciated(entry));
            entry.LastChangeAt = now;
        }
    }

    private static Alert MarkAnnunciated(Entry entry)
    {
        var alert = entry.Latest;
        if (!entry.Annunciated && alert.State != AlertState.Raised)
        {
            // The notifiers never saw the raise: they get it now, at the current severity.
            alert = alert with { State = AlertState.Raised, Severity = entry.Severity };
        }

        entry.Annunciated = true;
        entry.AnnunciatedSeverity = entry.Severity;
        return alert;
    }

    private void Prune(DateTimeOffset now)
    {
        List<string>? old = null;
        foreach (var (id, entry) in _alarms)
        {
            if (entry.State == AlertState.Cleared && entry.ClearedAt is { } cleared && now - cleared > _options.KeepCleared)
            {
                (old ??= []).Add(id);
            }
        }

        foreach (var id in old ?? [])
        {
            _alarms.Remove(id);
        }
    }

    private AlarmView View(Entry e, DateTimeOffset now) => new()
    {
        AlertId = e.AlertId,
        Channel = e.Channel,
        State = e.State,
        Severity = e.Severity,
        RaisedAt = e.RaisedAt,
        LastChangeAt = e.LastChangeAt,
        Score = e.Latest.Score,
        Threshold = e.Latest.Threshold,
        Message = e.Latest.Message,
        Explanation = e.Latest.Explanation ?? e.Explanation,
        Acknowledged = e.Acknowledged,
        AcknowledgedBy = e.AcknowledgedBy,
        AcknowledgedAt = e.AcknowledgedAt,
        ShelvedUntil = _shelves.TryGetValue(e.Channel, out var s) && s.Until > now ? s.Until : null,
        ShelvedBy = _shelves.TryGetValue(e.Channel, out var s2) && s2.Until > now ? s2.By : null,
        SuppressedBecause = e.State == AlertState.Cleared ? null : e.SuppressedBecause,
        Annunciated = e.Annunciated,
        ClearedAt = e.ClearedAt,
    };

    private void Record(DateTimeOffset now, string user, AlarmActionSource source, string action, string target, AlarmActionResult result, string? detail)
    {
        var text = detail is null ? result.Message : result.Message + " — " + detail;
        try
        {
            _audit.Append(new AuditEntry(now, user ?? "?", source, action, target ?? "", result.Succeeded, text));
        }
        catch (IOException ex)
        {
            LogAuditFailed(_logger, action, target ?? "", ex);
        }

        LogAction(_logger, action, target ?? "", user ?? "?", AlarmAuditLog.SourceName(source), result.Succeeded, result.Message);
    }

    private void RaiseChanged(AlarmView view)
    {
        var handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<AlarmView>>())
        {
            try
            {
                handler(this, view);
            }
            catch (Exception ex)
            {
                LogHandlerFailed(_logger, ex);
            }
        }
    }

    private void RaiseHealthChanged(ChannelHealthEvent e)
    {
        try
        {
            ChannelHealthChanged?.Invoke(this, e);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex);
        }
    }

    private async Task SendReleasesAsync(List<Alert> releases, FloodSummary? summary, CancellationToken cancellationToken = default)
    {
        if (_annunciator is not { } annunciator)
        {
            return;
        }

        foreach (var alert in releases)
        {
            try
            {
                await annunciator.AnnounceAsync(alert, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogReleaseFailed(_logger, alert.AlertId, ex);
            }
        }

        if (summary is not null)
        {
            Interlocked.Increment(ref _summaries);
            try
            {
                await annunciator.AnnounceFloodAsync(summary, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogReleaseFailed(_logger, "flood-summary", ex);
            }
        }
    }

    [LoggerMessage(EventId = 9401, Level = LogLevel.Debug, Message = "Alarm {AlertId} on {Channel} held back: {Reason}")]
    private static partial void LogHeld(ILogger logger, string alertId, string channel, string reason);

    [LoggerMessage(EventId = 9402, Level = LogLevel.Warning, Message = "Alarm flood: {Count} alerts raised within {Seconds} s; further alerts are summarised")]
    private static partial void LogFloodStarted(ILogger logger, int count, double seconds);

    [LoggerMessage(EventId = 9403, Level = LogLevel.Information, Message = "Alarm flood over after {Seconds:0.0} s")]
    private static partial void LogFloodEnded(ILogger logger, double seconds);

    [LoggerMessage(EventId = 9404, Level = LogLevel.Information, Message = "Alarm action {Action} on {Target} by {User} via {Source}: {Succeeded} ({Message})")]
    private static partial void LogAction(ILogger logger, string action, string target, string user, string source, bool succeeded, string message);

    [LoggerMessage(EventId = 9405, Level = LogLevel.Error, Message = "Alarm {AlertId}: release to the notifiers failed")]
    private static partial void LogReleaseFailed(ILogger logger, string alertId, Exception exception);

    [LoggerMessage(EventId = 9406, Level = LogLevel.Error, Message = "An alarm board subscriber failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 9407, Level = LogLevel.Error, Message = "Audit log write failed for {Action} on {Target}")]
    private static partial void LogAuditFailed(ILogger logger, string action, string target, Exception exception);

    [LoggerMessage(EventId = 9410, Level = LogLevel.Warning, Message = "Channel {Channel} healthy: {Healthy} ({Flags}) — a channel-health event, not a machine alarm")]
    private static partial void LogChannelHealth(ILogger logger, string channel, bool healthy, ChannelHealthFlags flags);

    private sealed record Shelf(DateTimeOffset Until, string By, string AlertId);

    private sealed class Entry(Alert first, DateTimeOffset now)
    {
        public string AlertId { get; } = first.AlertId;

        public ChannelId Channel { get; } = first.Channel;

        public DateTimeOffset RaisedAt { get; } = now;

        public AlertExplanation? Explanation { get; } = first.Explanation;

        public Alert Latest { get; set; } = first;

        public AlertState State { get; set; } = first.State;

        public AlertSeverity Severity { get; set; } = first.Severity;

        public DateTimeOffset LastChangeAt { get; set; } = now;

        public DateTimeOffset? ClearedAt { get; set; }

        public bool Acknowledged { get; set; }

        public string? AcknowledgedBy { get; set; }

        public DateTimeOffset? AcknowledgedAt { get; set; }

        public bool Annunciated { get; set; }

        public AlertSeverity AnnunciatedSeverity { get; set; }

        public string? SuppressedBecause { get; set; }
    }
}
