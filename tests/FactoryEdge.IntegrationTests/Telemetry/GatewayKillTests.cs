using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FactoryEdge.Telemetry.Spool;
using Xunit.Abstractions;

namespace FactoryEdge.IntegrationTests.Telemetry;

/// <summary>
/// The gateway (a child process: <c>dotnet factoryedge.dll run --config FILE</c>, three simulated
/// machines, two of them developing bearing faults) is killed with SIGKILL again and again while it
/// writes to InfluxDB 1.6.7, then restarted. Checked per run and channel: window numbers contiguous
/// from the first (nothing lost in the middle, nothing duplicated), the tail lost at the kill within
/// the mode's bound, and every alert the gateway logged as spooled present in InfluxDB. Replays of
/// batches sent but not yet deleted from the spool overwrite the same points (InfluxDB keys points
/// by series, field and timestamp), which the count check proves.
/// </summary>
[Trait("Category", "Integration")]
[Collection(TelemetrySerialCollection.Name)]
public sealed partial class GatewayKillTests(ITestOutputHelper output)
{
    private const int SampleRateHz = 25600;
    private const int WindowSize = 1024;
    private const double WindowsPerSecond = SampleRateHz / (WindowSize * 0.5);
    private const int FlushIntervalMs = 500;
    private const int MemoryBufferLines = 2000;

    private sealed record Run(DateTimeOffset Started, DateTimeOffset Killed, string Output);

    [TelemetryPeerFact(TelemetryPeers.InfluxDb, TelemetryPeers.Gateway)]
    public Task Kill_DurableMode_NoRecordOrAlertLost() => KillCycles("Durable", cycles: 3);

    [TelemetryPeerFact(TelemetryPeers.InfluxDb, TelemetryPeers.Gateway)]
    public Task Kill_WriteBehindMode_LossWithinMemoryWindowNoAlertLost() => KillCycles("WriteBehind", cycles: 3);

    [TelemetryPeerFact(TelemetryPeers.InfluxDb, TelemetryPeers.Gateway)]
    [Trait("Category", "Soak")]
    public Task Kill_DurableMode_HundredCycles() => KillCycles("Durable", cycles: 100);

    [TelemetryPeerFact(TelemetryPeers.InfluxDb, TelemetryPeers.Gateway)]
    [Trait("Category", "Soak")]
    public Task Kill_WriteBehindMode_HundredCycles() => KillCycles("WriteBehind", cycles: 100);

