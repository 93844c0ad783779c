using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace FactoryEdge.Uplink.Tests;

/// <summary>The reference receiver's contract, spoken to directly.</summary>
public sealed class ReceiverTests
{
    private static byte[] Batch()
    {
        var manifest = new BatchManifest { GatewayId = "gw-r", Channels = [new BatchChannel { Id = "a/b/c/d/x" }] };
        var (result, samples) = TestSupport.Window(0, TestSupport.ChannelA, 1);
        manifest.Windows.Add(new BatchWindow { Channel = 0, Samples = samples.Length, Features = result.Features });
        return BatchWriter.Write(manifest, System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()), CompressionLevel.Fastest, true).File;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, Uri url, byte[] body, string key)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(BatchFormat.MediaType);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "v1/batches")) { Content = content };
        request.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Post_SameBatchTwice_StoresOnce_AnswersDuplicate()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        using var client = new HttpClient();
        var body = Batch();
        var key = BatchFormat.Sha256Hex(body);

        using var first = await PostAsync(client, url, body, key);
        using var second = await PostAsync(client, url, body, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("duplicate", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, store.Stats().Stored);
        Assert.Equal(body, await File.ReadAllBytesAsync(Assert.Single(store.Files())));
        Assert.EndsWith(Path.Combine("batches", "gw-r", key + ".feb"), store.Files()[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_KeyNotTheBodysHash_Is422AndNotStored()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        using var client = new HttpClient();
        var body = Batch();

        using var response = await PostAsync(client, url, body, Convert.ToHexStringLower(SHA256.HashData("other"u8)));

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("does not match", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, store.Stats().Stored);
    }

    [Fact]
    public async Task Post_NotABatch_Is422NamingTheProblem()
    {
        using var dir = new TempDir();
        var (app, store, url) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app;
        using var client = new HttpClient();
        var body = "FEB1 but not really"u8.ToArray();

        using var response = await PostAsync(client, url, body, BatchFormat.Sha256Hex(body));

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("not a valid batch", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, store.Stats().Rejected);
    }

    [Fact]
    public async Task Receiver_Restarted_StillKnowsStoredKeys()
    {
        using var dir = new TempDir();
        var body = Batch();
        var key = BatchFormat.Sha256Hex(body);
        using var client = new HttpClient();
        var (app1, _, url1) = await TestSupport.StartReceiverAsync(dir);
        await using (app1)
        {
            using var r = await PostAsync(client, url1, body, key);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var (app2, store2, url2) = await TestSupport.StartReceiverAsync(dir);
        await using var _ = app2;
        using var again = await PostAsync(client, url2, body, key);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(0, store2.Stats().Stored);
        Assert.Equal(1, store2.Stats().Duplicates);
    }

    [Fact]
    public async Task Upload_BatchTheReceiverRejects_IsQuarantinedWithTheAnswer()
    {
        using var dir = new TempDir();
        var (app, _, url) = await TestSupport.StartReceiverAsync(dir);
        await using var __ = app;
        var rejecting = new RejectingTarget();
        var options = TestSupport.Options(dir, new Uri(url, "v1/batches").ToString(), o => o.Capture.SampleIntervalSeconds = 0.1);
        await using var service = new UplinkService(options, "gw", target: rejecting);
        await service.StartAsync(CancellationToken.None);
        for (var n = 0; n < 16; n++)
        {
            var (result, samples) = TestSupport.Window(0, TestSupport.ChannelA, n);
            await new UplinkTrainingSink(service).WriteAsync(result, samples, CancellationToken.None);
        }

        await TestSupport.WaitUntilAsync(() => service.Counters.Quarantined == 1, 30, "the rejected batch quarantined");
        var reason = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(service.Spool.QuarantineDirectory, "*.reason.txt")));
        Assert.Contains("rejected by the receiver: HTTP 413", reason, StringComparison.Ordinal);
        Assert.Empty(service.Spool.ListPending());
    }

    private sealed class RejectingTarget : IBatchTarget
    {
        public string Name => "rejecting";

        public Task<UploadResult> UploadAsync(UploadItem item, TokenBucket? throttle, CancellationToken cancellationToken) =>
            Task.FromResult(new UploadResult(UploadOutcome.Rejected, "HTTP 413 too large"));

        public void Dispose()
        {
        }
    }
}

public sealed class AllocationTests
{
    [Fact]
    public void OnWindow_NotCaptured_AllocatesNothingAfterTheRingIsFull()
    {
        var options = new UplinkOptions { Capture = new CaptureOptions { SampleIntervalSeconds = 0, PreTriggerWindows = 8, TriggerSlackWindows = 8 } };
        var engine = new CaptureEngine(options, TimeProvider.System, "gw", () => "m", () => TestSupport.FeatureNames, _ => null, _ => { });
        var windows = Enumerable.Range(0, 200).Select(n => TestSupport.Window(n % 2, n % 2 == 0 ? TestSupport.ChannelA : TestSupport.ChannelB, n / 2)).ToArray();
        for (var i = 0; i < 100; i++)
        {
            engine.OnWindow(windows[i].Result, windows[i].Samples); // warm-up: ring slots are created
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 100; i < 200; i++)
        {
            engine.OnWindow(windows[i].Result, windows[i].Samples);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
