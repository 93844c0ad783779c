using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FactoryEdge.Core;
using FactoryEdge.Receiver;
using Microsoft.AspNetCore.Builder;

namespace FactoryEdge.Uplink.Tests;

/// <summary>Windows, keys, folders and receivers for the tests.</summary>
internal static class TestSupport
{
    public static readonly ChannelId ChannelA = new("plant", "line-1", "pump-1", "de", "x");
    public static readonly ChannelId ChannelB = new("plant", "line-1", "pump-2", "de", "x");
    public static readonly string[] FeatureNames = ["rms", "peak", "kurtosis"];
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    public const int WindowSize = 1024;
    public const double SampleRate = 10240; // a window every 0.1 s (no overlap)

    /// <summary>Window n of a channel: source time Start + n × 0.1 s, noise samples.</summary>
    public static (WindowResult Result, float[] Samples) Window(int channelIndex, ChannelId channel, long n, bool anomalous = false, ChannelHealthFlags health = ChannelHealthFlags.None, int seed = 0)
    {
        var result = new WindowResult(FeatureNames.Length)
        {
            ChannelIndex = channelIndex,
            Channel = channel,
            FirstSampleIndex = n * WindowSize,
            WindowSize = WindowSize,
            SampleRateHz = SampleRate,
            WindowNumber = n,
            Health = health,
            MachineState = MachineState.Running,
            Score = anomalous ? 9 : 1,
            Threshold = 6,
            Anomalous = anomalous,
        };
        result.Timestamps.SourceStartTicks = Start.UtcTicks + (n * TimeSpan.TicksPerSecond / 10);
        result.Features[0] = 0.1f + n;
        result.Features[1] = 0.3f;
        result.Features[2] = 3f;
        var random = new Random((int)n + (1000 * channelIndex) + seed);
        var samples = new float[WindowSize];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)((Math.Sin(2 * Math.PI * 50 * i / SampleRate) * 0.5) + ((random.NextDouble() - 0.5) * 0.05));
        }

        return (result, samples);
    }

    public static Alert Alert(ChannelId channel, long n, AlertState state = AlertState.Raised) => new()
    {
        AlertId = "alert-" + channel.Machine + "-" + n,
        Channel = channel,
        State = state,
        Severity = AlertSeverity.Warning,
        SourceTime = new DateTimeOffset(Start.UtcTicks + (n * TimeSpan.TicksPerSecond / 10), TimeSpan.Zero),
        Score = 9,
        Threshold = 6,
        ModelId = "baseline",
        Message = "test",
    };

    public static byte[] Key { get; } = RandomNumberGenerator.GetBytes(32);

    public static string KeyBase64 => Convert.ToBase64String(Key);

    /// <summary>A per-test key file (tests run in parallel: no shared environment variable).</summary>
    public static string WriteKeyFile(TempDir dir)
    {
        var path = Path.Combine(dir.Path, "uplink.key");
        File.WriteAllBytes(path, Key);
        return path;
    }

    public static UplinkOptions Options(TempDir dir, string url, Action<UplinkOptions>? configure = null)
    {
        var options = new UplinkOptions
        {
            Enabled = true,
            Capture = new CaptureOptions { PreTriggerWindows = 3, PostTriggerWindows = 2, SampleIntervalSeconds = 0, ChannelBytesPerDay = 0, TotalBytesPerDay = 0 },
            Batch = new BatchOptions { MaxBytes = 64 * 1024, MaxAgeSeconds = 3600 },
            Spool = new UplinkSpoolOptions { Path = Path.Combine(dir.Path, "spool") },
            Encryption = new EncryptionOptions { Enabled = true, KeyFile = WriteKeyFile(dir) },
            Upload = new UploadOptions { Url = url, InitialRetryDelaySeconds = 0.01, MaxRetryDelaySeconds = 0.2, PollSeconds = 0.05, TimeoutSeconds = 5 },
        };
        configure?.Invoke(options);
        return options;
    }

    public static async Task<(WebApplication App, ReceiverStore Store, Uri Url)> StartReceiverAsync(TempDir dir, Action<ReceiverOptions>? configure = null, X509Certificate2? certificate = null, X509Certificate2? clientCa = null)
    {
        var options = new ReceiverOptions { Directory = Path.Combine(dir.Path, "received") };
        configure?.Invoke(options);
        var app = ReceiverApp.BuildLoopback(options, certificate, clientCa);
        await app.StartAsync().ConfigureAwait(false);
        var store = (ReceiverStore)app.Services.GetService(typeof(ReceiverStore))!;
        return (app, store, ReceiverApp.BaseUrl(app));
    }

    /// <summary>Waits (polling, real time) until <paramref name="condition"/> holds or fails after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, double seconds, string what)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (started.Elapsed.TotalSeconds > seconds)
            {
                Assert.Fail($"timed out after {seconds} s waiting for {what}");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Self-signed CA and a server certificate for 127.0.0.1/localhost signed by it.</summary>
    public static (X509Certificate2 Ca, X509Certificate2 Server) CreateCertificates(string commonName = "localhost")
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=FactoryEdge Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UnixEpoch.AddYears(56); // 2026, without the host clock
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(commonName);
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = request.Create(ca, now.AddDays(-1), now.AddYears(5), [1, 2, 3, 4]);
        var server = X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);
        return (ca, server);
    }

    public static string WritePem(TempDir dir, string name, X509Certificate2 certificate, bool withKey = false)
    {
        var path = Path.Combine(dir.Path, name + ".pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        if (withKey)
        {
            File.WriteAllText(Path.Combine(dir.Path, name + ".key.pem"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }

        return path;
    }
}

/// <summary>A temporary folder removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fe-uplink-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
