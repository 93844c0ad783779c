using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FactoryEdge.Gateway.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.Operations.Tests;

internal static class Repo
{
    public static string Root { get; } = Find();

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Debug or Release: the configuration this test assembly was built in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }

    public static string? Which(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs a process to the end; returns exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Root };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>A test that needs a tool of the machine: skipped when missing, a failure under CI=true.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool)
    {
        if (!Repo.IsCi && Repo.Which(tool) is null)
        {
            Skip = $"{tool} is not installed on this machine";
        }
    }
}

/// <summary>Collects log lines (formatted with their exception) for assertions.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Text)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public bool Contains(string text) => Lines.Any(l => l.Text.Contains(text, StringComparison.Ordinal));

    public string All => string.Join(Environment.NewLine, Lines.Select(l => $"{l.Level} {l.Category}: {l.Text}"));

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}

/// <summary>The real gateway host in process, from a configuration file in a temp folder, with the operations endpoint on a random port.</summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly DirectoryInfo _dir;

    private GatewayUnderTest(DirectoryInfo dir, string configPath, IHost host, CapturingLoggerProvider logs)
    {
        _dir = dir;
        ConfigPath = configPath;
        Host = host;
        Logs = logs;
    }

    public string Directory => _dir.FullName;

    public string ConfigPath { get; }

    public IHost Host { get; }

    public CapturingLoggerProvider Logs { get; }

    public GatewayRuntime Runtime => Host.Services.GetRequiredService<GatewayRuntime>();

    public OperationsMonitor Monitor => Host.Services.GetRequiredService<OperationsMonitor>();

    public Uri BaseUri => new(Host.Services.GetRequiredService<OperationsHttpServer>().BoundUrls[0]);

    /// <summary>A configuration with <paramref name="factoryEdge"/> as the body of the FactoryEdge section (Telemetry and Operations added; the dashboard off: its fixed port would collide across parallel tests).</summary>
    public static string Config(string dir, string factoryEdge, string operations = "") => $$"""
        {
          "Logging": { "LogLevel": { "Default": "Information" } },
          "FactoryEdge": {
            "Telemetry": { "Spool": { "Path": "{{Path.Combine(dir, "telemetry.db").Replace("\\", "/", StringComparison.Ordinal)}}" } },
            "Operations": { "Urls": "http://127.0.0.1:0", "ReloadPollSeconds": 0.2, "SourceStaleSeconds": 2, "StartupGraceSeconds": 10 {{operations}} },
            "Dashboard": { "Enabled": false },
            {{factoryEdge}}
          }
        }
        """;

    public static string Simulated(params string[] machines) =>
        "\"Sources\": { \"Simulated\": [ " + string.Join(", ", machines.Select(m => $$"""{ "Machine": "{{m}}", "SampleRateHz": 12800 }""")) + " ] }";

    public static async Task<GatewayUnderTest> StartAsync(Func<string, string> config)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("fe-ops-");
        var path = Path.Combine(dir.FullName, "appsettings.json");
        await File.WriteAllTextAsync(path, config(dir.FullName));
        var logs = new CapturingLoggerProvider();
        var host = GatewayHost.Build(path, s => s.AddSingleton<ILoggerProvider>(logs));
        await host.StartAsync();
        return new GatewayUnderTest(dir, path, host, logs);
    }

    public async Task WaitForAsync(Func<bool> condition, string what, double seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"Timed out waiting for {what}. Report: {Monitor.Report}. Log:{Environment.NewLine}{Logs.All}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Replaces the configuration file the way an editor does (write a temp file, rename over).</summary>
    public async Task RewriteAsync(string path, string content)
    {
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.StopAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Host.Dispose();
            try
            {
                _dir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>A Unix datagram socket standing in for systemd's NOTIFY_SOCKET.</summary>
internal sealed class FakeNotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    public FakeNotifySocket()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fe-notify-{Guid.NewGuid():N}.sock");
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        _reader = Task.Run(ReadAsync);
    }

    public string Path { get; }

    /// <summary>Every datagram with the time it arrived (Stopwatch).</summary>
    public ConcurrentQueue<(long Ticks, string Text)> Messages { get; } = new();

    public IEnumerable<string> Assignments => Messages.SelectMany(m => m.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    public IReadOnlyList<long> WatchdogTicks => [.. Messages.Where(m => m.Text.Split('\n').Contains("WATCHDOG=1")).Select(m => m.Ticks)];

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _reader.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        File.Delete(Path);
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Messages.Enqueue((Stopwatch.GetTimestamp(), System.Text.Encoding.UTF8.GetString(buffer, 0, n)));
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }
}

internal static class Http
{
    public static async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri uri, HttpMethod? method = null)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, uri);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
