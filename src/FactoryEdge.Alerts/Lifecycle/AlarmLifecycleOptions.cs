namespace FactoryEdge.Alerts;

/// <summary>
/// Alarm management in the spirit of ISA-18.2 (section <c>FactoryEdge:Alerts:Lifecycle</c>): what the
/// alarm board holds back and for how long, the flood rule, the MQTT command topic and the audit log.
/// </summary>
public sealed class AlarmLifecycleOptions
{
    /// <summary>
    /// Append-only JSON-lines file of every operator action (accepted and refused). Empty keeps the audit
    /// in memory only (tests, demos); set it in production.
    /// </summary>
    public string AuditLogPath { get; set; } = "";

    /// <summary>Longest shelving an operator may ask for.</summary>
    public TimeSpan MaxShelveDuration { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long cleared alarms stay on the board (acknowledged or not).</summary>
    public TimeSpan KeepCleared { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Hold back alarms of a channel whose windows are unhealthy (sensor or cable fault).</summary>
    public bool SuppressWhenUnhealthy { get; set; } = true;

    /// <summary>Hold back alarms of a machine that is stopped.</summary>
    public bool SuppressWhenStopped { get; set; } = true;

    /// <summary>Suppression lasts this long after the last unhealthy (or stopped) window.</summary>
    public TimeSpan SuppressionHoldOff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Raises of one channel within <see cref="ChatterWindow"/> from which it is chattering (0 = off).</summary>
    public int ChatterRaises { get; set; } = 4;

    public TimeSpan ChatterWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>More raised alerts than this within <see cref="FloodWindow"/> is a flood (0 = off).</summary>
    public int FloodThreshold { get; set; } = 50;

    public TimeSpan FloodWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>During a flood, one summary is sent this long after the previous one (or the flood's start).</summary>
    public TimeSpan FloodSummaryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Critical alerts are sent one by one even during a flood.</summary>
    public bool CriticalBypassesFlood { get; set; } = true;

    /// <summary>
    /// MQTT topic operators (HMIs, SCADA) publish commands to (ack, shelve, unshelve). Empty = no MQTT
    /// commands. Protect it with the broker's ACL: every message on it is taken as an operator action.
    /// Needs <c>Mqtt:Enabled</c>.
    /// </summary>
    public string CommandTopic { get; set; } = "";

    /// <summary>Where replies to commands go; empty = <c>{CommandTopic}/replies</c>.</summary>
    public string ReplyTopic { get; set; } = "";

    /// <summary>How often shelving expiry, the end of suppressions and flood summaries are checked.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The reply topic in effect.</summary>
    public string EffectiveReplyTopic => string.IsNullOrEmpty(ReplyTopic) ? CommandTopic + "/replies" : ReplyTopic;
}
