using System.Net.Sockets;
using System.Text;

namespace FactoryEdge.Dashboard.Tests;

/// <summary>
/// A browser that stops reading (a raw socket with a tiny receive buffer that never reads) while
/// another keeps reading: the stalled one is decimated then disconnected, the other keeps getting
/// every push, and the pipeline's dashboard sinks never fell behind.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class StalledClientTests(GatewayFixture gateway)
{
    [Fact]
    public async Task StalledBrowser_IsDropped_PipelineAndOtherBrowsersUnaffected()
    {
        var disconnectedBefore = gateway.Hub.DisconnectedClients;
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 2048 };
        await stalled.ConnectAsync("127.0.0.1", gateway.BaseUri.Port);
        var request = $"GET /api/events?machine={Uri.EscapeDataString(GatewayHostFixture.FaultyMachine)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {gateway.ViewerToken}\r\nAccept: text/event-stream\r\n\r\n";
        await stalled.SendAsync(Encoding.ASCII.GetBytes(request));

        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new("Bearer", gateway.ViewerToken);
        using var response = await client.GetAsync(new Uri(gateway.BaseUri, "/api/events?machine=" + Uri.EscapeDataString(GatewayHostFixture.FaultyMachine)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var windowsBefore = gateway.Tap.Windows;
        var machineMessages = 0;
        var withSpectrum = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (gateway.Hub.DisconnectedClients == disconnectedBefore)
        {
            var line = await reader.ReadLineAsync(cts.Token);
            if (line == "event: machine")
            {
                machineMessages++;
                var data = await reader.ReadLineAsync(cts.Token);
                if (data?.Contains("\"waveform\":[", StringComparison.Ordinal) == true)
                {
                    withSpectrum++;
                }
            }
        }

        // The healthy browser kept receiving while the stalled one filled its queue; it stays connected.
        var after = 0;
        while (after < 8)
        {
            if (await reader.ReadLineAsync(cts.Token) == "event: machine")
            {
                after++;
            }
        }

        Assert.True(machineMessages >= 8, $"the reading browser got only {machineMessages} machine messages while the other stalled");
        Assert.True(withSpectrum >= 2);
        Assert.Equal(disconnectedBefore + 1, gateway.Hub.DisconnectedClients);
        Assert.True(gateway.Hub.DroppedMessages > 0);
        Assert.True(gateway.Tap.Windows > windowsBefore);

        // The pipeline never waited for the dashboard: its sinks dropped nothing.
        var stats = gateway.Pipeline.Pipeline!.GetStatistics();
        var sinks = stats.Sinks.Where(s => s.Name.EndsWith("dashboard", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, sinks.Count);
        Assert.All(sinks, s => Assert.Equal(0, s.Dropped));
    }
}
