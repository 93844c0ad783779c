using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FactoryEdge.Alerts.IntegrationTests;

/// <summary>A mosquitto on 127.0.0.1 with a free port and a temp config; stopped by its own process id.</summary>
internal sealed class MosquittoBroker : IDisposable
{
    public const string Binary = "/usr/sbin/mosquitto";

    private readonly string _directory;
    private readonly StringBuilder _log = new();
    private Process? _process;

    public MosquittoBroker()
    {
        _directory = Path.Combine(Path.GetTempPath(), "fe-mosquitto-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        Port = FreePort();
        ConfigPath = Path.Combine(_directory, "mosquitto.conf");
        File.WriteAllText(ConfigPath, string.Create(CultureInfo.InvariantCulture, $"""
            listener {Port} 127.0.0.1
            allow_anonymous true
            persistence false
            log_dest stdout
            set_tcp_nodelay true

            """));
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Missing => File.Exists(Binary) ? null : $"{Binary} is not installed";

    public int Port { get; }

    public string ConfigPath { get; }

    public int ProcessId => _process?.Id ?? 0;

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

    public async Task StartAsync()
    {
        if (Missing is { } missing)
        {
            throw new InvalidOperationException($"mosquitto is not available: {missing}. Run tests/peers/mqtt/install.sh (as root) first.");
        }

        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(ConfigPath);
        var process = new Process { StartInfo = info };
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
                throw new InvalidOperationException("mosquitto exited before it was ready: " + Log);
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Kills the broker by its process id and waits for it to end.</summary>
    public void Stop()
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
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_directory, recursive: true);
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}

/// <summary>Runs when mosquitto is installed; under CI=true always runs (and fails when it is missing).</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute()
    {
        if (!MosquittoBroker.IsCi && MosquittoBroker.Missing is { } missing)
        {
            Skip = "peer missing (run tests/peers/mqtt/install.sh): " + missing;
        }
    }
}
