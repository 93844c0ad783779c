using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Alerts.Tests;

/// <summary>Records what the board releases later (unshelve, end of suppression) and flood summaries.</summary>
internal sealed class CapturingAnnunciator : IAlarmAnnunciator
{
    public ConcurrentQueue<Alert> Alerts { get; } = new();

    public ConcurrentQueue<FloodSummary> Floods { get; } = new();

    public ValueTask AnnounceAsync(Alert alert, CancellationToken cancellationToken)
    {
        Alerts.Enqueue(alert);
        return ValueTask.CompletedTask;
    }

    public ValueTask AnnounceFloodAsync(FloodSummary summary, CancellationToken cancellationToken)
    {
        Floods.Enqueue(summary);
        return ValueTask.CompletedTask;
    }
}

internal sealed class BoardFixture : IDisposable
{
    public BoardFixture(AlarmLifecycleOptions? options = null, string? auditPath = null)
    {
        Options = options ?? new AlarmLifecycleOptions();
        Audit = new AlarmAuditLog(auditPath);
        Board = new AlarmBoard(Options, Audit, Time, NullLogger.Instance);
        Board.Attach(Released);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public AlarmLifecycleOptions Options { get; }

    public AlarmAuditLog Audit { get; }

    public AlarmBoard Board { get; }

    public CapturingAnnunciator Released { get; } = new();

    public static Alert Alert(string id, AlertState state = AlertState.Raised, AlertSeverity severity = AlertSeverity.Alarm, string machine = "pump-1", string sensor = "de-bearing") =>
        Tests.Alerts.Make(id, state, severity, machine) with { Channel = new ChannelId("plant1", "line2", machine, sensor, "x") };

    public AlarmView View(string id) => Board.Snapshot().Single(v => v.AlertId == id);

    public void Dispose() => Audit.Dispose();
}

public sealed class AlarmLifecycleTests
{
    [Fact]
    public void Admit_RaiseEscalateClear_SentAndTrackedOnBoard()
    {
        using var f = new BoardFixture();
        var changes = new List<AlarmView>();
        f.Board.Changed += (_, v) => changes.Add(v);

        Assert.True(f.Board.Admit(BoardFixture.Alert("a1")));
        Assert.Equal(AlertState.Raised, f.View("a1").State);
        Assert.True(f.Board.Admit(BoardFixture.Alert("a1", AlertState.Escalated, AlertSeverity.Critical)));
        Assert.Equal(AlertSeverity.Critical, f.View("a1").Severity);
        Assert.True(f.Board.Admit(BoardFixture.Alert("a1", AlertState.Cleared, AlertSeverity.Critical)));
        var view = f.View("a1");
        Assert.Equal(AlertState.Cleared, view.State);
        Assert.NotNull(view.ClearedAt);
        Assert.True(view.Annunciated);
        Assert.Equal(3, changes.Count);
    }