    private async Task KillCycles(string mode, int cycles)
    {
        TelemetryPeers.Require(TelemetryPeers.Gateway);
        var database = "kill_" + mode.ToLowerInvariant();
        await using var influx = await InfluxDbServer.LaunchAsync(database);
        var dir = Path.Combine(Path.GetTempPath(), "fe-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var spool = Path.Combine(dir, "spool.db");
            var config = Path.Combine(dir, "gateway.json");
            await File.WriteAllTextAsync(config, Config(mode, influx.Url, database, spool));
            var runs = new List<Run>();
            var random = new Random(42);
            for (var cycle = 0; cycle < cycles; cycle++)
            {
                using var child = StartGateway(config, out var log);
                var started = TimeProvider.System.GetUtcNow();
                await WaitForLog(child, log, "Pipeline started", TimeSpan.FromSeconds(30));
                // Long enough for the warm-up (20 windows) and the faults (from 1.5 s) to raise alerts.
                await Task.Delay(TimeSpan.FromMilliseconds(2500 + random.Next(2000)));
                var killed = TimeProvider.System.GetUtcNow();
                child.Kill(); // SIGKILL
                await child.WaitForExitAsync();
                runs.Add(new Run(started, killed, Text(log)));
            }

            // A last run drains what the killed ones left in the spool; then it stops cleanly.
            var replayed = runs.Sum(r => ReplayedOnStart(r.Output));
            using (var last = StartGateway(config, out var lastLog))
            {
                var lastStarted = TimeProvider.System.GetUtcNow();
                await WaitForLog(last, lastLog, "Pipeline started", TimeSpan.FromSeconds(30));
                replayed += ReplayedOnStart(Text(lastLog));
                await TelemetryPeers.WaitUntil(() => Task.FromResult(SpooledBefore(spool, lastStarted) == 0), TimeSpan.FromSeconds(60), "the spool of the killed runs drained");
                TelemetryPeers.Terminate(last);
                await last.WaitForExitAsync();
                runs.Add(new Run(lastStarted, TimeProvider.System.GetUtcNow(), Text(lastLog)));
            }

            await CheckRuns(influx, database, mode, runs, replayed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task CheckRuns(InfluxDbServer influx, string database, string mode, List<Run> runs, long replayed)
    {
        var series = await influx.SelectAsync("SELECT \"window\" FROM fe_window GROUP BY machine", database);
        var stored = await influx.SelectAsync("SELECT alert_id FROM fe_alert GROUP BY state", database);
        var storedAlerts = stored.SelectMany(s => s.Rows.Select(r => (Id: r["alert_id"].GetString()!, State: s.Tags["state"]))).ToHashSet();
        var hop = TimeSpan.FromSeconds(1 / WindowsPerSecond);
        long points = 0, lostAtKills = 0, spooledAlerts = 0;
        var alertIds = new HashSet<string>();
        double worstTailSeconds = 0;
        // Durable: only what was still inside the pipeline (normally ~0.1 s; 2 s allows a loaded machine).
        // Write-behind: plus the open batch (FlushIntervalMs) and the request in flight.
        var tailBound = mode == "Durable"
            ? TimeSpan.FromSeconds(2.0)
            : TimeSpan.FromMilliseconds(FlushIntervalMs) + TimeSpan.FromSeconds(3.0);
        for (var r = 0; r < runs.Count; r++)
        {
            var run = runs[r];
            var from = (run.Started.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
            var to = r + 1 < runs.Count ? (runs[r + 1].Started.UtcTicks - DateTime.UnixEpoch.Ticks) * 100 : long.MaxValue;
            foreach (var s in series)
            {
                var inRun = s.Rows.Select(row => (Time: row["time"].GetInt64(), Window: row["window"].GetInt64()))
                    .Where(p => p.Time >= from && p.Time < to).OrderBy(p => p.Time).ToList();
                if (r == runs.Count - 1 && inRun.Count == 0)
                {
                    continue; // the clean last run was stopped as soon as the backlog had drained
                }

                Assert.True(inRun.Count > 0, $"run {r}: no windows of {s.Tags["machine"]} at all");
                // Contiguous from window 0: nothing lost in the middle, nothing stored twice.
                Assert.Equal(Enumerable.Range(0, inRun.Count).Select(i => (long)i), inRun.Select(p => p.Window));
                points += inRun.Count;
                if (r < runs.Count - 1)
                {
                    var last = new DateTimeOffset(DateTime.UnixEpoch.Ticks + (inRun[^1].Time / 100), TimeSpan.Zero);
                    var tail = run.Killed - last - hop;
                    worstTailSeconds = Math.Max(worstTailSeconds, tail.TotalSeconds);
                    lostAtKills += Math.Max(0, (long)(tail / hop));
                    Assert.True(tail <= tailBound, string.Create(CultureInfo.InvariantCulture, $"run {r} ({mode}) {s.Tags["machine"]}: the last stored window is {tail.TotalSeconds:0.00} s before the kill (bound {tailBound.TotalSeconds:0.0} s)"));
                }
            }

            foreach (Match m in SpooledAlert().Matches(run.Output))
            {
                spooledAlerts++;
                alertIds.Add(m.Groups[1].Value);
                var key = (m.Groups[1].Value, m.Groups[2].Value.ToLowerInvariant());
                Assert.True(storedAlerts.Contains(key), $"run {r}: alert event {key} was spooled but is not in InfluxDB");
            }
        }

        Assert.True(spooledAlerts > 0, "the faulty machines must have raised alerts");
        var channels = series.Count;
        Assert.True(lostAtKills <= (long)MemoryBufferLines * (runs.Count - 1), "write-behind loss beyond the memory window");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mode}: {runs.Count - 1} SIGKILLs + 1 clean run, {channels} channels: {points} windows read back, contiguous per run; {spooledAlerts} alert events ({alertIds.Count} alerts) logged as spooled, all found in InfluxDB ({storedAlerts.Count} stored); points replayed from the spool at restarts {replayed}; estimated windows lost at kills {lostAtKills} (worst tail {worstTailSeconds:0.00} s, bound {tailBound.TotalSeconds:0.0} s)"));
    }

    private static string Config(string mode, string url, string database, string spool) => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "Logging": {
            "LogLevel": {
              "Default": "Warning",
              "FactoryEdge.Telemetry": "Information",
              "FactoryEdge.Pipeline": "Information",
              "FactoryEdge.Gateway.Hosting.LogAlertNotifier": "None"
            }
          },
          "FactoryEdge": {
            "Gateway": { "Id": "kill-test", "Site": "plant", "Line": "line-1" },
            "Pipeline": {
              "WindowSize": {{WindowSize}},
              "Overlap": 0.5,
              "Workers": 2,
              "Alerts": { "RaiseAfter": 2, "ClearAfter": 5 },
              "Baseline": { "WarmupWindows": 20, "Threshold": 6 }
            },
            "Sources": {
              "Simulated": [
                { "Machine": "pump-1", "SampleRateHz": {{SampleRateHz}}, "ShaftRpm": 1480, "Seed": 1 },
                { "Machine": "motor-2", "SampleRateHz": {{SampleRateHz}}, "ShaftRpm": 1780, "Fault": "OuterRace", "FaultOnsetSeconds": 1.5, "FaultRampSeconds": 0.5, "FaultSeverity": 2, "Seed": 2 },
                { "Machine": "motor-3", "SampleRateHz": {{SampleRateHz}}, "ShaftRpm": 1780, "Fault": "InnerRace", "FaultOnsetSeconds": 1.5, "FaultRampSeconds": 0.5, "FaultSeverity": 2, "Seed": 3 }
              ]
            },
            "Telemetry": {
              "Mode": "{{mode}}",
              "FlushIntervalMs": {{FlushIntervalMs}},
              "MemoryBufferLines": {{MemoryBufferLines}},
              "HealthIntervalSeconds": 1,
              "Influx": { "Url": "{{url}}", "Api": "v1", "Database": "{{database}}", "MaxRetryDelayMs": 1000 },
              "Spool": { "Path": "{{spool}}" }
            }
          }
        }
        """);

    private static Process StartGateway(string config, out StringBuilder log)
    {
        var info = new ProcessStartInfo("dotnet", [TelemetryPeers.GatewayDll, "run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = info };
        var buffer = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(buffer, e.Data);
        process.ErrorDataReceived += (_, e) => Append(buffer, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log = buffer;
        return process;
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    private static string Text(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }

    private static async Task WaitForLog(Process process, StringBuilder log, string what, TimeSpan guard)
    {
        var watch = Stopwatch.StartNew();
        while (!Text(log).Contains(what, StringComparison.Ordinal))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited (code {process.ExitCode}) before '{what}': {Text(log)}");
            }

            if (watch.Elapsed > guard)
            {
                process.Kill();
                throw new TimeoutException($"The gateway did not log '{what}' within {guard.TotalSeconds} s: {Text(log)}");
            }

            await Task.Delay(20);
        }
    }

    private static long ReplayedOnStart(string log)
    {
        var m = HoldsFromBefore().Match(log);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Rows the killed runs left (spooled before <paramref name="since"/>), read from the spool file while the gateway runs.</summary>
    private static long SpooledBefore(string spool, DateTimeOffset since)
    {
        using var connection = SqliteSpool.OpenReadOnly(spool);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM records WHERE created < $t";
        cmd.Parameters.AddWithValue("$t", since.UtcTicks);
        return (long)cmd.ExecuteScalar()!;
    }

    [GeneratedRegex(@"Alert ([0-9a-f]{32}) (\w+) on \S+ spooled")]
    private static partial Regex SpooledAlert();

    [GeneratedRegex(@"holds (\d+) points \(\d+ alerts\) from before")]
    private static partial Regex HoldsFromBefore();
}
