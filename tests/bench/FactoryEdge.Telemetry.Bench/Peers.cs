using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FactoryEdge.Telemetry.Bench;

/// <summary>Debian's influxd (1.6.7) or victoria-metrics on a free loopback port with a temp data directory.</summary>
internal sealed class Peer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private Peer(Process process, string dir, int port, string kind)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Kind = kind;
    }

    public int Port { get; }

    public string Kind { get; }

    public string Url => "http://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public static bool Available(string kind) => File.Exists(kind == "influxdb" ? "/usr/bin/influxd" : "/usr/bin/victoria-metrics");

    public static async Task<Peer> StartAsync(string kind)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fe-bench-" + kind + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var port = FreePort();
        ProcessStartInfo info;
        if (kind == "influxdb")
        {
            var config = Path.Combine(dir, "influxdb.conf");
            await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
                bind-address = "127.0.0.1:{FreePort()}"
                reporting-disabled = true
                [meta]
                  dir = "{dir}/meta"
                [data]
                  dir = "{dir}/data"
                  wal-dir = "{dir}/wal"
                  query-log-enabled = false
                [http]
                  bind-address = "127.0.0.1:{port}"
                  log-enabled = false
                  max-body-size = 0
                [monitor]
                  store-enabled = false
                [continuous_queries]
                  enabled = false
                """));
            info = new ProcessStartInfo("/usr/bin/influxd", ["-config", config]);
        }
        else
        {
            info = new ProcessStartInfo("/usr/bin/victoria-metrics", ["-httpListenAddr=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "-storageDataPath=" + dir, "-retentionPeriod=100y", "-loggerLevel=ERROR"]);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var peer = new Peer(process, dir, port, kind);
        using var http = new HttpClient();
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var r = await http.GetAsync(peer.Url + (kind == "influxdb" ? "/ping" : "/health"));
                if (r.IsSuccessStatusCode)
                {
                    if (kind == "influxdb")
                    {
                        using var content = new FormUrlEncodedContent([new("q", "CREATE DATABASE bench")]);
                        (await http.PostAsync(peer.Url + "/query", content)).EnsureSuccessStatusCode();
                    }

                    return peer;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        await peer.DisposeAsync();
        throw new TimeoutException(kind + " did not start");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