    [Fact]
    public void Acknowledge_KnownAlarm_AcknowledgedAndAudited_SecondAndUnknownRefusedAndAudited()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));

        var ok = f.Board.Acknowledge("a1", "jane", AlarmActionSource.Dashboard, "bearing checked");
        var again = f.Board.Acknowledge("a1", "joe", AlarmActionSource.Mqtt);
        var unknown = f.Board.Acknowledge("nope", "joe", AlarmActionSource.Http);

        Assert.True(ok.Succeeded);
        Assert.False(again.Succeeded);
        Assert.Contains("jane", again.Message, StringComparison.Ordinal);
        Assert.False(unknown.Succeeded);
        var view = f.View("a1");
        Assert.True(view.Acknowledged);
        Assert.Equal("jane", view.AcknowledgedBy);
        var audit = f.Board.Audit(10);
        Assert.Equal(3, audit.Count);
        Assert.Equal(("joe", AlarmActionSource.Http, "nope", false), (audit[0].User, audit[0].Source, audit[0].Target, audit[0].Succeeded));
        Assert.Equal(("joe", false), (audit[1].User, audit[1].Succeeded));
        Assert.Equal(("jane", AlarmActionSource.Dashboard, true), (audit[2].User, audit[2].Source, audit[2].Succeeded));
        Assert.Contains("bearing checked", audit[2].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Escalated_AfterAcknowledge_NeedsNewAcknowledgement()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1", severity: AlertSeverity.Warning));
        f.Board.Acknowledge("a1", "jane", AlarmActionSource.Dashboard);
        f.Board.Admit(BoardFixture.Alert("a1", AlertState.Escalated, AlertSeverity.Critical));
        Assert.False(f.View("a1").Acknowledged);
        Assert.True(f.Board.Acknowledge("a1", "jane", AlarmActionSource.Dashboard).Succeeded);
    }

    [Fact]
    public async Task Shelve_HoldsNewAlarmsOfTheChannel_ReleasesActiveOneOnExpiry()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));
        Assert.True(f.Board.Shelve("a1", TimeSpan.FromMinutes(30), "jane", AlarmActionSource.Mqtt, "known, part ordered").Succeeded);
        Assert.True(f.Board.Admit(BoardFixture.Alert("a1", AlertState.Cleared)));     // annunciated → its clear goes out

        Assert.False(f.Board.Admit(BoardFixture.Alert("a2")));                        // same channel, shelved
        Assert.False(f.Board.Admit(BoardFixture.Alert("a2", AlertState.Escalated, AlertSeverity.Critical)));
        Assert.True(f.Board.Admit(BoardFixture.Alert("b1", machine: "fan-2")));       // another channel is not shelved
        Assert.NotNull(f.View("a2").ShelvedUntil);

        f.Time.Advance(TimeSpan.FromMinutes(29));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.Empty(f.Released.Alerts);

        f.Time.Advance(TimeSpan.FromMinutes(2));
        await f.Board.TickAsync(CancellationToken.None);
        var released = Assert.Single(f.Released.Alerts);
        Assert.Equal(("a2", AlertState.Raised, AlertSeverity.Critical), (released.AlertId, released.State, released.Severity));
        Assert.Null(f.View("a2").ShelvedUntil);
        var expiry = f.Board.Audit(1)[0];
        Assert.Equal(("system", AlarmActionSource.System, "unshelve", true), (expiry.User, expiry.Source, expiry.Action, expiry.Succeeded));
    }

    [Fact]
    public void Shelve_BadDurationOrUnknownAlarm_RefusedAndAudited()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { MaxShelveDuration = TimeSpan.FromHours(1) });
        f.Board.Admit(BoardFixture.Alert("a1"));
        Assert.False(f.Board.Shelve("a1", TimeSpan.FromHours(2), "jane", AlarmActionSource.Http).Succeeded);
        Assert.False(f.Board.Shelve("a1", TimeSpan.Zero, "jane", AlarmActionSource.Http).Succeeded);
        Assert.False(f.Board.Shelve("zz", TimeSpan.FromMinutes(5), "jane", AlarmActionSource.Http).Succeeded);
        Assert.False(f.Board.Unshelve("a1", "jane", AlarmActionSource.Http).Succeeded);
        Assert.False(f.Board.Acknowledge("a1", " ", AlarmActionSource.Http).Succeeded);
        Assert.Null(f.View("a1").ShelvedUntil);
        Assert.Equal(5, f.Board.Audit(100).Count(a => !a.Succeeded));
    }

    [Fact]
    public async Task Unshelve_ByOperator_ReleasesHeldActiveAlarm()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1", AlertState.Cleared));
        f.Board.Admit(BoardFixture.Alert("a0"));
        f.Board.Shelve("a0", TimeSpan.FromHours(1), "jane", AlarmActionSource.Dashboard);
        f.Board.Admit(BoardFixture.Alert("a0", AlertState.Cleared));
        Assert.False(f.Board.Admit(BoardFixture.Alert("a2")));

        Assert.True(f.Board.Unshelve("a2", "joe", AlarmActionSource.Dashboard).Succeeded);
        await Task.Yield();
        Assert.Equal("a2", Assert.Single(f.Released.Alerts).AlertId);
        Assert.True(f.View("a2").Annunciated);
    }

    [Fact]
    public void Cleared_OfAlarmNeverSent_IsNotSent()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a0"));
        f.Board.Shelve("a0", TimeSpan.FromHours(1), "jane", AlarmActionSource.Dashboard);
        Assert.False(f.Board.Admit(BoardFixture.Alert("a2")));
        Assert.False(f.Board.Admit(BoardFixture.Alert("a2", AlertState.Cleared)));
        Assert.False(f.View("a2").Annunciated);
    }

    [Fact]
    public async Task ObserveWindow_UnhealthyChannel_SuppressesItsAlarms_ReleasedAfterHoldOff()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { SuppressionHoldOff = TimeSpan.FromSeconds(10) });
        var channel = BoardFixture.Alert("x").Channel;
        f.Board.ObserveWindow(channel, ChannelHealthFlags.Clipping, MachineState.Running);

        Assert.False(f.Board.Admit(BoardFixture.Alert("a1")));
        Assert.Equal(AlarmBoard.ReasonUnhealthy, f.View("a1").SuppressedBecause);
        Assert.True(f.Board.Admit(BoardFixture.Alert("b1", sensor: "nde-bearing")));   // the other sensor is healthy
        f.Board.ObserveWindow(channel, ChannelHealthFlags.GapBefore, MachineState.Running); // a gap alone is not a fault

        f.Time.Advance(TimeSpan.FromSeconds(5));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.Empty(f.Released.Alerts);
        f.Time.Advance(TimeSpan.FromSeconds(6));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.Equal("a1", Assert.Single(f.Released.Alerts).AlertId);
        Assert.Null(f.View("a1").SuppressedBecause);
    }

    [Fact]
    public void ObserveWindow_MachineStopped_SuppressesEveryChannelOfThatMachineOnly()
    {
        using var f = new BoardFixture();
        f.Board.ObserveWindow(new ChannelId("plant1", "line2", "pump-1", "motor", "z"), ChannelHealthFlags.None, MachineState.Stopped);
        Assert.False(f.Board.Admit(BoardFixture.Alert("a1")));
        Assert.Equal(AlarmBoard.ReasonStopped, f.View("a1").SuppressedBecause);
        Assert.True(f.Board.Admit(BoardFixture.Alert("b1", machine: "fan-2")));
    }

    [Fact]
    public void Admit_ChatteringChannel_HoldsRaisesFromTheLimit()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { ChatterRaises = 3, ChatterWindow = TimeSpan.FromMinutes(10) });
        var sent = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            var id = "c" + i.ToString(CultureInfo.InvariantCulture);
            sent.Add(f.Board.Admit(BoardFixture.Alert(id)));
            f.Board.Admit(BoardFixture.Alert(id, AlertState.Cleared));
            f.Time.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.Equal([true, true, false, false, false], sent);
        Assert.Null(f.View("c4").SuppressedBecause);     // cleared: nothing held any more
        Assert.False(f.View("c4").Annunciated);
        f.Time.Advance(TimeSpan.FromMinutes(11));
        Assert.True(f.Board.Admit(BoardFixture.Alert("c5")));
    }

    [Fact]
    public async Task Admit_Flood_HoldsBeyondThreshold_SendsOneSummary_CriticalStillSent()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions
        {
            FloodThreshold = 5,
            FloodWindow = TimeSpan.FromSeconds(10),
            FloodSummaryInterval = TimeSpan.FromSeconds(3),
            ChatterRaises = 0,
        });
        var sent = 0;
        for (var i = 0; i < 200; i++)
        {
            sent += f.Board.Admit(BoardFixture.Alert("f" + i.ToString(CultureInfo.InvariantCulture), machine: "m" + (i % 20).ToString(CultureInfo.InvariantCulture), sensor: "s" + i.ToString(CultureInfo.InvariantCulture))) ? 1 : 0;
        }

        Assert.Equal(5, sent);
        Assert.True(f.Board.Flooding);
        Assert.True(f.Board.Admit(BoardFixture.Alert("crit", severity: AlertSeverity.Critical, sensor: "other")));

        f.Time.Advance(TimeSpan.FromSeconds(1));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.Empty(f.Released.Floods);

        f.Time.Advance(TimeSpan.FromSeconds(2.5));
        await f.Board.TickAsync(CancellationToken.None);
        var summary = Assert.Single(f.Released.Floods);
        Assert.Equal(195, summary.HeldAlerts);
        Assert.Equal(20, summary.Machines.Count);
        Assert.Equal(100, summary.AlertIds.Count);
        Assert.True(summary.Ongoing);
        Assert.Empty(f.Released.Alerts);                 // held alerts are summarised, not sent one by one
        Assert.Equal(AlarmBoard.ReasonSummarised, f.View("f100").SuppressedBecause);
        using (var doc = JsonDocument.Parse(summary.ToJson()))
        {
            Assert.Equal("flood-summary", doc.RootElement.GetProperty("type").GetString());
            Assert.Equal(195, doc.RootElement.GetProperty("heldAlerts").GetInt32());
        }

        f.Time.Advance(TimeSpan.FromSeconds(11));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.False(f.Board.Flooding);
        Assert.False(Assert.Single(f.Released.Floods.Skip(1)).Ongoing);
        Assert.True(f.Board.Admit(BoardFixture.Alert("after", sensor: "after")));
    }

    [Fact]
    public void Snapshot_OldClearedAlarms_Removed()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { KeepCleared = TimeSpan.FromMinutes(5) });
        f.Board.Admit(BoardFixture.Alert("a1"));
        f.Board.Admit(BoardFixture.Alert("a1", AlertState.Cleared));
        f.Board.Admit(BoardFixture.Alert("b1", machine: "fan-2"));
        f.Time.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(["b1"], f.Board.Snapshot().Select(v => v.AlertId));
    }
}

