using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using FactoryEdge.Pipeline;
using FactoryEdge.Recordings;
using FactoryEdge.Tests.Shared;
using FactoryEdge.Training;
using Xunit.Abstractions;

namespace FactoryEdge.Uplink.Tests;

/// <summary>
/// The CWRU recordings through the live pipeline into the uplink (every window sampled), to the
/// reference receiver, and back into training: batch sizes and compression ratios are printed
/// (run with --logger "console;verbosity=detailed").
/// </summary>
public sealed class CwruBatchTests(ITestOutputHelper output)
{
    private static async Task ReplayAsync(string file, UplinkService service, CancellationToken cancellationToken)
    {
        var recording = RecordingReader.Load(file);
        var channels = FeatureReplay.Describe(recording);
        var options = new PipelineOptions { WindowSize = 4096, Overlap = 0.5, Workers = 1, SinkFullMode = SinkFullMode.Wait };
        var pipeline = new SignalPipeline(options, channels, new StatisticalBaselineScorer(options.Baseline), notifiers: [new UplinkAlertTrigger(service)], training: [new UplinkTrainingSink(service)]);
        pipeline.Start();
        try
        {
            var source = new RecordingSource(recording, channels, new RecordingSourceOptions { Pacing = ReplayPacing.AsFastAsPossible });
            await source.RunAsync(pipeline.Writers, cancellationToken);
        }
        finally
        {
            await pipeline.StopAsync(CancellationToken.None);
        }
    }

    [CwruFact]
    public async Task CwruRecordings_ThroughPipelineUplinkAndReceiver_BatchesVerifyAndTrainAModel()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        var options = TestSupport.Options(dir, new Uri(url, "v1/batches").ToString(), o =>
        {
            o.Capture = new CaptureOptions { SampleIntervalSeconds = 0.001, ChannelBytesPerDay = 0, TotalBytesPerDay = 0, PreTriggerWindows = 8, PostTriggerWindows = 8 };
            o.Batch = new BatchOptions { MaxBytes = 8 * 1024 * 1024, MaxAgeSeconds = 3600 };
        });
        await using var service = new UplinkService(options, "gw-cwru", () => "baseline", () => Signal.FeatureSchema.Names(Signal.FeatureExtractorOptions.DefaultBands));
        await service.StartAsync(CancellationToken.None);

        foreach (var name in new[] { TestData.Normal, TestData.InnerRace, TestData.OuterRace, TestData.Ball })
        {
            var before = (service.Counters.RawBytesWritten, service.Counters.FileBytesWritten, service.Counters.BatchesWritten);
            var watch = Stopwatch.StartNew();
            await ReplayAsync(TestData.Cwru(name), service, CancellationToken.None);
            service.Engine.Flush(force: true);
            await TestSupport.WaitUntilAsync(() => service.Counters.BatchesWritten > before.BatchesWritten && service.Spool.ListPending().Count == 0, 120, "the batch of " + name);
            var raw = service.Counters.RawBytesWritten - before.RawBytesWritten;
            var file = service.Counters.FileBytesWritten - before.FileBytesWritten;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {service.Counters.BatchesWritten - before.BatchesWritten} batch(es), raw float32 {raw / 1024.0:0} KiB -> batch file (Encoding Auto, gzip Optimal) {file / 1024.0:0} KiB (ratio {(double)raw / file:0.00}), {watch.Elapsed.TotalSeconds:0.0} s replay+write+upload"));
        }

        var batches = store.Files();
        Assert.Equal(4, batches.Count);
        var windows = 0;
        foreach (var path in batches)
        {
            var bytes = await File.ReadAllBytesAsync(path);
            var batch = BatchFormat.Read(bytes);
            windows += batch.Manifest.Windows.Count;
            Assert.Equal(Path.GetFileNameWithoutExtension(path), BatchFormat.Sha256Hex(bytes));
            Assert.Equal("gw-cwru", batch.Manifest.GatewayId);
            Assert.True(batch.Manifest.EndUtc > batch.Manifest.StartUtc);
            Assert.Equal(4096, batch.Samples(0).Length);

            // The same windows under other encodings, for the figures.
            var payload = new MemoryStream();
            for (var i = 0; i < batch.Manifest.Windows.Count; i++)
            {
                payload.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(batch.Samples(i).AsSpan()));
            }

            var rawLength = payload.Length;
            string Ratio(CompressionLevel level, bool split) =>
                ((double)rawLength / BatchWriter.Write(batch.Manifest, payload.ToArray(), level, split).File.Length).ToString("0.00", CultureInfo.InvariantCulture);
            output.WriteLine($"  {batch.Manifest.Windows.Count} windows x 4096 (50 % overlap, shared samples stored once): ratio plain float32 fastest {Ratio(CompressionLevel.Fastest, false)}, optimal {Ratio(CompressionLevel.Optimal, false)}, smallest {Ratio(CompressionLevel.SmallestSize, false)}; byte-split optimal {Ratio(CompressionLevel.Optimal, true)}");

            // Every other window: no overlap, as periodic samples far apart would be.
            var even = new BatchManifest { FeatureNames = batch.Manifest.FeatureNames, Channels = batch.Manifest.Channels };
            var evenPayload = new MemoryStream();
            for (var i = 0; i < batch.Manifest.Windows.Count; i += 2)
            {
                var w = batch.Manifest.Windows[i];
                even.Windows.Add(new BatchWindow { Channel = w.Channel, FirstSampleIndex = w.FirstSampleIndex, WindowNumber = w.WindowNumber, Samples = w.Samples, Features = w.Features });
                evenPayload.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(batch.Samples(i).AsSpan()));
            }

            string EvenRatio(bool split) =>
                ((double)evenPayload.Length / BatchWriter.Write(even, evenPayload.ToArray(), CompressionLevel.Optimal, split).File.Length).ToString("0.00", CultureInfo.InvariantCulture);
            output.WriteLine($"  {even.Windows.Count} windows without overlap: ratio plain optimal {EvenRatio(false)}, byte-split optimal {EvenRatio(true)}");
        }

        Assert.Equal(service.Counters.CapturedSample + service.Counters.CapturedTrigger, windows);

        // Close the loop: train a model from the received batches of the healthy machine.
        var normalDir = Path.Combine(dir.Path, "normal-batches");
        Directory.CreateDirectory(normalDir);
        foreach (var path in batches.Where(p => BatchFormat.ReadManifest(File.ReadAllBytes(p)).Channels.Any(c => c.Id.Contains("normal", StringComparison.Ordinal))))
        {
            File.Copy(path, Path.Combine(normalDir, Path.GetFileName(path)));
        }

        var model = Path.Combine(dir.Path, "from-batches.onnx");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await TrainCommand.RunAsync(new TrainSettings { Inputs = [], InputBatches = [normalDir], Out = model, NoProgress = true, Version = 1 }, stdout, stderr, CancellationToken.None);
        output.WriteLine(stderr.ToString());
        output.WriteLine(stdout.ToString());
        Assert.Equal(0, code);
        Assert.True(File.Exists(model));
        Assert.Contains("batches:", await File.ReadAllTextAsync(Scoring.ModelFiles.ManifestPath(model)), StringComparison.Ordinal);
    }
}
