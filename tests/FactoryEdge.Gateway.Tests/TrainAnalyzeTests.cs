using System.Globalization;
using System.Text.Json;
using FactoryEdge.Gateway.Cli;
using FactoryEdge.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Gateway.Tests;

/// <summary>The engineer's loop as plain commands: train on a normal recording, then analyze with the model.</summary>
public sealed class TrainAnalyzeTests
{
    [CwruFact]
    public async Task TrainThenAnalyze_ModelFromNormal_FlagsOuterRaceAndKeepsNormalQuiet()
    {
        var dir = Directory.CreateTempSubdirectory("fe-model-");
        try
        {
            var model = await TrainOnCwruNormalAsync(Path.Combine(dir.FullName, "drive-end.onnx"));
            Assert.True(File.Exists(model + ".manifest.json"));

            async Task<List<JsonElement>> Analyze(string input)
            {
                var stdout = new StringWriter(CultureInfo.InvariantCulture);
                var stderr = new StringWriter(CultureInfo.InvariantCulture);
                var code = await AnalyzeCommand.RunAsync(new AnalyzeSettings { Input = input, Model = model, Json = true }, stdout, stderr, NullLoggerFactory.Instance, CancellationToken.None);
                Assert.True(code == 0, stderr.ToString());
                return [.. stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
            }

            var fault = await Analyze(TestData.Cwru(TestData.OuterRace));
            var scoredFault = fault.Where(l => l.GetProperty("scored").GetBoolean()).ToList();
            Assert.NotEmpty(scoredFault);
            Assert.All(fault, l => Assert.StartsWith("drive-end", l.GetProperty("model").GetString(), StringComparison.Ordinal));
            Assert.True(scoredFault.Count(l => l.GetProperty("anomalous").GetBoolean()) >= scoredFault.Count * 0.99, "outer-race windows flagged");

            var normal = await Analyze(TestData.Cwru(TestData.Normal));
            var scoredNormal = normal.Where(l => l.GetProperty("scored").GetBoolean()).ToList();
            Assert.NotEmpty(scoredNormal);
            Assert.True(scoredNormal.Count(l => l.GetProperty("anomalous").GetBoolean()) <= scoredNormal.Count * 0.02, "normal windows flagged");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [CwruFact]
    public async Task Analyze_ModelWithOtherWindow_TakesTheModelsWindowAndHopUnlessGiven()
    {
        var dir = Directory.CreateTempSubdirectory("fe-model-");
        try
        {
            var model = await TrainOnCwruNormalAsync(Path.Combine(dir.FullName, "short.onnx"), windowSize: 2048, overlap: 0.75);

            var stdout = new StringWriter(CultureInfo.InvariantCulture);
            var stderr = new StringWriter(CultureInfo.InvariantCulture);
            var code = await AnalyzeCommand.RunAsync(new AnalyzeSettings { Input = TestData.Cwru(TestData.OuterRace), Model = model, Json = true }, stdout, stderr, NullLoggerFactory.Instance, CancellationToken.None);
            Assert.True(code == 0, stderr.ToString());
            var starts = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("start_s").GetDouble()).ToList();
            Assert.Equal(512 / 48000.0, starts[1] - starts[0], 6); // hop = 2048 × (1 − 0.75)

            stderr = new StringWriter(CultureInfo.InvariantCulture);
            code = await AnalyzeCommand.RunAsync(new AnalyzeSettings { Input = TestData.Cwru(TestData.OuterRace), Model = model, Json = true, WindowSize = 4096 }, TextWriter.Null, stderr, NullLoggerFactory.Instance, CancellationToken.None);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Contains("trained on 2048-sample windows", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Analyze_TamperedModel_RefusedWithReasonAndExitCode()
    {
        var dir = Directory.CreateTempSubdirectory("fe-model-");
        try
        {
            var model = Path.Combine(dir.FullName, "m.onnx");
            await File.WriteAllBytesAsync(model, [1, 2, 3]);
            await File.WriteAllTextAsync(model + ".manifest.json", "{ \"not\": \"a manifest\" }");
            var input = Path.Combine(dir.FullName, "in.csv");
            await File.WriteAllLinesAsync(input, ["# sampling_rate_hz=8192 units=g", .. Enumerable.Range(0, 20000).Select(i => (0.1 * Math.Sin(i * 0.1)).ToString("R", CultureInfo.InvariantCulture))]);
            var stderr = new StringWriter(CultureInfo.InvariantCulture);
            var code = await AnalyzeCommand.RunAsync(new AnalyzeSettings { Input = input, Model = model, Json = true }, TextWriter.Null, stderr, NullLoggerFactory.Instance, CancellationToken.None);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Contains("--model", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>`factoryedge train --input NORMAL --out MODEL [--window --overlap]`, asserted to succeed.</summary>
    private static async Task<string> TrainOnCwruNormalAsync(string model, int windowSize = 4096, double overlap = 0.5)
    {
        var train = await Training.TrainCommand.RunAsync(
            new Training.TrainSettings { Inputs = [TestData.Cwru(TestData.Normal)], Out = model, WindowSize = windowSize, Overlap = overlap, NoProgress = true },
            TextWriter.Null,
            TextWriter.Null,
            CancellationToken.None);
        Assert.Equal(0, train);
        return model;
    }
}