public sealed class AuditLogTests
{
    [Fact]
    public void Append_WritesJsonLines_ReopenReadsBackNewestFirst()
    {
        var path = Path.Combine(Path.GetTempPath(), "fe-audit-" + Guid.NewGuid().ToString("N"), "audit.jsonl");
        try
        {
            using (var f = new BoardFixture(auditPath: path))
            {
                f.Board.Admit(BoardFixture.Alert("a1"));
                f.Board.Acknowledge("a1", "jane", AlarmActionSource.Mqtt, "ok \"quoted\"\nnew line");
                f.Board.Acknowledge("a1", "joe", AlarmActionSource.Http);
                f.Board.RecordRefusal("", AlarmActionSource.Mqtt, "command", "", "not valid JSON");
            }

            var lines = File.ReadAllLines(path);
            Assert.Equal(3, lines.Length);
            foreach (var line in lines)
            {
                using var doc = JsonDocument.Parse(line);
                Assert.Equal(["time", "user", "source", "action", "target", "succeeded", "detail"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            }

            using var reopened = new AlarmAuditLog(path);
            reopened.Append(new AuditEntry(DateTimeOffset.UnixEpoch, "amy", AlarmActionSource.Cli, "unshelve", "a1", false, "x"));
            var recent = reopened.Recent(10);
            Assert.Equal(["amy", "?", "joe", "jane"], recent.Select(r => r.User));
            Assert.Equal([false, false, false, true], recent.Select(r => r.Succeeded));
            Assert.Contains("\"quoted\"", recent[3].Detail, StringComparison.Ordinal);
            Assert.Equal(4, File.ReadAllLines(path).Length);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void TryParse_TornLine_Skipped()
    {
        Assert.False(AlarmAuditLog.TryParse("{\"time\":\"2026-", out _));
        Assert.True(AlarmAuditLog.TryParse(Encoding.UTF8.GetString(AlarmAuditLog.Serialize(new AuditEntry(DateTimeOffset.UnixEpoch, "u", AlarmActionSource.Mqtt, "acknowledge", "t", true, "d"))), out var e));
        Assert.Equal(AlarmActionSource.Mqtt, e.Source);
    }
}

public sealed class AlarmCommandTests
{
    private const string Topic = "factoryedge/alerts/commands";

    [Theory]
    [InlineData("""{"action":"ack","alertId":"a1","user":"jane","comment":"c","requestId":"7"}""", "acknowledge", null)]
    [InlineData("""{"action":"Acknowledge","alertId":"a1","user":"jane"}""", "acknowledge", null)]
    [InlineData("""{"action":"shelve","alertId":"a1","user":"jane","durationSeconds":1800}""", "shelve", 1800.0)]
    [InlineData("""{"action":"unshelve","alertId":"a1","user":"jane"}""", "unshelve", null)]
    public void TryParse_ValidCommands_Parsed(string json, string action, double? seconds)
    {
        Assert.True(AlarmCommandHandler.TryParse(Encoding.UTF8.GetBytes(json), out var command, out var error), error);
        Assert.Equal(action, command!.Action);
        Assert.Equal(("a1", "jane"), (command.AlertId, command.User));
        Assert.Equal(seconds, command.Duration?.TotalSeconds);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("""{"action":"delete","alertId":"a1","user":"jane"}""", "unknown")]
    [InlineData("""{"action":"ack","user":"jane"}""", "alertId")]
    [InlineData("""{"action":"ack","alertId":"a1"}""", "user")]
    [InlineData("""{"action":"ack","alertId":"a1","user":"  "}""", "user")]
    [InlineData("""{"action":"shelve","alertId":"a1","user":"jane"}""", "durationSeconds")]
    [InlineData("""{"action":"shelve","alertId":"a1","user":"jane","durationSeconds":-5}""", "durationSeconds")]
    [InlineData("""{"action":"shelve","alertId":"a1","user":"jane","durationSeconds":"10"}""", "durationSeconds")]
    public void TryParse_BadCommands_RefusedWithReason(string json, string reason)
    {
        Assert.False(AlarmCommandHandler.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Handle_AckOnCommandTopic_AcknowledgedAuditedAndReplied()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));
        var handler = new AlarmCommandHandler(f.Board, Topic, f.Time);

        var reply = handler.Handle(Topic, false, Encoding.UTF8.GetBytes("""{"action":"ack","alertId":"a1","user":"jane","comment":"seen","requestId":"r-1"}"""));

        using var doc = JsonDocument.Parse(reply!);
        Assert.True(doc.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.Equal("r-1", doc.RootElement.GetProperty("requestId").GetString());
        Assert.True(f.View("a1").Acknowledged);
        var entry = Assert.Single(f.Board.Audit(10));
        Assert.Equal(("jane", AlarmActionSource.Mqtt, "acknowledge", "a1", true), (entry.User, entry.Source, entry.Action, entry.Target, entry.Succeeded));
    }

    [Fact]
    public void Handle_OtherTopic_IgnoredNothingChanged()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));
        var handler = new AlarmCommandHandler(f.Board, Topic, f.Time);
        var ack = Encoding.UTF8.GetBytes("""{"action":"ack","alertId":"a1","user":"mallory"}""");

        Assert.Null(handler.Handle(Topic + "/x", false, ack));
        Assert.Null(handler.Handle("factoryedge/alerts/Commands", false, ack));
        Assert.False(f.View("a1").Acknowledged);
        Assert.Empty(f.Board.Audit(10));
    }

    [Fact]
    public void Handle_RetainedOrUnreadable_RefusedAuditedAndReplied()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));
        var handler = new AlarmCommandHandler(f.Board, Topic, f.Time);

        var retained = handler.Handle(Topic, true, Encoding.UTF8.GetBytes("""{"action":"ack","alertId":"a1","user":"jane"}"""));
        var garbage = handler.Handle(Topic, false, "{oops"u8);

        Assert.False(f.View("a1").Acknowledged);
        using var r1 = JsonDocument.Parse(retained!);
        using var r2 = JsonDocument.Parse(garbage!);
        Assert.False(r1.RootElement.GetProperty("succeeded").GetBoolean());
        Assert.Contains("retained", r1.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(r2.RootElement.GetProperty("succeeded").GetBoolean());
        var audit = f.Board.Audit(10);
        Assert.Equal(2, audit.Count);
        Assert.All(audit, a => Assert.False(a.Succeeded));
        Assert.Equal(("jane", "acknowledge"), (audit[1].User, audit[1].Action));
    }

    [Fact]
    public void MachineAlarms_CarriesAckAndShelveState()
    {
        using var f = new BoardFixture();
        f.Board.Admit(BoardFixture.Alert("a1"));
        f.Board.Acknowledge("a1", "jane", AlarmActionSource.Mqtt);
        f.Board.Shelve("a1", TimeSpan.FromMinutes(10), "jane", AlarmActionSource.Mqtt);
        using var doc = JsonDocument.Parse(AlarmCommandHandler.MachineAlarms("plant1", "line2", "pump-1", f.Board.Snapshot(), f.Time.GetUtcNow()));
        var alarm = Assert.Single(doc.RootElement.GetProperty("alarms").EnumerateArray());
        Assert.True(alarm.GetProperty("acknowledged").GetBoolean());
        Assert.Equal("jane", alarm.GetProperty("acknowledgedBy").GetString());
        Assert.Equal(JsonValueKind.String, alarm.GetProperty("shelvedUntil").ValueKind);
    }
}

