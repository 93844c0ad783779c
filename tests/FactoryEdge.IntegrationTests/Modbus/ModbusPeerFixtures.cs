using System.Globalization;

namespace FactoryEdge.IntegrationTests.Modbus;

/// <summary>Our libmodbus C server on a free port (with its waveform writer stepping 16 samples per request).</summary>
public sealed class LibmodbusServerFixture : IDisposable
{
    private PeerProcess? _process;

    public int Port { get; private set; }

    /// <summary>Starts the server on first use (so a missing peer fails or skips only the tests that need it).</summary>
    public async Task<int> EnsureStartedAsync()
    {
        if (_process is not null)
        {
            return Port;
        }

        ModbusPeers.Require(ModbusPeers.Libmodbus);
        (_process, Port) = await StartAsync();
        return Port;
    }

    internal static async Task<(PeerProcess Process, int Port)> StartAsync(params string[] extra)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = ModbusPeers.FreePort();
            string[] args = ["--port", port.ToString(CultureInfo.InvariantCulture), "--wave-base", "5000", "--wave-count", "256", "--wave-period-ms", "40", "--wave-step", "16", "--slow-ms", "300", .. extra];
            var process = new PeerProcess(ModbusPeers.LibmodbusServerPath, args);
            try
            {
                await process.StartAsync(TimeSpan.FromSeconds(10));
                return (process, port);
            }
            catch (Exception) when (attempt < 3)
            {
                process.Dispose();
            }
        }
    }

    public void Dispose() => _process?.Dispose();
}

/// <summary>Debian's pymodbus server (our script) on a free port.</summary>
public sealed class PymodbusServerFixture : IDisposable
{
    private PeerProcess? _process;

    public int Port { get; private set; }

    public async Task<int> EnsureStartedAsync()
    {
        if (_process is not null)
        {
            return Port;
        }

        ModbusPeers.Require(ModbusPeers.Pymodbus);
        for (var attempt = 0; ; attempt++)
        {
            var port = ModbusPeers.FreePort();
            var process = new PeerProcess(ModbusPeers.Python, ModbusPeers.PymodbusScriptPath, port.ToString(CultureInfo.InvariantCulture));
            try
            {
                await process.StartAsync(TimeSpan.FromSeconds(30));
                _process = process;
                Port = port;
                return port;
            }
            catch (Exception) when (attempt < 3)
            {
                process.Dispose();
            }
        }
    }

    public void Dispose() => _process?.Dispose();
}
