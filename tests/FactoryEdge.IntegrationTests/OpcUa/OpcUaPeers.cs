using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Core;
using FactoryEdge.IntegrationTests.Modbus;
using FactoryEdge.OpcUa;

namespace FactoryEdge.IntegrationTests.OpcUa;

/// <summary>Where the node-opcua peer lives and whether it is installed (tests/peers/opcua/install.sh).</summary>
internal static class OpcUaPeers
{
    public const string NodeOpcUa = "node-opcua server (tests/peers/opcua)";

    public const string TestNamespace = "urn:factoryedge:test";

    private static readonly Lazy<string> Root = new(FindRoot);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string PeerDirectory => Path.Combine(Root.Value, "tests", "peers", "opcua");

    public static string ServerScript => Path.Combine(PeerDirectory, "server.js");

    public static string? NodePath => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "node")).FirstOrDefault(File.Exists);

    public static string? Missing()
    {
        if (NodePath is null)
        {
            return "node is not installed";
        }

        return Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "node-opcua")) ? null : "tests/peers/opcua/node_modules/node-opcua is missing";
    }

    public static void Require()
    {
        if (Missing() is { } missing)
        {
            throw new InvalidOperationException($"OPC UA peer {NodeOpcUa} is not available: {missing}. Run tests/peers/opcua/install.sh first.");
        }
    }

    public static string Node(string name) => $"nsu={TestNamespace};s={name}";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "peers", "opcua")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (tests/peers/opcua) above " + AppContext.BaseDirectory);
    }

    /// <summary>SIGSTOP / SIGCONT to one process by its id.</summary>
    public static void Signal(int pid, bool stop)
    {
        var (code, _, error) = ModbusPeers.Run("kill", [stop ? "-STOP" : "-CONT", pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        if (code != 0)
        {
            throw new InvalidOperationException($"kill {pid} failed: {error}");
        }
    }

    public static async Task WaitUntil(Func<bool> condition, TimeSpan guard, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > guard)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Waited {guard.TotalSeconds} s for: {what}"));
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>
/// A test that needs node-opcua. Skipped (with the reason) when it is missing, except under CI=true,
/// where it runs and fails, so that a missing install step cannot hide.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OpcUaPeerFactAttribute : FactAttribute
{
    public OpcUaPeerFactAttribute()
    {
        if (!OpcUaPeers.IsCi && OpcUaPeers.Missing() is { } missing)
        {
            Skip = "peer missing (run tests/peers/opcua/install.sh): " + missing;
        }
    }
}

/// <summary>Our node-opcua server script on a free loopback port; restartable on the same port.</summary>
internal sealed class NodeOpcUaServer : IDisposable
{
    private readonly string[] _extra;
    private PeerProcess? _process;

    private NodeOpcUaServer(int port, string[] extra)
    {
        Port = port;
        _extra = extra;
    }

    public int Port { get; }

    public string Url => string.Create(CultureInfo.InvariantCulture, $"opc.tcp://127.0.0.1:{Port}");

    public int ProcessId => _process?.ProcessId ?? 0;

    public static async Task<NodeOpcUaServer> StartAsync(params string[] extra)
    {
        OpcUaPeers.Require();
        for (var attempt = 0; ; attempt++)
        {
            var server = new NodeOpcUaServer(ModbusPeers.FreePort(), extra);
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (Exception) when (attempt < 2)
            {
                server.Dispose();
            }
        }
    }

    /// <summary>Starts (again) on the same port, optionally with other arguments (e.g. --swap-namespaces).</summary>
    public async Task StartAgainAsync(params string[] more)
    {
        string[] args = [OpcUaPeers.ServerScript, "--port", Port.ToString(CultureInfo.InvariantCulture), .. _extra, .. more];
        var process = new PeerProcess(OpcUaPeers.NodePath!, args);
        await process.StartAsync(TimeSpan.FromSeconds(60));
        _process = process;
    }

    public void Stop()
    {
        _process?.Dispose();
        _process = null;
    }

    public void Dispose() => Stop();
}

/// <summary>Shared server for the read/browse/subscribe tests (started on first use).</summary>
public sealed class NodeOpcUaServerFixture : IAsyncLifetime
{
    private NodeOpcUaServer? _server;

    internal async Task<NodeOpcUaServer> GetAsync() => _server ??= await NodeOpcUaServer.StartAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}

internal static class SourceHarness
{
    public static (OpcUaSensorSource Source, RecordingWriter[] Writers) Create(OpcUaOptions options)
    {
        var source = new OpcUaSensorSource(options);
        var writers = source.Channels.Select(static c => new RecordingWriter(c)).ToArray();
        return (source, writers);
    }

    public static OpcUaServerOptions Server(string url, List<OpcUaWaveformOptions> waveforms, List<OpcUaScalarOptions> scalars) => new()
    {
        Waveforms = waveforms,
        Scalars = scalars,
        Name = "test",
        EndpointUrl = url,

        // server.js offers SecurityPolicy None only (secure-server.js for the security tests).
        SecurityPolicy = "None",
        AllowSecurityPolicyNone = true,
        PublishingIntervalMs = 50,
        KeepAliveCount = 10,
        ConnectTimeoutMs = 2000,
        RequestTimeoutMs = 5000,
        ReconnectInitialDelayMs = 100,
        ReconnectMaxDelayMs = 1000,
    };

    public static IReadOnlyList<ChannelDescriptor> Channels(OpcUaSensorSource source) => source.Channels;
}
