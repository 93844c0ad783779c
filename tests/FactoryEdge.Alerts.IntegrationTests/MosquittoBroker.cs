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
    public MosquittoBroker(bool tls, string? username, string? password, bool requireClientCertificate = false)
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
            if (requireClientCertificate)
            {
                // A CA that signs the server and the client certificate; the broker requires a client certificate.
                var ca = Path.Combine(_directory, "ca.crt");
                var caKey = Path.Combine(_directory, "ca.key");
                Run(OpenSsl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=factoryedge-test-ca", "-keyout", caKey, "-out", ca);
                Issue(ca, caKey, "127.0.0.1", key, cert, "subjectAltName=IP:127.0.0.1");
                var clientKey = Path.Combine(_directory, "client.key");
                var clientCert = Path.Combine(_directory, "client.crt");
                Issue(ca, caKey, "edge-gateway", clientKey, clientCert, null);
                ClientPfxPath = Path.Combine(_directory, "client.pfx");
                Run(OpenSsl, "pkcs12", "-export", "-inkey", clientKey, "-in", clientCert, "-out", ClientPfxPath, "-passout", "pass:" + ClientPfxPassword);
                config.Append(CultureInfo.InvariantCulture, $"cafile {ca}\nrequire_certificate true\nuse_identity_as_username true\n");
            }
            else
            {
                Run(OpenSsl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            config.Append(CultureInfo.InvariantCulture, $"certfile {cert}\nkeyfile {key}\n");
        }

        if (username is not null)
        {
            var passwd = Path.Combine(_directory, "passwd");
            Run("/usr/bin/mosquitto_passwd", "-b", "-c", passwd, username, password ?? "");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passwd, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            config.Append(CultureInfo.InvariantCulture, $"allow_anonymous false\npassword_file {passwd}\n");
        }
        else
        {
            config.Append("allow_anonymous true\n");
        }

        File.WriteAllText(ConfigPath, config.ToString());
    }

    public const string ClientPfxPassword = "fe-test";

    private const string OpenSsl = "/usr/bin/openssl";

    /// <summary>PKCS#12 client certificate (with <c>requireClientCertificate</c>).</summary>
    public string? ClientPfxPath { get; }

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

    private void Issue(string ca, string caKey, string commonName, string key, string cert, string? extension)
    {
        var csr = Path.Combine(_directory, commonName + ".csr");
        Run(OpenSsl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + commonName, "-keyout", key, "-out", csr);
        var arguments = new List<string> { "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-out", cert };
        if (extension is not null)
        {
            var extFile = Path.Combine(_directory, commonName + ".ext");
            File.WriteAllText(extFile, extension + "\n");
            arguments.AddRange(["-extfile", extFile]);
        }

        Run(OpenSsl, [.. arguments]);
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
