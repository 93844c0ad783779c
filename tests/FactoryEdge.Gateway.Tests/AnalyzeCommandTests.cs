using System.Globalization;
using System.Text.Json;
using FactoryEdge.Gateway.Cli;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Gateway.Tests;

public sealed class AnalyzeCommandTests
{
    private static async Task<(int Code, string Out, string Err)> Analyze(AnalyzeSettings settings)
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture);
        var stderr = new StringWriter(CultureInfo.InvariantCulture);
        var code = await AnalyzeCommand.RunAsync(settings, stdout, stderr, NullLoggerFactory.Instance, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static List<JsonElement> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [CwruFact]
    public async Task Analyze_InnerRaceRecordingJson_OneObjectPerWindowWithBpfiLine()
    {
        var (code, output, _) = await Analyze(new AnalyzeSettings { Input = TestData.Cwru(TestData.InnerRace), Json = true });
        Assert.Equal(0, code);
        var lines = Lines(output);
        Assert.Equal(((243938 - 4096) / 2048) + 1, lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            Assert.Equal(i * 2048 / 48000.0, lines[i].GetProperty("start_s").GetDouble(), 5);
            Assert.Equal(JsonValueKind.Number, lines[i].GetProperty("score").ValueKind);
            Assert.True(lines[i].GetProperty("anomalous").ValueKind is JsonValueKind.True or JsonValueKind.False);
        }

        // After the envelope history has filled (1 s), the BPFI line sits within 2 % of 162.1 Hz.
        var bpfi = lines.Skip(30).Select(l => l.GetProperty("env_bpfi_hz").GetDouble()).OrderBy(v => v).ToList();
        var median = bpfi[bpfi.Count / 2];
        Assert.InRange(median, 162.1 * 0.98, 162.1 * 1.02);
    }

    [CwruFact]
    public async Task Analyze_SameInputTwice_ByteIdenticalOutput()
    {
        var settings = new AnalyzeSettings { Input = TestData.Cwru(TestData.OuterRace), Json = true };
        var first = await Analyze(settings);
        var second = await Analyze(settings);
        Assert.Equal(0, first.Code);
        Assert.Equal(first.Out, second.Out);
        Assert.True(first.Out.Length > 1000);
    }

    [CwruFact]
    public async Task Analyze_FaultAgainstNormalBaseline_FlagsMostWindowsAnomalous()
    {
        var (code, output, _) = await Analyze(new AnalyzeSettings
        {
            Input = TestData.Cwru(TestData.OuterRace),
            Baseline = TestData.Cwru(TestData.Normal),
            Json = true,
        });
        Assert.Equal(0, code);
        var lines = Lines(output);
        Assert.All(lines, l => Assert.False(l.GetProperty("warming_up").GetBoolean()));
        var anomalous = lines.Count(l => l.GetProperty("anomalous").GetBoolean());
        Assert.True(anomalous > lines.Count * 0.9, $"{anomalous} of {lines.Count} outer-race windows anomalous");
    }

    [CwruFact]
    public async Task Analyze_NormalAgainstItsOwnBaseline_FewAnomalies()
    {
        var (code, output, _) = await Analyze(new AnalyzeSettings
        {
            Input = TestData.Cwru(TestData.Normal),
            Baseline = TestData.Cwru(TestData.Normal),
            Json = true,
        });
        Assert.Equal(0, code);
        var lines = Lines(output);
        var anomalous = lines.Count(l => l.GetProperty("anomalous").GetBoolean());
        Assert.True(anomalous <= lines.Count * 0.02, $"{anomalous} of {lines.Count} normal windows anomalous");
    }

    [Fact]
    public async Task Analyze_NonNumericValue_ErrorNamesFileAndLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fe-bad-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, "# sampling_rate_hz=1000 units=g\n0.1\n0.2\nabc\n0.3\n");
        try
        {
            var (code, output, error) = await Analyze(new AnalyzeSettings { Input = path, Json = true });
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Equal(string.Empty, output);
            Assert.Contains("line 4", error, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(Path.GetFileName(path), error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Analyze_MissingFile_ClearErrorNonZero()
    {
        var (code, _, error) = await Analyze(new AnalyzeSettings { Input = "/nonexistent/recording.csv" });
        Assert.NotEqual(0, code);
        Assert.Contains("recording.csv", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Analyze_NaNSamples_ReportedAsHealthNotError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fe-nan-{Guid.NewGuid():N}.csv");
        var lines = new List<string> { "# sampling_rate_hz=8192 units=g rpm_measured=1500" };
        for (var i = 0; i < 8192 * 3; i++)
        {
            lines.Add(i is >= 9000 and < 9010 ? "NaN" : (0.1 * Math.Sin(2 * Math.PI * 25 * i / 8192.0)).ToString("R", CultureInfo.InvariantCulture));
        }

        await File.WriteAllLinesAsync(path, lines);
        try
        {
            var (code, output, _) = await Analyze(new AnalyzeSettings { Input = path, Json = true, WindowSize = 4096, Overlap = 0 });
            Assert.Equal(0, code);
            var windows = Lines(output);
            Assert.Equal(6, windows.Count);
            var flagged = windows.Where(w => w.GetProperty("health").EnumerateArray().Any(h => h.GetString() == "NonFinite")).ToList();
            Assert.Single(flagged);
            Assert.Equal(8192 / 8192.0, flagged[0].GetProperty("start_s").GetDouble(), 6);
            Assert.False(flagged[0].GetProperty("scored").GetBoolean());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
