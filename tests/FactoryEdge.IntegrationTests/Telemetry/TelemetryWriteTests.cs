using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FactoryEdge.Telemetry;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Transport;
using Microsoft.Extensions.Logging;

namespace FactoryEdge.IntegrationTests.Telemetry;

/// <summary>Points written by our writers and read back from the real servers, value for value.</summary>
[Trait("Category", "Integration")]
public sealed class TelemetryWriteTests
{
    private const int Channels = 4;
    private const int WindowsPerChannel = 500;
    private const int Alerts = 5;

    private static async Task<(long BaseTicks, TelemetryStatistics Stats)> WriteAll(TelemetryOptions options, int day)
    {
        var baseTicks = Synthetic.BaseTicks(day);
        await using var service = new TelemetryService(options, () => Synthetic.FeatureNames);
        await service.StartAsync(CancellationToken.None);
        for (var n = 0; n < WindowsPerChannel; n++)
        {
            for (var c = 0; c < Channels; c++)
            {
                service.WriteWindow(Synthetic.Window(c, n, baseTicks));
            }
        }

        for (var a = 0; a < Alerts; a++)
        {
            Assert.True(service.WriteAlert(Synthetic.Alert(a % Channels, a, baseTicks)));
        }

        service.Flush();
        await Synthetic.WaitDelivered(service, (Channels * WindowsPerChannel) + Alerts, TimeSpan.FromSeconds(60));
        var stats = service.GetStatistics();
        await service.StopAsync(CancellationToken.None);
        return (baseTicks, stats);
    }

