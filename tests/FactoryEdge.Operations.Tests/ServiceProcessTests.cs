using System.Diagnostics;

namespace FactoryEdge.Operations.Tests;

/// <summary>
/// The published executable as systemd runs it: a fake NOTIFY_SOCKET (a Unix datagram socket this
/// test listens on), WATCHDOG_USEC, journald's console format; then SIGTERM.
/// </summary>
[Trait("Category", "Integration")]
[Collection(PublishedGatewayCollection.Name)]
public sealed class ServiceProcessTests(PublishedGateway published) : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fe-svc-");

    public void Dispose()
    {
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task PublishedBinary_FakeNotifySocket_SendsReadyThenWatchdogThenStoppingOnSigterm()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var socket = new FakeNotifySocket();
        var config = WriteConfig(GatewayUnderTest.Simulated("pump-1"));
        using var gateway = new GatewayProcess(published.Executable, config, Environment(socket, new()
        {
            ["FACTORYEDGE__Logging__Console__FormatterName"] = "systemd",
        }));

        await WaitAsync(() => socket.WatchdogTicks.Count >= 3, "READY=1 and three WATCHDOG=1", socket, gateway);
        var assignments = socket.Assignments.ToList();
        var ready = assignments.IndexOf("READY=1");
        Assert.True(ready >= 0, string.Join(" | ", assignments));
        Assert.True(assignments.IndexOf("WATCHDOG=1") > ready, "watchdog pings start after READY=1: " + string.Join(" | ", assignments));
        Assert.Contains(assignments, a => a.StartsWith("STATUS=", StringComparison.Ordinal));

        Assert.True(await gateway.TerminateAsync(TimeSpan.FromSeconds(30)), "exits on SIGTERM");
        Assert.Equal(0, gateway.ExitCode);
        Assert.Contains("STOPPING=1", socket.Assignments);

        // journald format: every log line starts with a syslog severity prefix <0>..<7>.
        var lines = gateway.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches("^<[0-7]>", l));
        Assert.Contains(lines, l => l.StartsWith("<6>", StringComparison.Ordinal) && l.Contains("Pipeline started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PublishedBinary_PipelineStalledOnPurpose_WatchdogPingsStopAndHealthSaysStalled()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var socket = new FakeNotifySocket();
        var config = WriteConfig(GatewayUnderTest.Simulated("pump-1"), operations: ", \"StallAfterSeconds\": 1.5");
        using var gateway = new GatewayProcess(published.Executable, config, Environment(socket, new()
        {
            [PipelineStallSwitch.DelayVariable] = "4",
            [PipelineStallSwitch.ConfirmVariable] = PipelineStallSwitch.ConfirmPhrase,
        }));

        await WaitAsync(() => socket.WatchdogTicks.Count >= 2, "watchdog pings before the stall", socket, gateway);
        await WaitAsync(() => socket.Assignments.Any(a => a.StartsWith("STATUS=stalled", StringComparison.Ordinal)), "STATUS=stalled", socket, gateway);
        var stalledAt = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(3)); // six ping intervals (WATCHDOG_USEC = 1 s, pings every 0.5 s)
        var after = socket.WatchdogTicks.Count(t => t > stalledAt);
        Assert.True(after == 0, $"{after} WATCHDOG=1 after the stall; messages: {string.Join(" | ", socket.Assignments)}");
        Assert.Contains("TEST STALL SWITCH ARMED", gateway.Output, StringComparison.Ordinal);
        Assert.False(gateway.HasExited, "a stalled pipeline does not exit by itself: systemd kills it on the watchdog timeout");
        Assert.True(await gateway.TerminateAsync(TimeSpan.FromSeconds(30)), "the stall is released on SIGTERM:" + gateway.Output);
    }

    [Fact]
    public async Task PublishedBinary_StallSwitchWithoutConfirmPhrase_NeverStalls()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var socket = new FakeNotifySocket();
        var config = WriteConfig(GatewayUnderTest.Simulated("pump-1"), operations: ", \"StallAfterSeconds\": 1.5");
        using var gateway = new GatewayProcess(published.Executable, config, Environment(socket, new()
        {
            [PipelineStallSwitch.DelayVariable] = "0",
            [PipelineStallSwitch.ConfirmVariable] = "yes",
        }));

        await WaitAsync(() => socket.WatchdogTicks.Count >= 2, "watchdog pings", socket, gateway);
        var count = socket.WatchdogTicks.Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(socket.WatchdogTicks.Count >= count + 4, "pings go on: " + string.Join(" | ", socket.Assignments));
        Assert.DoesNotContain(socket.Assignments, a => a.StartsWith("STATUS=stalled", StringComparison.Ordinal));
        Assert.Contains("test stall switch stays off", gateway.Output, StringComparison.Ordinal);
        Assert.True(await gateway.TerminateAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task PublishedBinary_CommandsTheInstallersRun_ConfigCheckAndSpoolStatusSucceed()
    {
        // What install.sh and the .deb's postinst run: the configuration check with site file,
        // environment and credentials, and (on upgrade) opening the existing spool with the new version.
        var config = WriteConfig(GatewayUnderTest.Simulated("pump-1"));
        var site = Path.Combine(_dir.FullName, "site.json");
        await File.WriteAllTextAsync(site, """{ "FactoryEdge": { "Pipeline": { "WindowSize": 2048 } } }""");
        var credentials = Directory.CreateDirectory(Path.Combine(_dir.FullName, "credentials")).FullName;
        var (check, checkOutput) = await Repo.RunAsync(published.Executable, ["config", "check", config, "--site", site, "--env", "--credentials", credentials]);
        Assert.True(check == 0, checkOutput);
        Assert.StartsWith("OK", checkOutput, StringComparison.Ordinal);

        await File.WriteAllTextAsync(site, """{ "FactoryEdge": { "Pipeline": { "WindowSize": 2000 } } }""");
        var (bad, badOutput) = await Repo.RunAsync(published.Executable, ["config", "check", config, "--site", site]);
        Assert.Equal(4, bad);
        Assert.Contains("FactoryEdge:Pipeline:WindowSize = 2000", badOutput, StringComparison.Ordinal);

        // (site.json beside the configuration is the service's site override: this invalid one would stop it.)
        File.Delete(site);
        using (var socket = new FakeNotifySocket())
        using (var gateway = new GatewayProcess(published.Executable, config, Environment(socket, [])))
        {
            await WaitAsync(() => socket.Assignments.Contains("READY=1"), "READY=1", socket, gateway);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(await gateway.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.True(File.Exists(Path.Combine(_dir.FullName, "telemetry.db")));
        var (status, statusOutput) = await Repo.RunAsync(published.Executable, ["telemetry", "status", "--config", config]);
        Assert.True(status == 0, statusOutput);
    }

    internal string WriteConfig(string factoryEdge, string operations = "", string logging = "Information")
    {
        var text = GatewayUnderTest.Config(_dir.FullName, factoryEdge, ", \"Enabled\": false" + operations)
            .Replace("\"Default\": \"Information\"", $"\"Default\": \"{logging}\"", StringComparison.Ordinal);
        var path = Path.Combine(_dir.FullName, "appsettings.json");
        File.WriteAllText(path, text);
        return path;
    }

    internal static Dictionary<string, string> Environment(FakeNotifySocket socket, Dictionary<string, string> extra)
    {
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = socket.Path,
            ["WATCHDOG_USEC"] = "1000000",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return env;
    }

    internal static async Task WaitAsync(Func<bool> condition, string what, FakeNotifySocket socket, GatewayProcess gateway, double seconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds) || gateway.HasExited)
            {
                throw new TimeoutException($"{what}: not seen (exited: {gateway.HasExited}). Notifications: {string.Join(" | ", socket.Assignments)}{System.Environment.NewLine}Output:{System.Environment.NewLine}{gateway.Output}");
            }

            await Task.Delay(100);
        }
    }
}
