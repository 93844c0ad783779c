using Microsoft.Extensions.Configuration;

namespace FactoryEdge.Operations.Tests;

public sealed class SdNotifierTests
{
    [Fact]
    public async Task Notify_NotifySocketPath_DeliversDatagramToSocket()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var socket = new FakeNotifySocket();
        using var notifier = new SdNotifier(socket.Path, "2000000", null, Environment.ProcessId);
        notifier.Notify("READY=1\nSTATUS=hello");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (socket.Messages.IsEmpty && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }

        Assert.True(socket.Messages.TryPeek(out var message));
        Assert.Equal("READY=1\nSTATUS=hello", message.Text);
        Assert.Equal(TimeSpan.FromSeconds(2), notifier.WatchdogInterval);
    }

    [Fact]
    public void Constructor_WatchdogPidOfAnotherProcess_NoWatchdog()
    {
        using var notifier = new SdNotifier("/run/systemd/notify", "30000000", "1", Environment.ProcessId + 1);
        Assert.Null(notifier.WatchdogInterval);
    }

    [Fact]
    public void Constructor_NoNotifySocket_DisabledAndNotifyIsHarmless()
    {
        using var notifier = new SdNotifier(null, "30000000", null, Environment.ProcessId);
        Assert.False(notifier.IsEnabled);
        Assert.Null(notifier.WatchdogInterval);
        notifier.Notify("WATCHDOG=1");
    }

    [Fact]
    public void Notify_SocketGone_DoesNotThrow()
    {
        using var notifier = new SdNotifier(Path.Combine(Path.GetTempPath(), $"fe-gone-{Guid.NewGuid():N}.sock"), null, null, Environment.ProcessId);
        notifier.Notify("WATCHDOG=1");
        Assert.True(notifier.IsEnabled);
    }
}

public sealed class PipelineStallSwitchTests
{
    [Theory]
    [InlineData("1", null)]
    [InlineData("1", "yes")]
    [InlineData("1", "STALL-THE-PIPELINE-AND-STOP-THE-WATCHDOG")]
    [InlineData("soon", PipelineStallSwitch.ConfirmPhrase)]
    [InlineData(null, PipelineStallSwitch.ConfirmPhrase)]
    public void Constructor_AnythingButDelayAndExactPhrase_NeverArmed(string? delay, string? confirm)
    {
        var stall = new PipelineStallSwitch(delay, confirm);
        Assert.False(stall.IsArmed);
        Assert.True(stall.IsRequestedButRefused);
    }

    [Fact]
    public void Constructor_NothingSet_NotArmedNotReported()
    {
        var stall = new PipelineStallSwitch(null, null);
        Assert.False(stall.IsArmed);
        Assert.False(stall.IsRequestedButRefused);
    }

    [Fact]
    public async Task BlockIfDue_ArmedAndDue_BlocksUntilReleased()
    {
        var stall = new PipelineStallSwitch("0", PipelineStallSwitch.ConfirmPhrase);
        Assert.True(stall.IsArmed);
        var blocked = Task.Run(stall.BlockIfDue);
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted);
        Assert.True(stall.IsStalled);
        stall.Release();
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
    }
}

public sealed class CredentialsConfigurationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fe-cred-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Load_FileNamedLikeKey_SetsConfigurationKeyWithoutTrailingNewline()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "FactoryEdge__Alerts__Mqtt__Password"), "p@ss\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "factoryedge_FactoryEdge__Alerts__Webhooks__0__Secret"), "0123456789abcdef");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("FactoryEdge:Alerts:Mqtt:Password", "from-file")])
            .Add(new CredentialsConfigurationSource(_dir.FullName))
            .Build();
        Assert.Equal("p@ss", configuration["FactoryEdge:Alerts:Mqtt:Password"]);
        Assert.Equal("0123456789abcdef", configuration["FactoryEdge:Alerts:Webhooks:0:Secret"]);
    }

    [Fact]
    public void Load_FileNamedLikeEnvironmentVariable_SetsItForTheProcess()
    {
        var name = "FACTORYEDGE_TEST_CRED_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        File.WriteAllText(Path.Combine(_dir.FullName, name), "t0ken\n");
        try
        {
            _ = new ConfigurationBuilder().Add(new CredentialsConfigurationSource(_dir.FullName)).Build();
            Assert.Equal("t0ken", Environment.GetEnvironmentVariable(name));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Load_MissingDirectory_NoKeys()
    {
        var configuration = new ConfigurationBuilder().Add(new CredentialsConfigurationSource(Path.Combine(_dir.FullName, "absent"))).Build();
        Assert.Empty(configuration.AsEnumerable());
    }
}
