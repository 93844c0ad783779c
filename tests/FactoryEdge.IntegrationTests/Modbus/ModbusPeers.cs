using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>Where the Modbus peers live and whether they are installed.</summary>
internal static class ModbusPeers
{
    public const string Libmodbus = "libmodbus server (tests/peers/modbus/bin/modbus_server)";
    public const string Pymodbus = "pymodbus server (/usr/bin/python3 with python3-pymodbus)";
    public const string Mbpoll = "mbpoll";
    public const string Socat = "socat";
    public const string LibmodbusBench = "libmodbus bench client";

    private static readonly Lazy<string> Root = new(FindRoot);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string PeerDirectory => Path.Combine(Root.Value, "tests", "peers", "modbus");

    public static string LibmodbusServerPath => Path.Combine(PeerDirectory, "bin", "modbus_server");

    public static string LibmodbusBenchPath => Path.Combine(PeerDirectory, "bin", "modbus_bench");

    public static string PymodbusScriptPath => Path.Combine(PeerDirectory, "pymodbus_server.py");

    public const string Python = "/usr/bin/python3";

    /// <summary>Why a peer cannot run here, or null when it can.</summary>
    public static string? Missing(string peer) => peer switch
    {
        Libmodbus => File.Exists(LibmodbusServerPath) ? null : $"{LibmodbusServerPath} is not built",
        LibmodbusBench => File.Exists(LibmodbusBenchPath) ? null : $"{LibmodbusBenchPath} is not built",
        Pymodbus => PymodbusMissing.Value,
        Mbpoll => OnPath("mbpoll") ? null : "mbpoll is not installed",
        Socat => OnPath("socat") ? null : "socat is not installed",
        _ => $"unknown peer {peer}",
    };

    private static readonly Lazy<string?> PymodbusMissing = new(() =>
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing";
        }

        var (code, _, error) = Run(Python, ["-c", "import pymodbus.server, pymodbus.datastore"], TimeSpan.FromSeconds(20));
        return code == 0 ? null : "python3-pymodbus (with python3-serial, python3-serial-asyncio) cannot be imported: " + error.Trim();
    });

    /// <summary>Fails (CI) or skips (elsewhere) when the peer is missing; call first in a peer test.</summary>
    public static string Require(string peer)
    {
        var missing = Missing(peer);
        if (missing is not null)
        {
            throw new InvalidOperationException($"Modbus peer {peer} is not available: {missing}. Run tests/peers/modbus/install.sh (as root) first.");
        }

        return peer;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static (int ExitCode, string Output, string Error) Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{fileName} did not finish within {timeout.TotalSeconds} s."));
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>
    /// Runs a program to its end without blocking a thread: the tests host servers in this process,
    /// and a blocked thread-pool thread would starve them (peers then see timeouts).
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{fileName} did not finish within {timeout.TotalSeconds} s."));
        }

        return (process.ExitCode, await output, await error);
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "peers", "modbus")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (tests/peers/modbus) above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// A test that needs a peer. Skipped (with the reason) when the peer is missing, except under
/// CI=true, where it runs and fails, so that a missing install step cannot hide.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PeerFactAttribute : FactAttribute
{
    public PeerFactAttribute(params string[] peers)
    {
        if (ModbusPeers.IsCi)
        {
            return;
        }

        var missing = peers.Select(ModbusPeers.Missing).Where(m => m is not null).ToArray();
        if (missing.Length > 0)
        {
            Skip = "peer missing (run tests/peers/modbus/install.sh): " + string.Join("; ", missing);
        }
    }
}

/// <summary>A peer process on a loopback port, started and stopped by its own process id.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly string _fileName;
    private readonly string[] _arguments;
    private readonly StringBuilder _log = new();
    private Process? _process;

    public PeerProcess(string fileName, params string[] arguments)
    {
        _fileName = fileName;
        _arguments = arguments;
    }

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

    /// <summary>Starts the process and waits (without blocking a thread) for its "READY" line.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        var info = new ProcessStartInfo(_fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            Append(e.Data);
            if (e.Data.StartsWith("READY", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Append(e.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{_fileName} exited before it was ready: {Log}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Stop();
            throw new TimeoutException($"{_fileName} did not report READY within {timeout.TotalSeconds} s: {Log}");
        }
    }

    /// <summary>Kills the process by its id and waits for it to end.</summary>
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
                process.Kill(entireProcessTree: false);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }

    public void Dispose() => Stop();

    private void Append(string line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