    [TelemetryPeerFact(TelemetryPeers.VictoriaMetrics)]
    public async Task V2_VictoriaMetrics_NPointsReadBackWithExactValues()
    {
        await using var vm = await VictoriaMetricsServer.LaunchAsync();
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var (baseTicks, stats) = await WriteAll(Synthetic.Options(spool, vm.Url, v1: false, "plant"), day: 1);
            Assert.Equal(Channels * WindowsPerChannel + Alerts, stats.SentLines);
            Assert.Equal(0, stats.SpooledLines - Alerts); // write-behind: only the alerts touched the disk

            foreach (var (feature, f) in Synthetic.FeatureNames.Select((name, i) => (name, i)))
            {
                var series = await vm.ExportAsync($"fe_window_{feature}");
                Assert.Equal(Channels, series.Count);
                foreach (var s in series)
                {
                    var channel = int.Parse(s.Metric["machine"][1..], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(("plant", "line-1", "de", "x"), (s.Metric["site"], s.Metric["line"], s.Metric["sensor"], s.Metric["axis"]));
                    Assert.Equal(WindowsPerChannel, s.Values.Count);
                    for (var n = 0; n < WindowsPerChannel; n++)
                    {
                        // VictoriaMetrics keeps milliseconds; our points are 40 ms apart.
                        Assert.Equal((Synthetic.Ticks(baseTicks, n) - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond, s.Timestamps[n]);
                        Assert.Equal(Synthetic.Feature(channel, n, f), (float)s.Values[n]);
                    }
                }
            }

            var scores = await vm.ExportAsync("fe_alert_score");
            Assert.Equal(Alerts, scores.Sum(s => s.Values.Count));
            Assert.All(scores, s => Assert.Equal("critical", s.Metric["severity"]));
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    public async Task V1_InfluxDb_NPointsReadBackWithExactValues()
    {
        await using var influx = await InfluxDbServer.LaunchAsync("plant");
        var spool = Synthetic.TempFile("spool.db");
        try
        {
            var (baseTicks, stats) = await WriteAll(Synthetic.Options(spool, influx.Url, v1: true, "plant"), day: 2);
            Assert.Equal(Channels * WindowsPerChannel + Alerts, stats.SentLines);
            var series = await influx.SelectAsync("SELECT * FROM fe_window GROUP BY *", "plant");
            Assert.Equal(Channels, series.Count);
            foreach (var s in series)
            {
                var channel = int.Parse(s.Tags["machine"][1..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal(WindowsPerChannel, s.Rows.Count);
                for (var n = 0; n < WindowsPerChannel; n++)
                {
                    var row = s.Rows[n];
                    Assert.Equal((Synthetic.Ticks(baseTicks, n) - DateTime.UnixEpoch.Ticks) * 100, row["time"].GetInt64());
                    Assert.Equal(n, row["window"].GetInt64());
                    for (var f = 0; f < Synthetic.FeatureNames.Length; f++)
                    {
                        Assert.Equal(Synthetic.Feature(channel, n, f), (float)row[Synthetic.FeatureNames[f]].GetDouble());
                    }

                    Assert.Equal((float)(1 + (n % 5)), (float)row["score"].GetDouble());
                    Assert.False(row["anomalous"].GetBoolean());
                }
            }

            var alerts = await influx.SelectAsync("SELECT alert_id, message, score FROM fe_alert GROUP BY *", "plant");
            var rows = alerts.SelectMany(a => a.Rows).ToList();
            Assert.Equal(Alerts, rows.Count);
            for (var a = 0; a < Alerts; a++)
            {
                var expected = Synthetic.Alert(a % Channels, a, baseTicks);
                var row = Assert.Single(rows, r => r["alert_id"].GetString() == expected.AlertId);
                Assert.Equal(expected.Message, row["message"].GetString());
                Assert.Equal(expected.Score, (float)row["score"].GetDouble());
            }
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb, TelemetryPeers.VictoriaMetrics)]
    public async Task SameBatchTwice_InfluxDbOverwrites_VictoriaMetricsKeepsDuplicates()
    {
        // A replay after a crash (acknowledged but not yet deleted from the spool) sends the same
        // series, fields and timestamps again: InfluxDB overwrites, so replays are idempotent.
        await using var influx = await InfluxDbServer.LaunchAsync("replay");
        await using var vm = await VictoriaMetricsServer.LaunchAsync();
        var encoder = new PointEncoder(Synthetic.FeatureNames);
        using var lines = new LineProtocolWriter();
        var baseTicks = Synthetic.BaseTicks(3);
        for (var n = 0; n < 100; n++)
        {
            encoder.WriteWindow(lines, Synthetic.Window(0, n, baseTicks));
        }

        using var v1 = new InfluxV1Transport(new InfluxOptions { Url = influx.Url, Api = "v1", Database = "replay" }, TimeProvider.System);
        using var v2 = new InfluxV2Transport(new InfluxOptions { Url = vm.Url, Org = "o", Bucket = "b", TokenEnv = "" });
        for (var attempt = 0; attempt < 2; attempt++)
        {
            Assert.Equal(WriteStatus.Ok, (await v1.WriteAsync(lines.WrittenMemory, TimestampPrecision.Nanoseconds, CancellationToken.None)).Status);
            Assert.Equal(WriteStatus.Ok, (await v2.WriteAsync(lines.WrittenMemory, TimestampPrecision.Nanoseconds, CancellationToken.None)).Status);
        }

        var influxRows = (await influx.SelectAsync("SELECT rms FROM fe_window", "replay")).Sum(s => s.Rows.Count);
        Assert.Equal(100, influxRows);
        var vmValues = (await vm.ExportAsync("fe_window_rms")).Sum(s => s.Values.Count);
        Assert.Equal(200, vmValues);
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    public async Task V1_InfluxDb_FieldTypeConflict_BatchQuarantinedAndQueueGoesOn()
    {
        await using var influx = await InfluxDbServer.LaunchAsync("conflict");
        // Someone else wrote fe_scalar.value as a string (in the same shard, i.e. the same week): our
        // float values are refused with HTTP 400 "field type conflict".
        var baseTicks = Synthetic.BaseTicks(4);
        var someoneElse = (baseTicks - DateTime.UnixEpoch.Ticks + TimeSpan.TicksPerSecond) * 100;
        using (var http = new HttpClient())
        {
            using var content = new StringContent(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"fe_scalar,site=plant,line=line-1,machine=m00,sensor=temp,axis=t value=\"hot\" {someoneElse}\n"), Encoding.UTF8);
            using var response = await http.PostAsync(influx.Url + "/write?db=conflict", content);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        }

        var spool = Synthetic.TempFile("spool.db");
        using var logs = new CollectingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        try
        {
            await using var service = new TelemetryService(Synthetic.Options(spool, influx.Url, v1: true, "conflict"), () => Synthetic.FeatureNames, TimeProvider.System, loggerFactory);
            await service.StartAsync(CancellationToken.None);
            service.WriteLines((encoder, writer) => encoder.WriteScalar(writer, new FactoryEdge.Core.ChannelId("plant", "line-1", "m00", "temp", "t"), 71.5, baseTicks));
            service.Flush();
            await TelemetryPeers.WaitUntil(() => Task.FromResult(service.GetStatistics().QuarantinedLines == 1), TimeSpan.FromSeconds(30), "the conflicting batch quarantined");
            for (var n = 0; n < 50; n++)
            {
                service.WriteWindow(Synthetic.Window(0, n, baseTicks));
            }

            service.Flush();
            await Synthetic.WaitDelivered(service, 50, TimeSpan.FromSeconds(30));
            Assert.Equal(50, (await influx.SelectAsync("SELECT rms FROM fe_window", "conflict")).Sum(s => s.Rows.Count));
            Assert.Equal(1, service.GetStatistics().Spool.QuarantinedLines);
            Assert.Contains(logs.Messages, m => m.Contains("rejected 1 points", StringComparison.Ordinal) && m.Contains("field type conflict", StringComparison.Ordinal));
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.VictoriaMetrics)]
    public async Task V2_VictoriaMetrics_CorruptSpoolAtStart_MovedAsideAndDataStillFlows()
    {
        await using var vm = await VictoriaMetricsServer.LaunchAsync();
        var spool = Synthetic.TempFile("spool.db");
        Directory.CreateDirectory(Path.GetDirectoryName(spool)!);
        var garbage = new byte[64 * 1024];
        new Random(5).NextBytes(garbage);
        Encoding.ASCII.GetBytes("SQLite format 3\0").CopyTo(garbage, 0); // a header, then noise
        await File.WriteAllBytesAsync(spool, garbage);
        using var logs = new CollectingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        try
        {
            var baseTicks = Synthetic.BaseTicks(5);
            await using var service = new TelemetryService(Synthetic.Options(spool, vm.Url, v1: false, "plant", mode: "Durable"), () => Synthetic.FeatureNames, TimeProvider.System, loggerFactory);
            await service.StartAsync(CancellationToken.None);
            for (var n = 0; n < 100; n++)
            {
                service.WriteWindow(Synthetic.Window(1, n, baseTicks));
            }

            await Synthetic.WaitDelivered(service, 100, TimeSpan.FromSeconds(30));
            Assert.NotNull(service.CorruptSpoolMovedTo);
            Assert.True(File.Exists(service.CorruptSpoolMovedTo));
            Assert.Equal(garbage, await File.ReadAllBytesAsync(service.CorruptSpoolMovedTo));
            Assert.Contains(logs.Messages, m => m.Contains("is corrupt", StringComparison.Ordinal) && m.Contains(service.CorruptSpoolMovedTo, StringComparison.Ordinal));
            Assert.Equal(100, (await vm.ExportAsync("fe_window_rms")).Sum(s => s.Values.Count));
        }
        finally
        {
            Synthetic.DeleteTempFile(spool);
        }
    }

    [TelemetryPeerFact(TelemetryPeers.InfluxDb)]
    public async Task V1_InfluxDbOverHttps_CaFileTrusted_UntrustedRefused()
    {
        var dir = Path.GetDirectoryName(Synthetic.TempFile("x"))!;
        Directory.CreateDirectory(dir);
        try
        {
            // A self-signed certificate for 127.0.0.1; InfluxDB reads certificate and key from one PEM.
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=influx-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using var certificate = request.CreateSelfSigned(now.AddYears(-1), now.AddYears(5));
            var pem = Path.Combine(dir, "influx.pem");
            await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem() + "\n" + key.ExportRSAPrivateKeyPem() + "\n");
            var ca = Path.Combine(dir, "ca.pem");
            await File.WriteAllTextAsync(ca, certificate.ExportCertificatePem());

            await using var influx = await InfluxDbServer.LaunchHttpsAsync(pem, "tls");
            var lines = Encoding.UTF8.GetBytes("fe_window,site=plant,line=line-1,machine=m00,sensor=de,axis=x rms=1.25 1000000000\n");
            using var untrusted = new InfluxV1Transport(new InfluxOptions { Url = influx.HttpsUrl, Api = "v1", Database = "tls" }, TimeProvider.System);
            var refused = await untrusted.WriteAsync(lines, TimestampPrecision.Nanoseconds, CancellationToken.None);
            Assert.Equal(WriteStatus.Unavailable, refused.Status);
            using var trusted = new InfluxV1Transport(new InfluxOptions { Url = influx.HttpsUrl, Api = "v1", Database = "tls", CaFile = ca }, TimeProvider.System);
            var accepted = await trusted.WriteAsync(lines, TimestampPrecision.Nanoseconds, CancellationToken.None);
            Assert.Equal(WriteStatus.Ok, accepted.Status);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Collects formatted log messages.</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CollectingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._messages)
            {
                owner._messages.Add(formatter(state, exception));
            }
        }
    }
}
