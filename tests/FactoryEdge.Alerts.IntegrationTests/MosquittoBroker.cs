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
        : this(tls: false, username: null, password: null)
    {
    }

    /// <summary>With <paramref name="tls"/>, a self-signed certificate for 127.0.0.1 (openssl); with a user, anonymous clients are refused.</summary>
    public MosquittoBroker(bool tls, string? username, string? password)
    {
        _directory = Path.Combine(Path.GetTempPath(), "fe-mosquitto-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        Port = FreePort();
        ConfigPath = Path.Combine(_directory, "mosquitto.conf");
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $"listener {Port} 127.0.0.1\n");
        config.Append("persistence false\nlog_dest stdout\nset_tcp_nodelay true\n");
        if (tls)
        {
            var cert = Path.Combine(_directory, "server.crt");
            var key = Path.Combine(_directory, "server.key");
            Run("/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert);
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            config.Append(CultureInfo.InvariantCulture, $"certfile {cert}\nkeyfile {key}\n");
        }

        if (username is not null)
        {
            var passwd = Path.Combine(_directory, "passwd");
            Run("/usr/bin/mosquitto_passwd", "-b", "-c", passwd, username, password ?? "");
            File.SetUnixFileMode(passwd, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            config.Append(CultureInfo.InvariantCulture, $"allow_anonymous false\npassword_file {passwd}\n");
        }
        else
        {
            config.Append("allow_anonymous true\n");
        }

        File.WriteAllText(ConfigPath, config.ToString());
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

    private static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {error}");
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
