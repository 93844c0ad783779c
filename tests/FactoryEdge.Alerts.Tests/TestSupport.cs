using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.Core;

namespace FactoryEdge.Alerts.Tests;

internal static class Alerts
{
    public static Alert Make(string id = "a-1", AlertState state = AlertState.Raised, AlertSeverity severity = AlertSeverity.Alarm, string machine = "pump-1", long sourceTicks = 638_000_000_000_000_000) => new()
    {
        AlertId = id,
        Channel = new ChannelId("plant1", "line2", machine, "de-bearing", "x"),
        State = state,
        Severity = severity,
        SourceTime = new DateTimeOffset(sourceTicks, TimeSpan.Zero),
        Score = 3.25f,
        Threshold = 1.5f,
        ModelId = "kmeans-v3",
        Message = "vibration anomaly",
        TopFeatures = [new("rms", 1.75f), new("band-bpfo", 0.5f)],
        ProcessingLatencyMicroseconds = 812.4,
    };

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>MQTT transport fake: records publishes; can be "down".</summary>
internal sealed class FakeMqttTransport : IMqttAlertTransport
{
    public ConcurrentQueue<(string Topic, byte[] Payload, bool Retain)> Published { get; } = new();

    public bool Up { get; set; } = true;

    public bool IsConnected { get; private set; }

    public int Connects { get; private set; }

    public Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (!Up)
        {
            throw new InvalidOperationException("broker down");
        }

        IsConnected = true;
        Connects++;
        return Task.CompletedTask;
    }

    public void Drop() => IsConnected = false;

    public Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken)
    {
        if (!IsConnected)
        {
            throw new InvalidOperationException("not connected");
        }

        Published.Enqueue((topic, payload.ToArray(), retain));
        return Task.FromResult(true);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>In-process HTTP receiver for webhooks: answers with scripted status codes.</summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookReceiver()
    {
        Port = Alerts.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>Status codes to answer, in order; 200 once exhausted.</summary>
    public ConcurrentQueue<int> Script { get; } = new();

    public ConcurrentQueue<(Dictionary<string, string> Headers, byte[] Body, int Answered)> Requests { get; } = new();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var status = Script.TryDequeue(out var s) ? s : 200;
            Requests.Enqueue((headers, body.ToArray(), status));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }
}
