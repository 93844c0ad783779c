using FactoryEdge.Core;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>Test double of the alerts adapter's alarm board: records every action, raises Changed.</summary>
internal sealed class FakeAlarmBoard : IAlarmBoard
{
    private readonly Lock _gate = new();
    private readonly List<AlarmView> _alarms = [];
    private readonly List<AuditEntry> _audit = [];

    public event EventHandler<AlarmView>? Changed;

    public void Add(AlarmView alarm)
    {
        lock (_gate)
        {
            _alarms.RemoveAll(a => a.AlertId == alarm.AlertId);
            _alarms.Insert(0, alarm);
        }

        Changed?.Invoke(this, alarm);
    }

    public static AlarmView Alarm(string id, string machine = "motor-3") => new()
    {
        AlertId = id,
        Channel = new ChannelId("plant", "line-1", machine, "de", "x"),
        State = AlertState.Raised,
        Severity = AlertSeverity.Alarm,
        RaisedAt = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
        LastChangeAt = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
        Score = 14,
        Threshold = 6,
        Message = "vibration anomaly",
        Explanation = new AlertExplanation("outer race (BPFO line at 106.4 Hz)", [], "outer race", 106.4),
    };

    public IReadOnlyList<AlarmView> Snapshot()
    {
        lock (_gate)
        {
            return [.. _alarms];
        }
    }

    public AlarmActionResult Acknowledge(string alertId, string user, AlarmActionSource source, string? comment = null) =>
        Do(alertId, user, source, "acknowledge", comment, a => a with { Acknowledged = true, AcknowledgedBy = user });

    public AlarmActionResult Shelve(string alertId, TimeSpan duration, string user, AlarmActionSource source, string? comment = null) =>
        Do(alertId, user, source, "shelve " + duration.TotalMinutes, comment, a => a with { ShelvedUntil = a.RaisedAt + duration });

    public AlarmActionResult Unshelve(string alertId, string user, AlarmActionSource source) =>
        Do(alertId, user, source, "unshelve", null, a => a with { ShelvedUntil = null });

    public IReadOnlyList<AuditEntry> Audit(int max)
    {
        lock (_gate)
        {
            return [.. _audit.AsEnumerable().Reverse().Take(max)];
        }
    }

    private AlarmActionResult Do(string alertId, string user, AlarmActionSource source, string action, string? comment, Func<AlarmView, AlarmView> change)
    {
        AlarmView? changed = null;
        lock (_gate)
        {
            var index = _alarms.FindIndex(a => a.AlertId == alertId);
            _audit.Add(new AuditEntry(DateTimeOffset.UnixEpoch, user, source, action, alertId, index >= 0, comment ?? ""));
            if (index >= 0)
            {
                changed = _alarms[index] = change(_alarms[index]);
            }
        }

        if (changed is null)
        {
            return AlarmActionResult.Refused("unknown alarm " + alertId);
        }

        Changed?.Invoke(this, changed);
        return AlarmActionResult.Ok(action + " done");
    }
}
