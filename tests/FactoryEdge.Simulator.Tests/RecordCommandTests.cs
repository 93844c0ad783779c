using System.Globalization;
using FactoryEdge.Recordings;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Cli;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using FactoryEdge.Simulator.OpcUa;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Simulator.Tests;

/// <summary><c>record</c> over secure OPC UA channels and from a Modbus simulator paced on read.</summary>
public sealed class RecordCommandTests : IDisposable
{
    private const int Block = 2048;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"fe-rec-{Guid.NewGuid():N}");

    public RecordCommandTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Record_ModbusOnReadPacing_BackToBackBlocksWithoutGaps()
    {
        var machines = Machines("name=m,fault=outer-race,seed=5");
        await using var modbus = new ModbusSimulator(new ModbusSimulatorSettings { Port = 0, Pacing = SimulatorPacing.OnRead }, machines, NullLoggerFactory.Instance, TimeProvider.System);
        var endpoint = modbus.Start();
        using var stop = new CancellationTokenSource();
        var pacing = modbus.RunPacingAsync(stop.Token);
        try
        {
            var wav = Path.Combine(_directory, "modbus.wav");
            var output = new StringWriter(CultureInfo.InvariantCulture);
            var error = new StringWriter(CultureInfo.InvariantCulture);

            // 0.5 s at 25.6 kHz: 12800 samples, seven blocks read one after the other (the header read first).
            var code = await RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "modbus://" + endpoint + "/1", Out = wav, Seconds = 0.5, Timeout = TimeSpan.FromSeconds(10) }, output, error, TimeProvider.System, CancellationToken.None);

            Assert.True(code == 0, $"exit {code}: {output}{error}");
            Assert.Contains("0 gap(s)", output.ToString(), StringComparison.Ordinal);
            var samples = RecordingReader.Load(wav).Channels[0].Samples.ToArray();
            Assert.Equal(12800, samples.Length);
            var signal = Signal(machines[0], 64);
            var start = FindBlock(signal, samples);
            Assert.True(start >= 0, "the first block is not a block of the generator's signal");
            Assert.Equal(signal.AsSpan(start, samples.Length).ToArray(), samples);
        }
        finally
        {
            await stop.CancelAsync();
            await TestRuns.Swallow(pacing);
        }
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Record_OpcUaSignAndEncrypt_SameSamplesAsOverNone()
    {
        var machines = Machines("name=m,fault=inner-race,seed=7");
        var signal = Signal(machines[0], 64);
        var none = await RecordOpcUaAsync(machines, SimulatorSecurityMode.All, security: null, accept: false);
        var secure = await RecordOpcUaAsync(machines, SimulatorSecurityMode.All, security: "Basic256Sha256:SignAndEncrypt", accept: true);

        Assert.Equal(0, none.Code);
        Assert.Contains("security: SecurityPolicy None (no --security given", none.Output, StringComparison.Ordinal);
        Assert.True(secure.Code == 0, secure.Output + secure.Error);
        Assert.Contains("security: Basic256Sha256 SignAndEncrypt", secure.Output, StringComparison.Ordinal);

        // 0.3 s (3.75 blocks) each, on-read from a fresh simulator: the same stretch of the same signal, back to back.
        Assert.Equal(7680, secure.Samples.Length);
        var noneStart = FindBlock(signal, none.Samples);
        var secureStart = FindBlock(signal, secure.Samples);
        Assert.True(noneStart >= 0 && secureStart >= 0, $"starts {noneStart}, {secureStart}");
        Assert.Equal(signal.AsSpan(noneStart, none.Samples.Length).ToArray(), none.Samples);
        Assert.Equal(signal.AsSpan(secureStart, secure.Samples.Length).ToArray(), secure.Samples);
        Assert.Equal(noneStart, secureStart);
        Assert.Equal(none.Samples, secure.Samples);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Record_SecureOnlyServerUntrustedCertificate_StrongestEndpointRefusedWithThumbprintAndTrustCommand()
    {
        var machines = Machines("name=m,seed=1");

        var refused = await RecordOpcUaAsync(machines, SimulatorSecurityMode.Secure, security: null, accept: false);

        Assert.Equal(ExitCodes.Certificate, refused.Code);
        Assert.Contains("security: Basic256Sha256 SignAndEncrypt (no --security given and the server offers no None endpoint: the strongest it offers)", refused.Output, StringComparison.Ordinal);
        Assert.Contains("server certificate refused", refused.Error, StringComparison.Ordinal);
        Assert.Matches(@"thumbprint: [0-9A-F]{40}", refused.Error);
        Assert.Contains("factoryedge cert trust ", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--pki " + refused.Pki, refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(refused.File));
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Record_NoneAskedFromSecureOnlyServer_BadInputNamingWhatIsOffered()
    {
        var machines = Machines("name=m,seed=1");

        var result = await RecordOpcUaAsync(machines, SimulatorSecurityMode.Secure, security: "None", accept: false);

        Assert.Equal(ExitCodes.BadInput, result.Code);
        Assert.Contains("Basic256Sha256 SignAndEncrypt", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_BadSecurityOrUserWithoutPassword_UsageError()
    {
        var ex = await Assert.ThrowsAsync<SimulatorUsageException>(() => RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "opc.tcp://127.0.0.1:1", Machine = "m", Out = Path.Combine(_directory, "x.csv"), Security = "Basic999:Sign" }, TextWriter.Null, TextWriter.Null, TimeProvider.System, CancellationToken.None));
        Assert.Contains("unknown policy 'Basic999'", ex.Message, StringComparison.Ordinal);
        ex = await Assert.ThrowsAsync<SimulatorUsageException>(() => RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "opc.tcp://127.0.0.1:1", Machine = "m", Out = Path.Combine(_directory, "x.csv"), UserName = "operator" }, TextWriter.Null, TextWriter.Null, TimeProvider.System, CancellationToken.None));
        Assert.Contains("--user and --password-file go together", ex.Message, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output, string Error, float[] Samples, string Pki, string File)> RecordOpcUaAsync(IReadOnlyList<MachineDefinition> machines, SimulatorSecurityMode mode, string? security, bool accept)
    {
        var settings = SimulatorSecurity.Apply(new OpcUaSimulatorSettings { Port = 0, Pacing = SimulatorPacing.OnRead }, mode, TimeProvider.System);
        await using var opcua = new OpcUaSimulator(settings, machines, NullLoggerFactory.Instance, TimeProvider.System);
        opcua.Start();
        using var stop = new CancellationTokenSource();
        var run = opcua.RunAsync(stop.Token);
        var file = Path.Combine(_directory, $"{Guid.NewGuid():N}.csv");
        var pki = Path.Combine(_directory, "pki");
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        try
        {
            var record = new RecordCommand.RecordSettings
            {
                From = opcua.EndpointUrl, Machine = "m", Out = file, Seconds = 0.3, Timeout = TimeSpan.FromSeconds(15),
                Security = security, AcceptServerCertificate = accept, PkiDirectory = pki,
            };
            var code = await RecordCommand.RunAsync(record, output, error, TimeProvider.System, CancellationToken.None);
            var samples = code == 0 ? RecordingReader.Load(file).Channels[0].Samples.ToArray() : [];
            return (code, output.ToString(), error.ToString(), samples, pki, file);
        }
        finally
        {
            await stop.CancelAsync();
            await TestRuns.Swallow(run);
        }
    }

    private static IReadOnlyList<MachineDefinition> Machines(params string[] specs) =>
        MachineCatalog.Resolve(new MachineSpec(), [.. specs.Select(MachineSpecParser.Parse)]);

    private static float[] Signal(MachineDefinition machine, int blocks)
    {
        var signal = new float[Block * blocks];
        new MachineSignalGenerator(machine.Generator!).Generate(signal);
        return signal;
    }

    private static int FindBlock(float[] signal, float[] samples)
    {
        for (var start = 0; start + Block <= signal.Length; start += Block)
        {
            if (samples.Length >= Block && signal.AsSpan(start, Block).SequenceEqual(samples.AsSpan(0, Block)))
            {
                return start;
            }
        }

        return -1;
    }

}
