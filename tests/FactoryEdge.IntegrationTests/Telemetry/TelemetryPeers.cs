using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FactoryEdge.IntegrationTests.Telemetry;

/// <summary>Where the telemetry peers live (Debian's influxdb 1.6.7 and victoria-metrics) and whether they are installed.</summary>
internal static class TelemetryPeers
{
    public const string InfluxDb = "influxd (Debian package influxdb, 1.6.7)";
    public const string VictoriaMetrics = "victoria-metrics (Debian package victoria-metrics)";
    public const string Gateway = "the gateway build (factoryedge.dll with FactoryEdge.Telemetry wired in)";

    public const string InfluxdPath = "/usr/bin/influxd";
    public const string VictoriaMetricsPath = "/usr/bin/victoria-metrics";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Missing(string peer) => peer switch
    {
        InfluxDb => File.Exists(InfluxdPath) ? null : InfluxdPath + " is not installed",
        VictoriaMetrics => File.Exists(VictoriaMetricsPath) ? null : VictoriaMetricsPath + " is not installed",
        Gateway => GatewayMissing(),
        _ => "unknown peer " + peer,
    };

    public static void Require(string peer)
    {
        var missing = Missing(peer);
        if (missing is not null)
        {
            throw new InvalidOperationException($"Telemetry peer {peer} is not available: {missing}. Run tests/peers/influx/install.sh (as root) first.");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The build configuration these tests run in (Release or Debug), from their own output path.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The gateway to run as a child process (FACTORYEDGE_TEST_GATEWAY_DLL overrides the build output).</summary>
    public static string GatewayDll => Environment.GetEnvironmentVariable("FACTORYEDGE_TEST_GATEWAY_DLL") is { Length: > 0 } overridden
        ? overridden
        : Path.Combine(RepositoryRoot, "src", "FactoryEdge.Gateway", "bin", Configuration, "net10.0", "factoryedge.dll");

    private static string? GatewayMissing()
    {
        if (!File.Exists(GatewayDll))
        {
            return GatewayDll + " is not built";
        }

        var deps = Path.ChangeExtension(GatewayDll, ".deps.json");
        return File.Exists(deps) && File.ReadAllText(deps).Contains("FactoryEdge.Telemetry", StringComparison.Ordinal)
            ? null
            : "the gateway does not reference FactoryEdge.Telemetry yet (GatewayHost.AddFactoryEdgeGateway needs services.AddFactoryEdgeTelemetry(configuration))";
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FactoryEdge.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (FactoryEdge.sln) above " + AppContext.BaseDirectory);
    }

    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan guard, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > guard)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Waited {guard.TotalSeconds} s for: {what}"));
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Sends SIGTERM to a process we started (by its own id) so that it shuts down cleanly.</summary>
    public static void Terminate(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("/bin/kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit(5000);
    }
}

/// <summary>
/// A test that needs a telemetry peer: skipped (with the reason) when the peer is missing, except
/// under CI=true, where it runs and fails, so that a missing install step cannot hide. The gateway
/// peer is a build product, not an install: without the telemetry wiring the test is skipped everywhere.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TelemetryPeerFactAttribute : FactAttribute
{
    public TelemetryPeerFactAttribute(params string[] peers)
    {
        var missing = peers
            .Where(p => p != TelemetryPeers.Gateway && !TelemetryPeers.IsCi)
            .Select(TelemetryPeers.Missing)
            .Where(m => m is not null)
            .ToArray();
        if (missing.Length > 0)
        {
            Skip = "peer missing (run tests/peers/influx/install.sh): " + string.Join("; ", missing);
            return;
        }

        if (peers.Contains(TelemetryPeers.Gateway) && TelemetryPeers.Missing(TelemetryPeers.Gateway) is { } gateway)
        {
            Skip = "gateway not runnable with telemetry: " + gateway;
        }
    }
}

/// <summary>A server process on a loopback port with a temp data directory, stopped by its own process id.</summary>
internal abstract class PeerServer : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    protected PeerServer(string name, bool https = false)
    {
        Name = name;
        Https = https;
        // The fixture's own admin client (ready checks, queries) trusts the test server's certificate.
        Http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { Timeout = TimeSpan.FromSeconds(30) };
        DataDirectory = Path.Combine(Path.GetTempPath(), "fe-" + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        Port = TelemetryPeers.FreePort();
    }

    public string Name { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    public bool Https { get; }

    public string Url => (Https ? "https" : "http") + "://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public bool Running => _process is { HasExited: false };

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    protected HttpClient Http { get; }

    protected abstract ProcessStartInfo StartInfo();

    protected abstract Task<bool> ReadyAsync();

    /// <summary>Starts (or restarts, on the same port and data) the server and waits until it answers.</summary>
    public async Task StartAsync()
    {
        if (Running)
        {
            return;
        }

        var info = StartInfo();
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited at start (code {process.ExitCode}): {Log}");
            }

            try
            {
                if (await ReadyAsync())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                await StopAsync();
                throw new TimeoutException($"{Name} did not answer within 30 s: {Log}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Stops the server cleanly (SIGTERM to its own pid), killing it if it does not exit in 20 s.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                TelemetryPeers.Terminate(process);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (_log.Length < 200_000)
            {
                _log.AppendLine(line);
            }
        }
    }
}

/// <summary>Debian's InfluxDB 1.6.7 with a config of our own: loopback only, temp directories.</summary>
internal sealed class InfluxDbServer : PeerServer
{
    private readonly int _rpcPort = TelemetryPeers.FreePort();

    private readonly string? _certificatePem;

    private InfluxDbServer(string? certificatePem = null)
        : base("influxdb", https: certificatePem is not null)
    {
        _certificatePem = certificatePem;
    }

    public string HttpsUrl => Url;

    public static Task<InfluxDbServer> LaunchAsync(params string[] databases) => LaunchCoreAsync(null, databases);

    /// <summary>InfluxDB serving HTTPS with the certificate and key in <paramref name="pem"/>.</summary>
    public static Task<InfluxDbServer> LaunchHttpsAsync(string pem, params string[] databases) => LaunchCoreAsync(pem, databases);

    private static async Task<InfluxDbServer> LaunchCoreAsync(string? pem, string[] databases)
    {
        TelemetryPeers.Require(TelemetryPeers.InfluxDb);
        var server = new InfluxDbServer(pem);
        try
        {
            await server.StartAsync();
            foreach (var db in databases)
            {
                await server.QueryAsync("CREATE DATABASE \"" + db + "\"", null, post: true);
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    protected override ProcessStartInfo StartInfo()
    {
        var config = Path.Combine(DataDirectory, "influxdb.conf");
        var d = DataDirectory;
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            bind-address = "127.0.0.1:{_rpcPort}"
            reporting-disabled = true
            [meta]
              dir = "{d}/meta"
            [data]
              dir = "{d}/data"
              wal-dir = "{d}/wal"
              query-log-enabled = false
            [http]
              bind-address = "127.0.0.1:{Port}"
              log-enabled = false
              max-body-size = 0
              https-enabled = {(_certificatePem is null ? "false" : "true")}
              https-certificate = "{_certificatePem ?? ""}"
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            [subscriber]
              enabled = false
            """));
        return new ProcessStartInfo(TelemetryPeers.InfluxdPath, ["-config", config]);
    }

    protected override async Task<bool> ReadyAsync()
    {
        using var response = await Http.GetAsync(Url + "/ping");
        return response.StatusCode == HttpStatusCode.NoContent;
    }

    /// <summary>Runs InfluxQL and returns the parsed JSON (epoch=ns).</summary>
    public async Task<JsonDocument> QueryAsync(string query, string? database, bool post = false)
    {
        var form = new List<KeyValuePair<string, string>> { new("q", query), new("epoch", "ns") };
        if (database is not null)
        {
            form.Add(new("db", database));
        }

        using var content = new FormUrlEncodedContent(form);
        using var response = post
            ? await Http.PostAsync(Url + "/query", content)
            : await Http.GetAsync(Url + "/query?" + await content.ReadAsStringAsync());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"InfluxQL {query}: {(int)response.StatusCode} {text}");
        var doc = JsonDocument.Parse(text);
        if (doc.RootElement.GetProperty("results")[0].TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"InfluxQL {query}: {error}");
        }

        return doc;
    }

    /// <summary>Rows of a SELECT: one list per series (tags) of column → value.</summary>
    public async Task<List<InfluxSeries>> SelectAsync(string query, string database)
    {
        using var doc = await QueryAsync(query, database);
        var result = new List<InfluxSeries>();
        var first = doc.RootElement.GetProperty("results")[0];
        if (!first.TryGetProperty("series", out var series))
        {
            return result;
        }

        foreach (var s in series.EnumerateArray())
        {
            var tags = new Dictionary<string, string>();
            if (s.TryGetProperty("tags", out var t))
            {
                foreach (var p in t.EnumerateObject())
                {
                    tags[p.Name] = p.Value.GetString() ?? "";
                }
            }

            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
            var rows = new List<Dictionary<string, JsonElement>>();
            foreach (var v in s.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>();
                var i = 0;
                foreach (var cell in v.EnumerateArray())
                {
                    row[columns[i++]] = cell.Clone();
                }

                rows.Add(row);
            }

            result.Add(new InfluxSeries(s.GetProperty("name").GetString()!, tags, rows));
        }

        return result;
    }
}

internal sealed record InfluxSeries(string Name, Dictionary<string, string> Tags, List<Dictionary<string, JsonElement>> Rows);

/// <summary>Debian's VictoriaMetrics: accepts the InfluxDB v2 write API; read back through /api/v1/export.</summary>
internal sealed class VictoriaMetricsServer : PeerServer
{
    private VictoriaMetricsServer()
        : base("victoria-metrics")
    {
    }

    public static async Task<VictoriaMetricsServer> LaunchAsync()
    {
        TelemetryPeers.Require(TelemetryPeers.VictoriaMetrics);
        var server = new VictoriaMetricsServer();
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    protected override ProcessStartInfo StartInfo() => new(TelemetryPeers.VictoriaMetricsPath,
    [
        "-httpListenAddr=127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture),
        "-storageDataPath=" + Path.Combine(DataDirectory, "data"),
        "-retentionPeriod=100y",
        "-loggerLevel=WARN",
    ]);

    protected override async Task<bool> ReadyAsync()
    {
        using var response = await Http.GetAsync(Url + "/health");
        return response.IsSuccessStatusCode;
    }

    /// <summary>Series matching a selector, after a forced flush (VictoriaMetrics buffers for a second or two).</summary>
    public async Task<List<VmSeries>> ExportAsync(string match)
    {
        using (var flush = await Http.GetAsync(Url + "/internal/force_flush"))
        {
            flush.EnsureSuccessStatusCode();
        }

        var text = await Http.GetStringAsync(Url + "/api/v1/export?match[]=" + Uri.EscapeDataString(match));
        var result = new List<VmSeries>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var metric = doc.RootElement.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            var values = doc.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            var timestamps = doc.RootElement.GetProperty("timestamps").EnumerateArray().Select(v => v.GetInt64()).ToList();
            result.Add(new VmSeries(metric, values, timestamps));
        }

        return result;
    }
}

internal sealed record VmSeries(Dictionary<string, string> Metric, List<double> Values, List<long> Timestamps);
