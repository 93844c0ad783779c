using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Receiver;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace FactoryEdge.Uplink.Tests;

/// <summary>Uploads against the reference receiver, started in-process on a random loopback port.</summary>
public sealed class UploadTests(ITestOutputHelper output)
{
    /// <summary>Feeds windows 0..count-1 of channel A (every window sampled) and seals what is open.</summary>
    private static void Feed(UplinkService service, long from, long count)
    {
        for (var n = from; n < from + count; n++)
        {
            var (result, samples) = TestSupport.Window(0, TestSupport.ChannelA, n);
            new UplinkTrainingSink(service).WriteAsync(result, samples, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        service.Engine.Flush(force: true);
    }

    private static UplinkOptions EveryWindow(TempDir dir, string url, Action<UplinkOptions>? more = null) => TestSupport.Options(dir, url, o =>
    {
        o.Capture.SampleIntervalSeconds = 0.1; // every window (one per 0.1 s of source time)
        more?.Invoke(o);
    });

    /// <summary>Every window number the receiver holds, from its stored batch files.</summary>
    private static List<long> ReceivedWindows(ReceiverStore store) =>
        [.. store.Files().Where(f => f.EndsWith(BatchFormat.FileExtension, StringComparison.Ordinal))
            .SelectMany(f => BatchFormat.Read(File.ReadAllBytes(f)).Manifest.Windows.Select(w => w.WindowNumber))];

    [Fact]
    public async Task Upload_InjectedFaultsAndGatewayRestartMidUpload_EveryWindowArrivesExactlyOnce()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, o => o.Faults = new FaultOptions
        {
            DropRate = 0.1, TimeoutRate = 0.05, FailureRate = 0.1, UnavailableRate = 0.05, LostAckRate = 0.15, SlowRate = 0.1, SlowMilliseconds = 200, Seed = 7,
        });
        await using var _ = app;
        var options = EveryWindow(dir, new Uri(url, "v1/batches").ToString(), o =>
        {
            o.Upload.TimeoutSeconds = 1;
            o.Upload.MaxBytesPerSecond = 400_000; // each ~40 KB batch takes ~0.1 s on the wire: the restart hits one in flight
        });
        const int windows = 400; // 16 windows (64 KB raw) per batch: 25 batches

        var first = new UplinkService(options, "gw-1");
        await first.StartAsync(CancellationToken.None);
        Feed(first, 0, windows);
        await TestSupport.WaitUntilAsync(() => first.Counters.BatchesWritten == 25, 30, "25 batches written");
        await TestSupport.WaitUntilAsync(() => first.Counters.BatchesUploaded >= 5, 60, "5 batches uploaded");
        await first.CrashAsync(); // the gateway dies mid-upload
        var afterCrash = first.Spool.ListPending().Count;

        var watch = Stopwatch.StartNew();
        await using var second = new UplinkService(options, "gw-1");
        await second.StartAsync(CancellationToken.None);
        await TestSupport.WaitUntilAsync(() => second.Spool.ListPending().Count == 0, 120, "the restarted gateway to empty its spool");
        watch.Stop();

        var received = ReceivedWindows(store);
        Assert.True(afterCrash > 0, "the crash should leave batches to resend");
        Assert.Equal(Enumerable.Range(0, windows).Select(i => (long)i), received.Order());
        var stats = store.Stats();
        Assert.Equal(25, stats.Stored);
        Assert.All(stats.WritesPerKey.Values, n => Assert.Equal(1, n));
        Assert.Empty(Directory.EnumerateFiles(second.Spool.QuarantineDirectory));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"faults: {stats.Dropped} dropped, {stats.TimedOut} timed out, {stats.Failed} 500, {stats.Unavailable} 503, {stats.LostAcks} lost acks, {stats.Slowed} slow; duplicates answered {stats.Duplicates}; gateway retries {first.Counters.FailedAttempts + second.Counters.FailedAttempts}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after restart: {second.Counters.BatchesUploaded} batches, {second.Counters.BytesUploaded / 1024.0:0} KiB in {watch.Elapsed.TotalSeconds:0.00} s = {second.Counters.BytesUploaded / 1024.0 / watch.Elapsed.TotalSeconds:0} KiB/s with faults (cap 391 KiB/s)"));
    }

    [Fact]
    public async Task Upload_UncappedWithFaults_AllArriveOnce_PrintsThroughput()
    {
        using var dir = new TempDir();
        var faults = new FaultOptions { DropRate = 0.1, FailureRate = 0.1, UnavailableRate = 0.05, LostAckRate = 0.1, TimeoutRate = 0.02, SlowRate = 0.1, SlowMilliseconds = 100, Seed = 3 };
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, o => o.Faults = faults);
        await using var _ = app;
        var options = EveryWindow(dir, new Uri(url, "v1/batches").ToString(), o =>
        {
            o.Upload.TimeoutSeconds = 0.5;
            o.Upload.MaxRetryDelaySeconds = 0.05;
        });
        await using var service = new UplinkService(options, "gw-1");
        var watch = Stopwatch.StartNew();
        await service.StartAsync(CancellationToken.None);
        Feed(service, 0, 640); // 40 batches

        await TestSupport.WaitUntilAsync(() => service.Counters.BatchesWritten == 40 && service.Spool.ListPending().Count == 0, 120, "40 batches delivered");
        watch.Stop();

        Assert.Equal(Enumerable.Range(0, 640).Select(i => (long)i), ReceivedWindows(store).Order());
        Assert.All(store.Stats().WritesPerKey.Values, n => Assert.Equal(1, n));
        var stats = store.Stats();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"uncapped with faults: 40 batches, {service.Counters.BytesUploaded / 1024.0:0} KiB (write+encrypt+upload) in {watch.Elapsed.TotalSeconds:0.00} s = {service.Counters.BytesUploaded / 1024.0 / watch.Elapsed.TotalSeconds:0} KiB/s, {watch.Elapsed.TotalMilliseconds / 40:0} ms/batch; {service.Counters.FailedAttempts} retries ({stats.Dropped} dropped, {stats.TimedOut} timed out at 0.5 s, {stats.Failed} 500, {stats.Unavailable} 503, {stats.LostAcks} lost acks, {stats.Slowed} slow)"));
    }

    [Fact]
    public async Task Upload_ThroughAwsSdkS3_PathStylePutWithFaults_EachObjectStoredOnce()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, o =>
        {
            o.S3AccessKey = "AKIDTEST";
            o.Faults = new FaultOptions { FailureRate = 0.15, DropRate = 0.1, LostAckRate = 0.2, Seed = 11 };
        });
        await using var _ = app;
        var akEnv = "FE_TEST_S3_AK_" + Guid.NewGuid().ToString("N")[..8];
        var skEnv = "FE_TEST_S3_SK_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(akEnv, "AKIDTEST");
        Environment.SetEnvironmentVariable(skEnv, "secret");
        try
        {
            var options = EveryWindow(dir, url.ToString(), o =>
            {
                o.Upload.Target = UplinkTargetKind.S3;
                o.Upload.Bucket = "training";
                o.Upload.Prefix = "fe";
                o.Upload.AccessKeyEnv = akEnv;
                o.Upload.SecretKeyEnv = skEnv;
            });
            await using var service = new UplinkService(options, "gw-s3");
            await service.StartAsync(CancellationToken.None);
            Feed(service, 0, 160); // 10 batches

            await TestSupport.WaitUntilAsync(() => service.Counters.BatchesWritten == 10 && service.Spool.ListPending().Count == 0, 60, "10 batches through S3");

            var objects = store.Files();
            Assert.Equal(10, objects.Count);
            Assert.All(objects, f => Assert.Matches(@"s3[/\\]training[/\\]fe[/\\]gw-s3[/\\]2026[/\\]11[/\\]26[/\\][0-9a-f]{64}\.feb$", f));
            Assert.All(objects, f => Assert.Equal(Path.GetFileNameWithoutExtension(f), BatchFormat.Sha256Hex(File.ReadAllBytes(f))));
            Assert.Equal(Enumerable.Range(0, 160).Select(i => (long)i), ReceivedWindows(store).Order());
            Assert.All(store.Stats().WritesPerKey.Values, n => Assert.Equal(1, n));
            Assert.Equal(store.Stats().LostAcks, service.Counters.Duplicates);
        }
        finally
        {
            Environment.SetEnvironmentVariable(akEnv, null);
            Environment.SetEnvironmentVariable(skEnv, null);
        }
    }

    [Fact]
    public async Task Upload_CorruptBatchOnDisk_IsQuarantinedWithAClearReason_OthersStillArrive()
    {
        using var dir = new TempDir();
        // First run: the receiver is not there yet, batches stay pending.
        var options = EveryWindow(dir, "http://127.0.0.1:9/v1/batches");
        var first = new UplinkService(options, "gw-1");
        await first.StartAsync(CancellationToken.None);
        Feed(first, 0, 48); // 3 batches
        await TestSupport.WaitUntilAsync(() => first.Counters.BatchesWritten == 3, 30, "3 batches written");
        await first.CrashAsync();
        var pending = first.Spool.ListPending();
        Assert.Equal(3, pending.Count);
        var bytes = await File.ReadAllBytesAsync(pending[1].Path);
        bytes[bytes.Length / 2] ^= 0x40; // a bit flips on the SSD
        await File.WriteAllBytesAsync(pending[1].Path, bytes);

        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        await using var second = new UplinkService(options, "gw-1", target: new HttpBatchTarget(new UploadOptions { Url = new Uri(url, "v1/batches").ToString() }));
        await second.StartAsync(CancellationToken.None);
        await TestSupport.WaitUntilAsync(() => second.Spool.ListPending().Count == 0, 30, "the spool to empty");

        Assert.Equal(2, store.Stats().Stored);
        Assert.Equal(1, second.Counters.Quarantined);
        var quarantined = Directory.GetFiles(second.Spool.QuarantineDirectory, "*.enc");
        Assert.Equal(Path.GetFileName(pending[1].Path), Path.GetFileName(Assert.Single(quarantined)));
        var reason = await File.ReadAllTextAsync(quarantined[0] + ".reason.txt");
        Assert.Contains("AES-GCM authentication failed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_Https_WithCaFileAndToken_Arrives_WithoutTheCa_IsRefusedAndKept()
    {
        using var dir = new TempDir();
        var (ca, server) = TestSupport.CreateCertificates();
        var caFile = TestSupport.WritePem(dir, "ca", ca);
        var tokenFile = Path.Combine(dir.Path, "token");
        await File.WriteAllTextAsync(tokenFile, "s3cr3t\n");
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, o => o.Token = "s3cr3t", server);
        await using var _ = app;
        var endpoint = new Uri(url, "v1/batches").ToString();
        Assert.StartsWith("https://", endpoint, StringComparison.Ordinal);

        // No CA: the self-signed chain is refused; the batch stays pending.
        var untrusting = EveryWindow(dir, endpoint, o => o.Upload.TokenFile = tokenFile);
        var first = new UplinkService(untrusting, "gw-1");
        await first.StartAsync(CancellationToken.None);
        Feed(first, 0, 16);
        await TestSupport.WaitUntilAsync(() => first.Counters.FailedAttempts >= 2, 30, "TLS failures");
        await first.CrashAsync();
        Assert.Equal(0, store.Stats().Stored);
        Assert.Single(first.Spool.ListPending());

        // With the CA file: delivered, with the bearer token.
        var trusting = EveryWindow(dir, endpoint, o =>
        {
            o.Upload.TokenFile = tokenFile;
            o.Upload.CaFile = caFile;
        });
        await using var second = new UplinkService(trusting, "gw-1");
        await second.StartAsync(CancellationToken.None);
        await TestSupport.WaitUntilAsync(() => second.Spool.ListPending().Count == 0, 30, "delivery over HTTPS");
        Assert.Equal(1, store.Stats().Stored);
        Assert.Equal(0, store.Stats().Unauthorized);
    }

    [Fact]
    public async Task Upload_WrongToken_Is401_RetriedNotLost()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, o => o.Token = "right");
        await using var _ = app;
        var tokenFile = Path.Combine(dir.Path, "token");
        await File.WriteAllTextAsync(tokenFile, "wrong");
        await using var service = new UplinkService(EveryWindow(dir, new Uri(url, "v1/batches").ToString(), o => o.Upload.TokenFile = tokenFile), "gw-1");
        await service.StartAsync(CancellationToken.None);
        Feed(service, 0, 16);

        await TestSupport.WaitUntilAsync(() => store.Stats().Unauthorized >= 2, 30, "401s");
        Assert.Single(service.Spool.ListPending());
        Assert.Equal(0, service.Counters.Quarantined);
    }

    [Fact]
    public async Task Upload_ClientCertificate_MutualTls_Arrives()
    {
        using var dir = new TempDir();
        var (ca, server) = TestSupport.CreateCertificates();
        var (_, client) = CreateClientSignedBy(ca);
        var caFile = TestSupport.WritePem(dir, "ca", ca);
        var clientFile = TestSupport.WritePem(dir, "client", client, withKey: true);
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir, null, server, clientCa: ca);
        await using var _ = app;
        await using var service = new UplinkService(EveryWindow(dir, new Uri(url, "v1/batches").ToString(), o =>
        {
            o.Upload.CaFile = caFile;
            o.Upload.ClientCertificateFile = clientFile;
            o.Upload.ClientKeyFile = Path.Combine(dir.Path, "client.key.pem");
        }), "gw-1");
        await service.StartAsync(CancellationToken.None);
        Feed(service, 0, 16);

        await TestSupport.WaitUntilAsync(() => store.Stats().Stored == 1, 30, "delivery with a client certificate");
    }

    private static (X509Certificate2 Ca, X509Certificate2 Client) CreateClientSignedBy(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=gw-1", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        using var signed = request.Create(ca, now.AddDays(-1), now.AddYears(5), [9, 8, 7, 6]);
        return (ca, X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null));
    }

    [Fact]
    public async Task Upload_OutsideTheUploadWindow_WaitsForIt_AlertBatchesGoAnyway()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.Utc);
        var options = EveryWindow(dir, new Uri(url, "v1/batches").ToString(), o =>
        {
            o.Upload.Windows = ["22:00-06:00"];
            o.Capture.SampleIntervalSeconds = 1; // every 10th window
        });
        await using var service = new UplinkService(options, "gw-1", time: time);
        await service.StartAsync(CancellationToken.None);
        Feed(service, 0, 16); // samples 0 and 10: a samples-only batch
        await TestSupport.WaitUntilAsync(() => service.Counters.BatchesWritten == 1, 30, "the samples batch written");
        service.Engine.OnAlert(TestSupport.Alert(TestSupport.ChannelA, 25));
        Feed(service, 16, 16); // 22..27 around the alert (+ samples 20, 30): an alert batch
        await TestSupport.WaitUntilAsync(() => store.Stats().Stored == 1, 30, "the alert batch to go at once");
        await Task.Delay(300);
        Assert.Equal(1, store.Stats().Stored);

        time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 22, 30, 0, TimeSpan.Zero));
        service.Nudge();
        await TestSupport.WaitUntilAsync(() => store.Stats().Stored == 2, 30, "the samples batch at night");
    }

    [Fact]
    public async Task Stop_SealsAndWritesTheOpenBatch_NothingAcceptedIsLost()
    {
        using var dir = new TempDir();
        var options = EveryWindow(dir, "http://127.0.0.1:9/v1/batches", o => o.Batch.MaxAgeSeconds = 3600);
        var service = new UplinkService(options, "gw-1");
        await service.StartAsync(CancellationToken.None);
        for (var n = 0; n < 5; n++)
        {
            var (result, samples) = TestSupport.Window(0, TestSupport.ChannelA, n);
            await new UplinkTrainingSink(service).WriteAsync(result, samples, CancellationToken.None);
        }

        await service.DisposeAsync();

        var pending = Assert.Single(service.Spool.ListPending());
        var plain = BatchEncryption.Load(options.Encryption).Decrypt(await File.ReadAllBytesAsync(pending.Path));
        Assert.Equal(5, BatchFormat.Read(plain).Manifest.Windows.Count);
    }
}
