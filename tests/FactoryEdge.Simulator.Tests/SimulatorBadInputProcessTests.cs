using System.Net;
using System.Net.Sockets;
using FactoryEdge.Simulator.Tests.Support;

namespace FactoryEdge.Simulator.Tests;

/// <summary>Bad input to the real process: a clear message naming the option or file, and a non-zero exit code.</summary>
[Trait("Category", "Integration")]
public sealed class SimulatorBadInputProcessTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fe-sim-bad");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Recording_MissingFile_ExitThreeNamingOptionAndFile()
    {
        var path = Path.Combine(_temp.FullName, "nowhere.csv");

        var (code, stdout, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--recording", path);

        Assert.Equal(3, code);
        Assert.Contains("--recording", stderr, StringComparison.Ordinal);
        Assert.Contains("nowhere.csv", stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recording_CorruptCsv_ExitThreeNamingFileAndLine()
    {
        var path = Path.Combine(_temp.FullName, "corrupt.csv");
        await File.WriteAllTextAsync(path, "# sampling_rate_hz=1000 units=g\n0.1\n0.2\n0.3abc\n0.4\n");

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--recording", path, "--block", "2");

        Assert.Equal(3, code);
        Assert.Contains("corrupt.csv", stderr, StringComparison.Ordinal);
        Assert.Contains("line 4", stderr, StringComparison.Ordinal);
        Assert.Contains("'0.3abc' is not a number", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recording_TruncatedWav_ExitThreeNamingFile()
    {
        var path = Path.Combine(_temp.FullName, "cut.wav");
        var bytes = FactoryEdge.Recordings.WavWriter.ToBytes(8000, [new float[4000]], FactoryEdge.Recordings.WavSampleFormat.Pcm16);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length - 100)]);

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--machine", $"name=rig,recording={path}");

        Assert.Equal(3, code);
        Assert.Contains("machine 'rig': recording", stderr, StringComparison.Ordinal);
        Assert.Contains("cut.wav", stderr, StringComparison.Ordinal);
        Assert.Contains("truncated", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_NotJson_ExitThreeNamingFile()
    {
        var path = Path.Combine(_temp.FullName, "machines.json");
        await File.WriteAllTextAsync(path, "{ machines: [ oops");

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--config", path);

        Assert.Equal(3, code);
        Assert.Contains("--config", stderr, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rpm -5", "--rpm must be in (0, 100000]")]
    [InlineData("--rpm abc", "--rpm")]
    [InlineData("--fault bent-shaft", "--fault 'bent-shaft' is not one of none, outer-race")]
    [InlineData("--severity 11", "--severity must be in [0, 10]")]
    [InlineData("--port 70000", "--port 70000 is out of range")]
    [InlineData("--unit 300", "--unit 300 is out of range")]
    [InlineData("--order XYZW", "--order 'XYZW' is not one of ABCD")]
    [InlineData("--pace fast", "--pace 'fast' is not one of realtime, on-read")]
    [InlineData("--speed 0", "--speed 0 is out of range")]
    [InlineData("--pace on-read --speed 2", "--speed applies to --pace realtime")]
    [InlineData("--fault-exception 300", "--fault-exception: '300' is not an exception code")]
    [InlineData("--fault-exception 2@70000", "--fault-exception: '70000' is not a register address")]
    [InlineData("--bind nothost", "--bind 'nothost' is not an IP address")]
    [InlineData("--block 0", "--block (machine 'healthy') must be 1–32000 samples (was 0)")]
    [InlineData("--rate 25600 --block 2048 --period 0.01", "--period must be at least the block's duration")]
    [InlineData("--bearing 9999", "--bearing '9999' is not in the catalogue")]
    [InlineData("--channel 1", "--channel applies to a recording")]
    [InlineData("--machine name=a,rpm=fast", "--machine 'name=a,rpm=fast': rpm='fast' is not a number")]
    [InlineData("--machine name=a,colour=red", "unknown key 'colour'")]
    [InlineData("--machine a --machine a", "machine name 'a' is used twice")]
    [InlineData("--machine name=a,unit=2 --machine name=b,unit=2", "unit 2 is used by machines 'a' and 'b'")]
    [InlineData("--log-level loud", "--log-level 'loud'")]
    [InlineData("--no-such-option", "--no-such-option")]
    public async Task Options_BadValue_ExitTwoWithMessageNamingIt(string arguments, string expected)
    {
        string[] port = arguments.Contains("--port", StringComparison.Ordinal) ? [] : ["--port", "0"];
        var (code, stdout, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, ["modbus", .. port, .. arguments.Split(' ')]);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recording_WithGeneratorOption_ExitTwo()
    {
        var path = Path.Combine(_temp.FullName, "ok.csv");
        await File.WriteAllTextAsync(path, "# sampling_rate_hz=1000\n" + string.Join('\n', Enumerable.Repeat("0.5", 100)) + "\n");

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--recording", path, "--fault", "ball");

        Assert.Equal(2, code);
        Assert.Contains("--fault applies to a generated machine, not to --recording", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recording_ChannelOutOfRange_ExitTwoNamingChannels()
    {
        var path = Path.Combine(_temp.FullName, "mono.csv");
        await File.WriteAllTextAsync(path, "# sampling_rate_hz=1000\n" + string.Join('\n', Enumerable.Repeat("0.5", 100)) + "\n");

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", "0", "--recording", path, "--channel", "2", "--block", "10");

        Assert.Equal(2, code);
        Assert.Contains("--channel 2 does not exist", stderr, StringComparison.Ordinal);
        Assert.Contains("1 channel(s)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSubcommand_ExitTwoWithHint()
    {
        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout);

        Assert.Equal(2, code);
        Assert.Contains("factoryedge-sim --help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_PortInUse_ExitFourNamingEndpoint()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((IPEndPoint)blocker.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(Timeout, "modbus", "--port", port, "--block", "128");

        Assert.Equal(4, code);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }
}
