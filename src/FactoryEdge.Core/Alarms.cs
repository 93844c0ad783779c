namespace FactoryEdge.Core;

/// <summary>Where an operator action came from (recorded in the audit log).</summary>
public enum AlarmActionSource
{
    Mqtt = 1,
    Http = 2,
    Dashboard = 3,
    Cli = 4,

    /// <summary>The gateway itself (shelving expired).</summary>
    System = 5,
}

/// <summary>The operator-facing state of one alarm (ISA-18.2 style: active/cleared × acknowledged, shelved).</summary>
public sealed record AlarmView
{
    public required string AlertId { get; init; }

    public required ChannelId Channel { get; init; }

    /// <summary>Latest lifecycle state reported by the pipeline (raised, escalated, cleared).</summary>
    public required AlertState State { get; init; }

    public required AlertSeverity Severity { get; init; }

    public required DateTimeOffset RaisedAt { get; init; }

    public required DateTimeOffset LastChangeAt { get; init; }

    public required float Score { get; init; }

    public required float Threshold { get; init; }

    public string Message { get; init; } = "";

    public AlertExplanation? Explanation { get; init; }

    public bool Acknowledged { get; init; }

    public string? AcknowledgedBy { get; init; }

    public DateTimeOffset? AcknowledgedAt { get; init; }

    /// <summary>Shelved until this time (notifications held back); null when not shelved.</summary>
    public DateTimeOffset? ShelvedUntil { get; init; }

    /// <summary>
    /// Why notifications of this alarm are held back by design (channel unhealthy, machine stopped,
    /// chattering, flood); null when they are not.
    /// </summary>
    public string? SuppressedBecause { get; init; }

    /// <summary>True once the alarm's raise (or escalation) went out to the notifiers.</summary>
    public bool Annunciated { get; init; }

    /// <summary>Who shelved it, when shelved.</summary>
    public string? ShelvedBy { get; init; }

    /// <summary>When it cleared (null while active).</summary>
    public DateTimeOffset? ClearedAt { get; init; }
}

/// <summary>Result of an operator action: done, or why not (unknown alarm, not allowed, bad argument).</summary>
public sealed record AlarmActionResult(bool Succeeded, string Message)
{
    public static AlarmActionResult Ok(string message) => new(true, message);

    public static AlarmActionResult Refused(string message) => new(false, message);
}

/// <summary>One line of the audit log: who did what to which alarm, from where, when.</summary>
public sealed record AuditEntry(DateTimeOffset Time, string User, AlarmActionSource Source, string Action, string Target, bool Succeeded, string Detail);

/// <summary>
/// The alarm board: current alarms and the operator actions on them (acknowledge, shelve, unshelve).
/// Implemented by the alerts adapter; used by the MQTT command topic, HTTP and the dashboard. Every
/// action is written to the audit log, refused ones included.
/// </summary>
public interface IAlarmBoard
{
    /// <summary>Active and recently cleared alarms, newest first.</summary>
    IReadOnlyList<AlarmView> Snapshot();

    AlarmActionResult Acknowledge(string alertId, string user, AlarmActionSource source, string? comment = null);

    /// <summary>Holds back notifications for the alarm's channel for <paramref name="duration"/>.</summary>
    AlarmActionResult Shelve(string alertId, TimeSpan duration, string user, AlarmActionSource source, string? comment = null);

    AlarmActionResult Unshelve(string alertId, string user, AlarmActionSource source);

    /// <summary>The newest audit entries, newest first.</summary>
    IReadOnlyList<AuditEntry> Audit(int max);

    /// <summary>Raised after every change to an alarm (new alert, state change, ack, shelve).</summary>
    event EventHandler<AlarmView>? Changed;
}
