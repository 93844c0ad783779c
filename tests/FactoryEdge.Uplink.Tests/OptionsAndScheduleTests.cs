using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Uplink.Tests;

public sealed class OptionsAndScheduleTests
{
    private static IServiceProvider Compose(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFactoryEdgeUplink(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void AddFactoryEdgeUplink_DisabledByDefault_RegistersNoSinkOrTrigger()
    {
        var provider = Compose([]);

        Assert.Empty(provider.GetServices<ITrainingWindowSink>());
        Assert.Empty(provider.GetServices<IAlertNotifier>());
        Assert.False(provider.GetRequiredService<IOptions<UplinkOptions>>().Value.Enabled);
    }

    [Fact]
    public void AddFactoryEdgeUplink_Enabled_RegistersSinkTriggerAndService()
    {
        using var dir = new TempDir();
        var provider = Compose(new()
        {
            ["FactoryEdge:Uplink:Enabled"] = "true",
            ["FactoryEdge:Uplink:Upload:Url"] = "https://ingest.example.com/v1/batches",
            ["FactoryEdge:Uplink:Spool:Path"] = dir.Path,
            ["FactoryEdge:Uplink:Encryption:KeyFile"] = TestSupport.WriteKeyFile(dir),
            ["FactoryEdge:Uplink:Upload:Windows:0"] = "22:00-06:00",
        });

        Assert.Equal("uplink", Assert.Single(provider.GetServices<ITrainingWindowSink>()).Name);
        Assert.Equal("uplink-trigger", Assert.Single(provider.GetServices<IAlertNotifier>()).Name);
        Assert.Equal(["22:00-06:00"], provider.GetRequiredService<IOptions<UplinkOptions>>().Value.Upload.Windows);
    }

    [Fact]
    public void Validate_BadValues_NameEachKey()
    {
        var options = new UplinkOptions
        {
            Enabled = true,
            Capture = new CaptureOptions { PreTriggerWindows = -1, SampleShareOfBudget = 2 },
            Batch = new BatchOptions { Compression = "zip", Encoding = "zstd" },
            Encryption = new EncryptionOptions { KeyFile = "", KeyEnv = "" },
            Upload = new UploadOptions { Url = "ftp://x", Target = UplinkTargetKind.S3, Windows = ["night"] },
        };

        var result = new UplinkOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var key in new[] { "Capture:PreTriggerWindows", "Capture:SampleShareOfBudget", "Batch:Compression", "Batch:Encoding", "Encryption:KeyFile", "Upload:Url", "Upload:Bucket", "Upload:Windows:0" })
        {
            Assert.Contains("FactoryEdge:Uplink:" + key, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_MissingKeyFileTokenFileAndS3Credentials_NamedAtStart()
    {
        var options = new UplinkOptions
        {
            Enabled = true,
            Encryption = new EncryptionOptions { KeyFile = "/nonexistent/uplink.key" },
            Upload = new UploadOptions
            {
                Url = "https://s3.example.com",
                Target = UplinkTargetKind.S3,
                Bucket = "b",
                TokenFile = "/nonexistent/token",
                AccessKeyEnv = "FE_TEST_UNSET_" + Guid.NewGuid().ToString("N"),
                SecretKeyEnv = "FE_TEST_UNSET_" + Guid.NewGuid().ToString("N"),
            },
        };

        var message = new UplinkOptionsValidator().Validate(null, options).FailureMessage;

        Assert.Contains("FactoryEdge:Uplink:Encryption:KeyFile: file '/nonexistent/uplink.key' not found", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Uplink:Upload:TokenFile", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Uplink:Upload:AccessKeyEnv", message, StringComparison.Ordinal);
        Assert.Contains("FactoryEdge:Uplink:Upload:SecretKeyEnv", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Disabled_AcceptsAnything()
    {
        Assert.True(new UplinkOptionsValidator().Validate(null, new UplinkOptions { Upload = new UploadOptions { Url = "" } }).Succeeded);
    }

    [Fact]
    public void Bind_UnknownKey_IsAnError()
    {
        var provider = Compose(new() { ["FactoryEdge:Uplink:Captur:PreTriggerWindows"] = "3" });

        Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<UplinkOptions>>().Value);
    }

    [Theory]
    [InlineData("22:00-06:00", 23, true)]
    [InlineData("22:00-06:00", 3, true)]
    [InlineData("22:00-06:00", 12, false)]
    [InlineData("01:00-04:00", 2, true)]
    [InlineData("01:00-04:00", 4, false)]
    public void Schedule_IsOpen_HandlesWindowsAcrossMidnight(string window, int hour, bool open)
    {
        var schedule = new UploadSchedule([window], TimeProvider.System);

        Assert.Equal(open, schedule.IsOpen(TimeSpan.FromHours(hour)));
    }

    [Fact]
    public async Task TokenBucket_MoreThanABurst_WaitsForTheClock()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(100_000, time); // burst 100 KB

        await bucket.AcquireAsync(100_000, CancellationToken.None); // the burst: at once
        var next = bucket.AcquireAsync(50_000, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(next.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(0.5));
        await next.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Backoff_GrowsExponentiallyWithJitter_CappedAndHonoursRetryAfter()
    {
        using var dir = new TempDir();
        var options = TestSupport.Options(dir, "http://127.0.0.1:9/", o =>
        {
            o.Upload.InitialRetryDelaySeconds = 1;
            o.Upload.MaxRetryDelaySeconds = 60;
        });
        var service = new UplinkService(options, "gw");

        for (var attempt = 0; attempt < 10; attempt++)
        {
            var d = Math.Min(60, Math.Pow(2, attempt));
            var delay = service.Backoff(attempt, null).TotalSeconds;
            Assert.InRange(delay, d / 2, d);
        }

        Assert.Equal(30, service.Backoff(0, TimeSpan.FromSeconds(30)).TotalSeconds, 3);
    }
}
