using System.Diagnostics;
using System.Text;

namespace FactoryEdge.Operations.Tests;

/// <summary>
/// Publishes the gateway (framework-dependent, the test's build configuration) into a temp folder once
/// per test run, the way the installers do, so service tests start the real executable.
/// </summary>
public sealed class PublishedGateway : IAsyncLifetime
{
    private readonly DirectoryInfo _dir = System.IO.Directory.CreateTempSubdirectory("fe-publish-");

    public string Directory => _dir.FullName;

    public string Executable => Path.Combine(Directory, OperatingSystem.IsWindows() ? "factoryedge.exe" : "factoryedge");

    public async Task InitializeAsync()
    {
        var project = Path.Combine(Repo.Root, "src", "FactoryEdge.Gateway", "FactoryEdge.Gateway.csproj");
        // --no-build: the test project's build already built the gateway in this configuration.
        var (code, output) = await Repo.RunAsync("dotnet", ["publish", project, "-c", Repo.Configuration, "--no-build", "-o", Directory, "-p:UseAppHost=true"]);
        if (code != 0 || !File.Exists(Executable))
        {
            throw new InvalidOperationException($"dotnet publish failed ({code}):{Environment.NewLine}{output}");
        }
    }

    public Task DisposeAsync()
    {
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class PublishedGatewayCollection : ICollectionFixture<PublishedGateway>
{
    public const string Name = "published gateway";
}

/// <summary>The published gateway running as a child process, output captured, stopped by its own pid.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();

    public GatewayProcess(string executable, string config, IDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(config)! };
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(config);
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }

        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM (what systemd sends on stop), then waits.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

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

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _output.AppendLine(line);
        }
    }
}
