using System.IO.Compression;

namespace FactoryEdge.Uplink.Tests;

public sealed class BatchFormatTests
{
    private static (BatchManifest Manifest, byte[] Payload, float[][] Windows) Sample(int windows = 3)
    {
        var manifest = new BatchManifest
        {
            GatewayId = "gw-1",
            ModelId = "pump@v3",
            FeatureNames = [.. TestSupport.FeatureNames],
            Channels = [new BatchChannel { Id = TestSupport.ChannelA.ToString(), SampleRateHz = TestSupport.SampleRate, Unit = "g" }],
        };
        var data = new float[windows][];
        using var payload = new MemoryStream();
        for (var i = 0; i < windows; i++)
        {
            var (result, samples) = TestSupport.Window(0, TestSupport.ChannelA, i);
            data[i] = samples;
            manifest.Windows.Add(new BatchWindow { Channel = 0, Reason = CaptureReason.Sample, WindowNumber = i, Features = result.Features, Samples = samples.Length, Score = float.NaN });
            payload.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
        }

        return (manifest, payload.ToArray(), data);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Write_ThenRead_GivesBackManifestAndExactSamples(bool byteSplit)
    {
        var (manifest, payload, data) = Sample();
        var (file, hash) = BatchWriter.Write(manifest, payload, CompressionLevel.Optimal, byteSplit);

        var batch = BatchFormat.Read(file);

        Assert.Equal(Convert.ToHexStringLower(hash), BatchFormat.Sha256Hex(file));
        Assert.Equal("gw-1", batch.Manifest.GatewayId);
        Assert.Equal("pump@v3", batch.Manifest.ModelId);
        Assert.Equal(byteSplit ? BatchFormat.EncodingByteSplit : BatchFormat.EncodingPlain, batch.Manifest.SampleEncoding);
        Assert.Equal(3, batch.Manifest.Windows.Count);
        Assert.True(float.IsNaN(batch.Manifest.Windows[0].Score));
        for (var i = 0; i < data.Length; i++)
        {
            Assert.Equal(data[i], batch.Samples(i));
        }

        if (byteSplit)
        {
            // Noisy float32 hardly compresses as is; split into byte planes the exponents do.
            Assert.True(file.Length < payload.Length, $"compressed {file.Length} B, raw {payload.Length} B");
        }
    }

    [Fact]
    public void Read_FlippedPayloadByte_ThrowsNamingTheProblem()
    {
        var (manifest, payload, _) = Sample();
        var (file, _) = BatchWriter.Write(manifest, payload, CompressionLevel.Optimal, byteSplit: true);
        file[^20] ^= 0x55; // inside the gzip stream (its CRC or data)

        var ex = Assert.ThrowsAny<Exception>(() => BatchFormat.Read(file));
        Assert.True(ex is InvalidDataException, ex.GetType().Name + ": " + ex.Message);
    }

    [Fact]
    public void Read_TruncatedFile_ThrowsInvalidData()
    {
        var (manifest, payload, _) = Sample();
        var (file, _) = BatchWriter.Write(manifest, payload, CompressionLevel.Optimal, byteSplit: true);

        Assert.Throws<InvalidDataException>(() => BatchFormat.Read(file.AsSpan(0, file.Length / 2)));
        Assert.Throws<InvalidDataException>(() => BatchFormat.Read(file.AsSpan(0, 6)));
    }

    [Fact]
    public void Read_ForeignFile_SaysItIsNotABatch()
    {
        var ex = Assert.Throws<InvalidDataException>(() => BatchFormat.Read("hello, world"u8));
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SameContentTwice_GivesTheSameHash()
    {
        var (m1, p1, _) = Sample();
        var (m2, p2, _) = Sample();
        var created = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        m1.CreatedUtc = created;
        m2.CreatedUtc = created;

        Assert.Equal(BatchWriter.Write(m1, p1, CompressionLevel.Optimal, true).Sha256, BatchWriter.Write(m2, p2, CompressionLevel.Optimal, true).Sha256);
    }
}

public sealed class BatchRunTests
{
    [Fact]
    public void Write_OverlappingWindows_StoresSharedSamplesOnce_AndReadsEachWindowBack()
    {
        // One stream, windows of 1024 with 50 % overlap on channel 0, interleaved with channel 1.
        var stream = Enumerable.Range(0, 8192).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        var manifest = new BatchManifest { Channels = [new BatchChannel { Id = "a" }, new BatchChannel { Id = "b" }] };
        using var payload = new MemoryStream();
        var expected = new List<float[]>();
        for (var n = 0; n < 6; n++)
        {
            foreach (var channel in new[] { 0, 1 })
            {
                var samples = stream.AsSpan(n * 512, 1024).ToArray();
                if (channel == 1)
                {
                    samples = [.. samples.Select(x => -x)];
                }

                manifest.Windows.Add(new BatchWindow { Channel = channel, FirstSampleIndex = n * 512, WindowNumber = n, Samples = 1024 });
                payload.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
                expected.Add(samples);
            }
        }

        var (file, _) = BatchWriter.Write(manifest, payload.ToArray(), CompressionLevel.Optimal, byteSplit: true);
        var batch = BatchFormat.Read(file);

        Assert.Equal(2, batch.Manifest.Runs.Count);
        Assert.Equal(2 * (512 * 7) * 4, batch.Manifest.PayloadBytes); // 3584 samples per channel instead of 6 × 1024
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], batch.Samples(i));
        }
    }

    [Fact]
    public void Write_SameIndicesDifferentSamples_StartsANewRun()
    {
        var manifest = new BatchManifest { Channels = [new BatchChannel { Id = "a" }] };
        var first = Enumerable.Repeat(1f, 1024).ToArray();
        var second = Enumerable.Repeat(2f, 1024).ToArray();
        manifest.Windows.Add(new BatchWindow { Channel = 0, FirstSampleIndex = 0, Samples = 1024 });
        manifest.Windows.Add(new BatchWindow { Channel = 0, FirstSampleIndex = 512, Samples = 1024 });
        var payload = System.Runtime.InteropServices.MemoryMarshal.AsBytes(first.AsSpan()).ToArray().Concat(System.Runtime.InteropServices.MemoryMarshal.AsBytes(second.AsSpan()).ToArray()).ToArray();

        var batch = BatchFormat.Read(BatchWriter.Write(manifest, payload, CompressionLevel.Fastest, byteSplit: false).File);

        Assert.Equal(2, batch.Manifest.Runs.Count);
        Assert.Equal(first, batch.Samples(0));
        Assert.Equal(second, batch.Samples(1));
    }
}
