using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Dashboard.Tests;

public sealed class LiveHubTests
{
    private static readonly DashboardPrincipal Viewer = new("v", DashboardRole.Viewer, "token");

    [Fact]
    public void Publish_StalledClient_IsDecimatedThenDisconnected_WhileOthersGetEverything()
    {
        var time = new FakeTimeProvider();
        var hub = new LiveHub(new DashboardOptions { ClientQueueCapacity = 4, StalledClientSeconds = 5 }, time);
        var stalled = hub.Connect(Viewer, null)!;
        var reader = hub.Connect(Viewer, null)!;
        var received = 0;

        for (var i = 0; i < 100; i++)
        {
            hub.Publish(LiveHub.Format("overview", "{\"i\":" + i + "}"));
            while (reader.Reader.TryRead(out _))
            {
                received++;
            }

            time.Advance(TimeSpan.FromMilliseconds(100)); // 10 s in all
        }

        Assert.Equal(100, received);
        Assert.True(stalled.Aborted.IsCancellationRequested);
        Assert.Equal(1, hub.DisconnectedClients);
        Assert.Equal(1, hub.ClientCount);
        // It got its queue's worth, then drops until the stall limit (5 s = 50 messages) disconnected it.
        Assert.InRange(stalled.Dropped, 45, 52);
    }

    [Fact]
    public void Publish_ClientThatCatchesUp_IsNotDisconnected()
    {
        var time = new FakeTimeProvider();
        var hub = new LiveHub(new DashboardOptions { ClientQueueCapacity = 2, StalledClientSeconds = 1 }, time);
        var slow = hub.Connect(Viewer, null)!;

        for (var i = 0; i < 50; i++)
        {
            hub.Publish(LiveHub.Format("overview", "{}"));
            time.Advance(TimeSpan.FromMilliseconds(300));
            if (i % 3 == 0)
            {
                while (slow.Reader.TryRead(out _))
                {
                }
            }
        }

        Assert.False(slow.Aborted.IsCancellationRequested);
        Assert.True(slow.Dropped > 0); // decimated, still connected
        Assert.Equal(0, hub.DisconnectedClients);
    }

    [Fact]
    public void Publish_Filter_ReachesOnlyTheMachinesWatchers()
    {
        var hub = new LiveHub(new DashboardOptions(), TimeProvider.System);
        var pump = hub.Connect(Viewer, "plant/line-1/pump-1")!;
        var fan = hub.Connect(Viewer, "plant/line-1/fan-2")!;

        hub.Publish(LiveHub.Format("machine", "{}"), c => c.Machine == "plant/line-1/pump-1");

        Assert.True(pump.Reader.TryRead(out _));
        Assert.False(fan.Reader.TryRead(out _));
    }

    [Fact]
    public void Connect_BeyondMaxClients_IsRefused()
    {
        var hub = new LiveHub(new DashboardOptions { MaxClients = 2 }, TimeProvider.System);

        Assert.NotNull(hub.Connect(Viewer, null));
        Assert.NotNull(hub.Connect(Viewer, null));
        Assert.Null(hub.Connect(Viewer, null));
    }

    [Fact]
    public void Format_MultiLineJson_EveryLineIsAData()
    {
        var text = System.Text.Encoding.UTF8.GetString(LiveHub.Format("alarms", "{\n\"a\":1\n}"));

        Assert.Equal("event: alarms\ndata: {\ndata: \"a\":1\ndata: }\n\n", text);
    }
}
