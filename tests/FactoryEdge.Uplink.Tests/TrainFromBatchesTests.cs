using System.IO.Compression;
using FactoryEdge.Training;

namespace FactoryEdge.Uplink.Tests;

public sealed class TrainFromBatchesTests
{
    private static readonly string[] Schema = Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands);

    private static void WriteBatch(string folder, CaptureReason reason, bool anomalous = false, int windows = 3)
    {
        var manifest = new BatchManifest { GatewayId = "gw", FeatureNames = [.. Schema], Channels = [new BatchChannel { Id = TestSupport.ChannelA.ToString(), SampleRateHz = TestSupport.SampleRate, Unit = "g" }] };
        using var payload = new MemoryStream();
        for (var n = 0; n < windows; n++)
        {
            var (_, samples) = TestSupport.Window(0, TestSupport.ChannelA, n, seed: (int)reason);
            manifest.Windows.Add(new BatchWindow { Channel = 0, Reason = reason, Anomalous = anomalous, WindowNumber = n, FirstSampleIndex = n * 1024L, MachineState = 1, Samples = samples.Length, Features = new float[Schema.Length] });
            payload.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
        }

        var (file, hash) = BatchWriter.Write(manifest, payload.ToArray(), CompressionLevel.Fastest, byteSplit: false);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, Convert.ToHexStringLower(hash) + BatchFormat.FileExtension), file);
    }

    [Fact]
    public void Load_KeepsOnlyNormalSamples_SkipsCorruptFilesNamingThem()
    {
        using var dir = new TempDir();
        WriteBatch(dir.Path, CaptureReason.Sample);
        WriteBatch(dir.Path, CaptureReason.Trigger, anomalous: true);
        WriteBatch(Path.Combine(dir.Path, "sub"), CaptureReason.Sample, anomalous: true);
        File.WriteAllText(Path.Combine(dir.Path, "broken.feb"), "FEB1 garbage");

        var loaded = BatchTrainingInputs.Load([dir.Path], Schema);

        Assert.Equal(3, loaded.Files);
        Assert.Equal(9, loaded.Windows);
        Assert.Equal(3, loaded.Used);
        var input = Assert.Single(loaded.Inputs);
        Assert.Equal(3, input.PrecomputedFeatures!.Count);
        Assert.Contains(loaded.Problems, p => p.Contains("broken.feb", StringComparison.Ordinal));
        Assert.Equal([1024], loaded.WindowSizes);
    }

    [Fact]
    public async Task Train_BatchesOfAnotherWindowSize_IsAUsageError()
    {
        using var dir = new TempDir();
        WriteBatch(dir.Path, CaptureReason.Sample);
        var stderr = new StringWriter();

        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [], InputBatches = [dir.Path], Out = Path.Combine(dir.Path, "m.onnx"), NoProgress = true }, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(TrainCommand.Usage, code);
        Assert.Contains("1024-sample windows, --window is 4096", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_NoNormalSamples_ExitsBadInput()
    {
        using var dir = new TempDir();
        WriteBatch(dir.Path, CaptureReason.Trigger, anomalous: true);
        var stderr = new StringWriter();

        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [], InputBatches = [dir.Path], Out = Path.Combine(dir.Path, "m.onnx"), NoProgress = true }, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(TrainCommand.BadInput, code);
        Assert.Contains("no usable normal samples", stderr.ToString(), StringComparison.Ordinal);
    }
}