public sealed class PayloadSchemaTests
{
    private static JsonDocument Schema() => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "alert-event.schema.json")));

    public static TheoryData<string> Payloads() => ["plain", "explained", "nan", "cleared", "iso"];

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Serialize_RealPayloads_ValidAgainstDocumentedSchema(string kind)
    {
        var complete = new DateTimeOffset(2026, 11, 26, 12, 0, 0, 160, TimeSpan.Zero);
        var alert = kind switch
        {
            "explained" => Alerts.Make() with { Explanation = new AlertExplanation("outer race (BPFO line at 106.4 Hz)", [new("env_bpfo", 18.0), new("kurtosis", double.NaN)], "outer race", 106.4) },
            "nan" => Alerts.Make() with { Score = float.NaN, Threshold = float.PositiveInfinity, TopFeatures = [new("rms", float.NaN)] },
            "cleared" => Alerts.Make(state: AlertState.Cleared) with { Explanation = new AlertExplanation("x", [], null, null) },
            "iso" => Alerts.Make() with { IsoZone = IsoZone.C, WindowCompleteTime = complete, ScoredTime = complete.AddTicks(4000) },
            _ => Alerts.Make(),
        };
        var json = AlertJson.Serialize(alert, complete.AddMilliseconds(1));
        using var schema = Schema();
        using var doc = JsonDocument.Parse(json);

        var errors = SchemaValidator.Validate(schema.RootElement, doc.RootElement);

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors) + Environment.NewLine + Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void Serialize_StageTimestampsAndIsoZone_RoundTrip()
    {
        var complete = new DateTimeOffset(2026, 11, 26, 12, 0, 0, 160, TimeSpan.Zero);
        var alert = Alerts.Make() with { IsoZone = IsoZone.D, WindowCompleteTime = complete, ScoredTime = complete.AddTicks(4000) };
        var json = AlertJson.Serialize(alert, complete.AddMilliseconds(1));
        var back = AlertJson.Deserialize(json);
        Assert.Equal((IsoZone.D, complete, complete.AddTicks(4000)), (back.IsoZone, back.WindowCompleteTime, back.ScoredTime));
        using var doc = JsonDocument.Parse(json);
        var t = doc.RootElement.GetProperty("timestamps");
        Assert.Equal(["source", "windowComplete", "scored", "dispatched", "processingLatencyMicroseconds"], t.EnumerateObject().Select(p => p.Name));
        Assert.Equal("D", doc.RootElement.GetProperty("isoZone").GetString());
    }

    [Fact]
    public void Validator_UndocumentedOrMissingField_Reported()
    {
        using var schema = Schema();
        using var extra = JsonDocument.Parse(AlertJson.Serialize(Alerts.Make(), DateTimeOffset.UnixEpoch).AsSpan()[..^1].ToArray().Concat(",\"extra\":1}"u8.ToArray()).ToArray());
        Assert.Contains(SchemaValidator.Validate(schema.RootElement, extra.RootElement), e => e.Contains("'extra'", StringComparison.Ordinal));
        using var missing = JsonDocument.Parse("""{"schema":1}""");
        Assert.Contains(SchemaValidator.Validate(schema.RootElement, missing.RootElement), e => e.Contains("'alertId'", StringComparison.Ordinal));
    }

    [Fact]
    public void DocsAlertsMd_EmbedsTheSchemaFile()
    {
        var markdown = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "alerts.md"));
        const string marker = "<!-- schema: alert-event.schema.json -->";
        var start = markdown.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/alerts.md must embed docs/alert-event.schema.json after " + marker);
        var open = markdown.IndexOf("```json", start, StringComparison.Ordinal) + "```json".Length;
        var close = markdown.IndexOf("```", open, StringComparison.Ordinal);
        using var embedded = JsonDocument.Parse(markdown[open..close]);
        using var file = Schema();
        Assert.True(JsonElement.DeepEquals(embedded.RootElement, file.RootElement), "the schema in docs/alerts.md differs from docs/alert-event.schema.json");
    }
}

