using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace FactoryEdge.Simulator.Tests.Support;

/// <summary>
/// The built simulator (factoryedge-sim.dll, copied beside the tests by the project reference) run as
/// a real process with 'dotnet exec': started on 127.0.0.1 with --port 0 (the kernel picks a free
/// port; the ready line names it), driven through stdin, killed by its own process id on dispose.
/// </summary>
internal sealed partial class SimulatorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _allStdout = new();

    private SimulatorProcess(Process process)
    {
        _process = process;
    }

    public static string DllPath { get; } = Path.Combine(AppContext.BaseDirectory, "factoryedge-sim.dll");

    public int ProcessId => _process.Id;

    public int Port { get; private set; }

    public string Endpoint { get; private set; } = string.Empty;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public string Stdout
    {
        get
        {
            lock (_allStdout)
            {
                return _allStdout.ToString();
            }
        }
    }

    /// <summary>Starts <c>factoryedge-sim modbus --port 0 ARGS</c> and waits for <c>listening modbus HOST:PORT</c>.</summary>
    public static async Task<SimulatorProcess> StartModbusAsync(params string[] args)
    {
        var simulator = Launch(["modbus", "--port", "0", .. args]);
        try
        {
            var line = await simulator.ReadLineAsync(TimeSpan.FromSeconds(30));
            var match = ReadyLine().Match(line ?? string.Empty);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Expected the ready line, got '{line}'. stderr: {simulator.Stderr}");
            }

            simulator.Endpoint = match.Groups[1].Value;
            simulator.Port = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            return simulator;
        }
        catch
        {
            await simulator.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the simulator with these arguments (no ready line expected).</summary>
    public static SimulatorProcess Launch(IReadOnlyList<string> args)
    {
        if (!File.Exists(DllPath))
        {
            throw new FileNotFoundException("The simulator is not built beside the tests.", DllPath);
        }

        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var simulator = new SimulatorProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                simulator._stdout.Writer.TryComplete();
                return;
            }

            lock (simulator._allStdout)
            {
                simulator._allStdout.AppendLine(e.Data);
            }

            simulator._stdout.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (simulator._stderr)
                {
                    simulator._stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return simulator;
    }

    /// <summary>Runs the simulator to its end (for bad-input cases) and returns exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(TimeSpan timeout, params string[] args)
    {
        await using var simulator = Launch(args);
        simulator._process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await simulator._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"factoryedge-sim {string.Join(' ', args)} did not exit within {timeout.TotalSeconds} s. stdout: {simulator.Stdout} stderr: {simulator.Stderr}");
        }

        simulator._process.WaitForExit();
        return (simulator._process.ExitCode, simulator.Stdout, simulator.Stderr);
    }

    /// <summary>Sends a control command and returns its reply lines (up to and including the <c>ok</c>/<c>error</c> line).</summary>
    public async Task<IReadOnlyList<string>> SendAsync(string command, TimeSpan? timeout = null)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(15))
                ?? throw new InvalidOperationException($"The simulator closed stdout while answering '{command}'. stderr: {Stderr}");
            lines.Add(line);
            if (line.StartsWith("ok ", StringComparison.Ordinal) || line.StartsWith("error ", StringComparison.Ordinal))
            {
                return lines;
            }
        }
    }

    /// <summary>Sends a command that must succeed; returns the <c>ok</c> line.</summary>
    public async Task<string> CommandAsync(string command)
    {
        var lines = await SendAsync(command);
        Assert.True(lines[^1].StartsWith("ok ", StringComparison.Ordinal), $"'{command}' answered '{lines[^1]}'");
        return lines[^1];
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGTERM (as systemd or docker stop would) through kill(1).</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _stdout.Reader.ReadAsync(cts.Token);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No line from the simulator within {timeout.TotalSeconds} s. stdout: {Stdout} stderr: {Stderr}");
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Starts <c>factoryedge-sim opcua --port 0 ARGS</c> and waits for <c>listening opcua opc.tcp://HOST:PORT …</c>.</summary>
    public static async Task<SimulatorProcess> StartOpcUaAsync(params string[] args)
    {
        var simulator = Launch(["opcua", "--port", "0", .. args]);
        try
        {
            var line = await simulator.ReadLineAsync(TimeSpan.FromSeconds(30));
            var match = OpcUaReadyLine().Match(line ?? string.Empty);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Expected the ready line, got '{line}'. stderr: {simulator.Stderr}");
            }

            simulator.Endpoint = "opc.tcp://127.0.0.1:" + match.Groups[1].Value;
            simulator.Port = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return simulator;
        }
        catch
        {
            await simulator.DisposeAsync();
            throw;
        }
    }

    [GeneratedRegex(@"^listening opcua opc\.tcp://127\.0\.0\.1:(\d+) ")]
    private static partial Regex OpcUaReadyLine();

    [GeneratedRegex(@"^listening modbus (127\.0\.0\.1):(\d+)$")]
    private static partial Regex ReadyLine();
}