public sealed class LifecycleCompositionTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(AlertsOptions.SectionName + ":" + p.Key, p.Value))).Build();

    [Fact]
    public async Task AddFactoryEdgeAlerts_RegistersBoardGateAndHealthSink()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(Config());
        await using var provider = services.BuildServiceProvider();
        var board = provider.GetRequiredService<IAlarmBoard>();
        Assert.Same(provider.GetRequiredService<AlarmBoard>(), board);
        var gate = Assert.Single(provider.GetServices<IAlertNotifier>());
        var sink = Assert.Single(provider.GetServices<ITelemetrySink>());

        await gate.NotifyAsync(BoardFixture.Alert("a1"), CancellationToken.None);
        Assert.Equal("a1", Assert.Single(board.Snapshot()).AlertId);

        var window = new WindowResult(4) { Channel = BoardFixture.Alert("x", machine: "fan-2").Channel, Health = ChannelHealthFlags.FlatLine };
        await sink.WriteAsync(window, CancellationToken.None);
        await gate.NotifyAsync(BoardFixture.Alert("b1", machine: "fan-2"), CancellationToken.None);
        Assert.Equal(AlarmBoard.ReasonUnhealthy, board.Snapshot().Single(v => v.AlertId == "b1").SuppressedBecause);
    }

    [Theory]
    [InlineData("Lifecycle:ChatterRaises", "1")]
    [InlineData("Lifecycle:FloodThreshold", "-1")]
    [InlineData("Lifecycle:CommandTopic", "factoryedge/#")]
    [InlineData("Lifecycle:TickInterval", "00:00:00")]
    public void Validator_BadLifecycleKey_NamesKey(string key, string value)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(Config(("Mqtt:Enabled", "true"), (key, value)));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AlertsOptions>>().Value);
        Assert.Contains("FactoryEdge:Alerts:" + key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_CommandTopicWithoutMqtt_Refused()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(Config(("Lifecycle:CommandTopic", "fe/commands")));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AlertsOptions>>().Value);
        Assert.Contains("Mqtt:Enabled", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class CommandLineTests
{
    [Theory]
    [InlineData("mqtt://127.0.0.1:1884", "127.0.0.1", "1884", "false", null)]
    [InlineData("mqtt://broker.plant.local", "broker.plant.local", "1883", "false", null)]
    [InlineData("mqtts://edge:s3cret@broker:8884/plant1/alerts", "broker", "8884", "true", "plant1/alerts")]
    [InlineData("mqtts://broker", "broker", "8883", "true", null)]
    public void MqttOverrides_Urls_MapToConfigurationKeys(string url, string host, string port, string tls, string? topicPrefix)
    {
        var keys = AlertsCommandLine.MqttOverrides(url).ToDictionary(k => k.Key, k => k.Value);
        Assert.Equal("true", keys["FactoryEdge:Alerts:Mqtt:Enabled"]);
        Assert.Equal(host, keys["FactoryEdge:Alerts:Mqtt:Host"]);
        Assert.Equal(port, keys["FactoryEdge:Alerts:Mqtt:Port"]);
        Assert.Equal(tls, keys["FactoryEdge:Alerts:Mqtt:UseTls"]);
        Assert.Equal(topicPrefix, keys.GetValueOrDefault("FactoryEdge:Alerts:Mqtt:TopicPrefix"));
        if (url.Contains('@', StringComparison.Ordinal))
        {
            Assert.Equal(("edge", "s3cret"), (keys["FactoryEdge:Alerts:Mqtt:Username"], keys["FactoryEdge:Alerts:Mqtt:Password"]));
        }

        // The same keys bind and validate as for 'run'.
        var services = new ServiceCollection().AddLogging();
        services.AddFactoryEdgeAlerts(new ConfigurationBuilder().AddInMemoryCollection(keys).Build());
        using var provider = services.BuildServiceProvider();
        Assert.Equal(int.Parse(port, CultureInfo.InvariantCulture), provider.GetRequiredService<IOptions<AlertsOptions>>().Value.Mqtt.Port);
    }

    [Theory]
    [InlineData("http://broker:1883")]
    [InlineData("broker:1883")]
    [InlineData("mqtt://")]
    public void MqttOverrides_BadUrl_FormatExceptionNamesOption(string url)
    {
        var ex = Assert.Throws<FormatException>(() => AlertsCommandLine.MqttOverrides(url));
        Assert.Contains("--mqtt", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class GatePipeliningTests
{
    /// <summary>A broker that acknowledges only when told to.</summary>
    private sealed class HeldAckTransport : IMqttAlertTransport
    {
        private readonly ConcurrentQueue<TaskCompletionSource<bool>> _pending = new();

        public ConcurrentQueue<string> Topics { get; } = new();

        public bool IsConnected => true;

        public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken)
        {
            Topics.Enqueue(topic);
            var ack = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending.Enqueue(ack);
            return ack.Task;
        }

        public void AcknowledgeAll()
        {
            while (_pending.TryDequeue(out var ack))
            {
                ack.TrySetResult(true);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task NotifyAsync_BurstWhileAcksOutstanding_AllPublishedBeforeTheFirstAck()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { ChatterRaises = 0, FloodThreshold = 0 });
        var transport = new HeldAckTransport();
        var options = new AlertsOptions { Mqtt = new MqttAlertOptions { Enabled = true, MaxAlertsPerMachinePerMinute = 0 } };
        await using var mqtt = new MqttAlertNotifier(options, transport, new InMemoryAlertOutbox(), f.Time, NullLogger.Instance);
        var gate = new AlarmGateNotifier(f.Board, [mqtt], NullLogger.Instance);
        var acked = new ConcurrentQueue<string>();
        mqtt.FirstAttemptCompleted += (_, e) => acked.Enqueue(e.Alert.AlertId);

        for (var i = 0; i < 20; i++)
        {
            var pending = gate.NotifyAsync(BoardFixture.Alert("burst-" + i.ToString(CultureInfo.InvariantCulture), machine: "m" + i.ToString(CultureInfo.InvariantCulture)), CancellationToken.None);
            Assert.True(pending.IsCompleted, "the gate must not wait for the broker's acknowledgement");
        }

        Assert.Equal(40, transport.Topics.Count);        // event + retained state of all 20, none acknowledged yet
        Assert.Equal(20, gate.InFlight);
        Assert.Empty(acked);

        transport.AcknowledgeAll();
        await gate.WhenIdleAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, gate.InFlight);
        Assert.Equal(20, acked.Count);
        for (var i = 0; i < 500 && (mqtt.Delivered < 20 || mqtt.Pending > 0); i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal((20, 0), (mqtt.Delivered, mqtt.Pending));     // acknowledged, and gone from the outbox
    }
}

public sealed class ChannelHealthEventTests
{
    [Fact]
    public async Task ObserveWindow_SensorFault_OneUnhealthyEvent_HealthyAfterHoldOff_NeverAnAlarm()
    {
        using var f = new BoardFixture(new AlarmLifecycleOptions { SuppressionHoldOff = TimeSpan.FromSeconds(10) });
        var events = new List<ChannelHealthEvent>();
        f.Board.ChannelHealthChanged += (_, e) => events.Add(e);
        var channel = BoardFixture.Alert("x").Channel;

        f.Board.ObserveWindow(channel, ChannelHealthFlags.FlatLine | ChannelHealthFlags.GapBefore, MachineState.Running);
        f.Board.ObserveWindow(channel, ChannelHealthFlags.FlatLine, MachineState.Running);       // same fault: no new event
        f.Board.ObserveWindow(channel, ChannelHealthFlags.Clipping, MachineState.Running);       // another flag: reported
        f.Board.ObserveWindow(channel, ChannelHealthFlags.None, MachineState.Running);
        f.Time.Advance(TimeSpan.FromSeconds(5));
        await f.Board.TickAsync(CancellationToken.None);
        Assert.Equal(2, events.Count);
        f.Time.Advance(TimeSpan.FromSeconds(6));
        await f.Board.TickAsync(CancellationToken.None);

        Assert.Equal([false, false, true], events.Select(e => e.Healthy));
        Assert.Equal(ChannelHealthFlags.FlatLine, events[0].Flags);
        Assert.Equal(ChannelHealthFlags.FlatLine | ChannelHealthFlags.Clipping, events[1].Flags);
        Assert.Empty(f.Board.Snapshot());                                                      // no alarm on the board
        using var doc = JsonDocument.Parse(events[1].ToJson());
        Assert.Equal("channel-health", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(["flatLine", "clipping"], doc.RootElement.GetProperty("flags").EnumerateArray().Select(e => e.GetString()));
        Assert.False(doc.RootElement.GetProperty("healthy").GetBoolean());
    }

    [Fact]
    public async Task Gate_ChannelHealthEvent_PublishedRetainedOnHealthTopic()
    {
        using var f = new BoardFixture();
        var transport = new FakeMqttTransport();
        var options = new AlertsOptions { Mqtt = new MqttAlertOptions { Enabled = true, TopicPrefix = "fe" } };
        await using var mqtt = new MqttAlertNotifier(options, transport, new InMemoryAlertOutbox(), f.Time, NullLogger.Instance);
        await mqtt.TryConnectAsync(CancellationToken.None);
        _ = new AlarmGateNotifier(f.Board, [mqtt], NullLogger.Instance);

        f.Board.ObserveWindow(new ChannelId("plant1", "line2", "pump-1", "de", "x"), ChannelHealthFlags.SkiSlope, MachineState.Running);

        for (var i = 0; i < 200 && transport.Published.IsEmpty; i++)
        {
            await Task.Delay(5);
        }

        var (topic, payload, retain) = Assert.Single(transport.Published);
        Assert.Equal("fe/plant1/line2/pump-1/health/de/x", topic);
        Assert.True(retain);
        using var doc = JsonDocument.Parse(payload);
        Assert.Equal("skiSlope", doc.RootElement.GetProperty("flags")[0].GetString());
    }
}
