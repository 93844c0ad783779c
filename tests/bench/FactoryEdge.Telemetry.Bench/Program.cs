using System.Diagnostics;
using System.Globalization;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Telemetry.LineProtocol;
using FactoryEdge.Telemetry.Spool;
using FactoryEdge.Telemetry.Transport;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Telemetry.Bench;

/// <summary>
/// Telemetry figures for docs/performance.md. Sections (all by default): serialize, servers, spool,
/// disk, outage. Each prints a markdown table.
/// </summary>
internal static class Program
{
    /// <summary>12 features + score, threshold, anomalous, warming_up, health, machine_state, clock, window = 20 fields.</summary>
    private static readonly string[] Features = [.. Enumerable.Range(0, 12).Select(i => string.Create(CultureInfo.InvariantCulture, $"feature_{i:00}"))];

    private static readonly long BaseTicks = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    public static async Task<int> Main(string[] args)
    {
        var sections = args.Length > 0 ? args.ToHashSet(StringComparer.OrdinalIgnoreCase) : ["serialize", "servers", "spool", "disk", "outage"];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# Telemetry benchmark ({Environment.ProcessorCount} cores, .NET {Environment.Version}; 20-field points)"));
        if (sections.Contains("serialize"))
        {
            Serialize();
        }

        if (sections.Contains("servers"))
        {
            await Servers();
        }

        if (sections.Contains("spool"))
        {
            Sizes();
            SpoolAppend();
        }

        if (sections.Contains("disk"))
        {
            await DiskPerDay();
        }

        if (sections.Contains("outage"))
        {
            await Outage();
        }

        return 0;
    }

    private static WindowResult Window(int channel, long n)
    {
        var r = new WindowResult(Features.Length)
        {
            ChannelIndex = channel,
            Channel = new ChannelId("plant", "line-1", string.Create(CultureInfo.InvariantCulture, $"machine-{channel:0000}"), "de", "x"),
            WindowNumber = n,
            Score = 1.25f + (n % 7),
            Threshold = 6,
            MachineState = MachineState.Running,
        };
        for (var i = 0; i < Features.Length; i++)
        {
            r.Features[i] = (float)((n * 0.0137) + (i * 1.01) + (channel * 0.5) + 0.001);
        }

        r.Timestamps.SourceStartTicks = BaseTicks + (n * TimeSpan.TicksPerSecond) + (channel * 1000);
        return r;
    }

    private static PointData NaivePoint(WindowResult r)
    {
        var c = r.Channel;
        var p = PointData.Measurement(TelemetrySchema.WindowMeasurement)
            .Tag("site", c.Site).Tag("line", c.Line).Tag("machine", c.Machine).Tag("sensor", c.Sensor).Tag("axis", c.Axis);
        for (var i = 0; i < Features.Length; i++)
        {
            p = p.Field(Features[i], r.Features[i]);
        }

        return p.Field("score", r.Score).Field("threshold", r.Threshold).Field("anomalous", r.Anomalous).Field("warming_up", r.WarmingUp)
            .Field("health", (long)r.Health).Field("machine_state", (long)r.MachineState).Field("clock", (long)r.Clock).Field("window", r.WindowNumber)
            .Timestamp((r.Timestamps.SourceStartTicks - DateTime.UnixEpoch.Ticks) * 100, WritePrecision.Ns);
    }

    private static void Serialize()
    {
        const int Points = 200_000;
        var windows = Enumerable.Range(0, 1000).Select(i => Window(i % 100, i)).ToArray();
        var encoder = new PointEncoder(Features);
        using var writer = new LineProtocolWriter(4 * 1024 * 1024);
        for (var i = 0; i < 20_000; i++)
        {
            if (writer.Length > 3_000_000)
            {
                writer.Clear();
            }

            encoder.WriteWindow(writer, windows[i % windows.Length]);
        }

        writer.Clear();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Points; i++)
        {
            if (writer.Length > 3_000_000)
            {
                writer.Clear();
            }

            encoder.WriteWindow(writer, windows[i % windows.Length]);
        }

        var ours = watch.Elapsed;
        var oursBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;

        for (var i = 0; i < 5000; i++)
        {
            _ = NaivePoint(windows[i % windows.Length]).ToLineProtocol();
        }

        allocated = GC.GetAllocatedBytesForCurrentThread();
        watch.Restart();
        long chars = 0;
        for (var i = 0; i < Points / 4; i++)
        {
            chars += NaivePoint(windows[i % windows.Length]).ToLineProtocol().Length;
        }

        var naive = watch.Elapsed;
        var naiveBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine();
        Console.WriteLine("## Line protocol encoding (one thread, in memory)");
        Console.WriteLine();
        Console.WriteLine("| encoder | points/s | µs/point | bytes allocated/point |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| FactoryEdge PointEncoder → pooled UTF-8 buffer | {Points / ours.TotalSeconds:N0} | {ours.TotalMicroseconds / Points:0.00} | {oursBytes / (double)Points:0.0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| InfluxDB.Client PointData + ToLineProtocol() | {Points / 4 / naive.TotalSeconds:N0} | {naive.TotalMicroseconds / (Points / 4):0.00} | {naiveBytes / (double)(Points / 4):0} |"));
        GC.KeepAlive(chars);
    }

    private static async Task Servers()
    {
        Console.WriteLine();
        Console.WriteLine("## Points/s to the servers (loopback, 100 series, batches of 5000, acknowledged)");
        Console.WriteLine();
        Console.WriteLine("| server | writer | points | seconds | points/s |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var kind in (string[])["victoria-metrics", "influxdb"])
        {
            if (!Peer.Available(kind))
            {
                Console.WriteLine($"| {kind} | (not installed: run tests/peers/influx/install.sh) | | | |");
                continue;
            }

            var points = kind == "influxdb" ? 200_000 : 400_000;
            foreach (var gzip in (bool[])[true, false])
            {
                await using var peer = await Peer.StartAsync(kind);
                var seconds = await OursToServer(peer, points, gzip);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Name(kind)} | FactoryEdge writer ({(kind == "influxdb" ? "v1 /write" : "v2 via InfluxDB.Client")}, gzip {(gzip ? "on" : "off")}) | {points:N0} | {seconds:0.00} | {points / seconds:N0} |"));
            }

            await using (var peer = await Peer.StartAsync(kind))
            {
                var seconds = await NaiveToServer(peer, points);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Name(kind)} | naive PointData writer ({(kind == "influxdb" ? "ToLineProtocol + HttpClient /write" : "InfluxDB.Client WritePointsAsync")}, no gzip) | {points:N0} | {seconds:0.00} | {points / seconds:N0} |"));
            }
        }
    }

    private static string Name(string kind) => kind == "influxdb" ? "InfluxDB 1.6.7" : "VictoriaMetrics 1.79";

    private static TelemetryOptions ServerOptions(Peer peer, string spool, bool gzip, int memory = 2_000_000) => new()
    {
        BatchSize = 5000,
        FlushIntervalMs = 100,
        MemoryBufferLines = memory,
        HealthIntervalSeconds = 0,
        Influx = new InfluxOptions
        {
            Url = peer.Url,
            Api = peer.Kind == "influxdb" ? "v1" : "v2",
            Database = "bench",
            Bucket = "bench",
            Org = "bench",
            TokenEnv = "",
            Gzip = gzip,
            TimeoutMs = 60_000,
            MaxRetryDelayMs = 1000,
        },
        Spool = new SpoolOptions { Path = spool },
    };

    private static async Task<double> OursToServer(Peer peer, int points, bool gzip)
    {
        var spool = TempSpool();
        try
        {
            var windows = Enumerable.Range(0, 100).Select(c => Window(c, 0)).ToArray();
            await using var service = new TelemetryService(ServerOptions(peer, spool, gzip), () => Features);
            await service.StartAsync(CancellationToken.None);
            var watch = Stopwatch.StartNew();
            for (var n = 0; n < points / 100; n++)
            {
                foreach (var w in windows)
                {
                    w.WindowNumber = n;
                    w.Timestamps.SourceStartTicks = BaseTicks + (n * TimeSpan.TicksPerSecond) + (w.ChannelIndex * 1000);
                    service.WriteWindow(w);
                }
            }

            service.Flush();
            while (service.GetStatistics() is var s && (s.SentLines < points || s.MemoryLines > 0 || s.Spool.Lines > 0))
            {
                await Task.Delay(5);
            }

            var seconds = watch.Elapsed.TotalSeconds;
            if (service.GetStatistics().FailedRequests > 0)
            {
                Console.WriteLine("  (note: requests failed during the run: " + service.GetStatistics().LastError + ")");
            }

            await service.StopAsync(CancellationToken.None);
            return seconds;
        }
        finally
        {
            DeleteSpool(spool);
        }
    }

    private static async Task<double> NaiveToServer(Peer peer, int points)
    {
        var windows = Enumerable.Range(0, 100).Select(c => Window(c, 0)).ToArray();
        var watch = Stopwatch.StartNew();
        if (peer.Kind == "influxdb")
        {
            using var http = new HttpClient();
            var batch = new List<string>(5000);
            for (var n = 0; n < points / 100; n++)
            {
                foreach (var w in windows)
                {
                    w.WindowNumber = n;
                    w.Timestamps.SourceStartTicks = BaseTicks + (n * TimeSpan.TicksPerSecond) + (w.ChannelIndex * 1000);
                    batch.Add(NaivePoint(w).ToLineProtocol());
                    if (batch.Count == 5000)
                    {
                        using var content = new StringContent(string.Join('\n', batch), Encoding.UTF8);
                        (await http.PostAsync(peer.Url + "/write?db=bench&precision=ns", content)).EnsureSuccessStatusCode();
                        batch.Clear();
                    }
                }
            }
        }
        else
        {
            using var client = new InfluxDBClient(new InfluxDBClientOptions(peer.Url) { Org = "bench", Bucket = "bench", Timeout = TimeSpan.FromSeconds(60) });
            var write = client.GetWriteApiAsync();
            var batch = new List<PointData>(5000);
            for (var n = 0; n < points / 100; n++)
            {
                foreach (var w in windows)
                {
                    w.WindowNumber = n;
                    w.Timestamps.SourceStartTicks = BaseTicks + (n * TimeSpan.TicksPerSecond) + (w.ChannelIndex * 1000);
                    batch.Add(NaivePoint(w));
                    if (batch.Count == 5000)
                    {
                        await write.WritePointsAsync(batch, "bench", "bench");
                        batch.Clear();
                    }
                }
            }
        }

        return watch.Elapsed.TotalSeconds;
    }

    private static void Sizes()
    {
        Console.WriteLine();
        Console.WriteLine("## Point sizes (line protocol, 100 channels, batches of 1000 points)");
        Console.WriteLine();
        Console.WriteLine("| point | bytes/point | gzip (fastest) bytes/point | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (label, names) in new (string, string[])[]
        {
            ("fe_window, 20 fields (12 features)", Features),
            ("fe_window, all 31 features (39 fields)", [.. FactoryEdge.Signal.FeatureSchema.Names(FactoryEdge.Signal.FeatureExtractorOptions.DefaultBands)]),
        })
        {
            var encoder = new PointEncoder(names);
            using var chunk = new LineProtocolWriter(2 * 1024 * 1024);
            var random = new Random(1);
            for (var i = 0; i < 1000; i++)
            {
                var w = new WindowResult(names.Length)
                {
                    Channel = new ChannelId("plant", "line-1", string.Create(CultureInfo.InvariantCulture, $"machine-{i % 100:0000}"), "de", "x"),
                    WindowNumber = i / 100,
                    Score = (float)(random.NextDouble() * 5),
                    Threshold = 6,
                };
                for (var f = 0; f < names.Length; f++)
                {
                    w.Features[f] = (float)(random.NextDouble() * Math.Pow(10, random.Next(-2, 4)));
                }

                w.Timestamps.SourceStartTicks = BaseTicks + (i / 100 * TimeSpan.TicksPerSecond) + (i % 100 * 997);
                encoder.WriteWindow(chunk, w);
            }

            var gz = InfluxHttpGzip(chunk.WrittenSpan);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {chunk.Length / 1000.0:0} | {gz / 1000.0:0} | {chunk.Length / (double)gz:0.0}× |"));
        }
    }

    private static int InfluxHttpGzip(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return (int)output.Length;
    }

    private static void SpoolAppend()
    {
        Console.WriteLine();
        Console.WriteLine("## Spool append (SQLite WAL, synchronous=NORMAL unless noted)");
        Console.WriteLine();
        Console.WriteLine("| what | rows | points | seconds | points/s | MB/s of line protocol | disk bytes/point (write_bytes) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var encoder = new PointEncoder(Features);
        using var one = new LineProtocolWriter();
        encoder.WriteWindow(one, Window(1, 1));
        var line = one.WrittenMemory.ToArray();
        using var chunk = new LineProtocolWriter(2 * 1024 * 1024);
        for (var i = 0; i < 1000; i++)
        {
            encoder.WriteWindow(chunk, Window(i % 100, i));
        }

        foreach (var (label, rows, perRow, data, sync) in new (string, int, int, byte[], string)[]
        {
            ("durable, one commit per record", 20_000, 1, line, "Normal"),
            ("durable, one commit per record, synchronous=FULL", 2_000, 1, line, "Full"),
            ("batches of 1000 points (gzip), write-behind spill / embedded store", 400, 1000, chunk.WrittenMemory.ToArray(), "Normal"),
        })
        {
            var path = TempSpool();
            try
            {
                using var spool = SqliteSpool.Open(path, new SpoolOptions { Synchronous = sync });
                var before = DiskIo.Read();
                var watch = Stopwatch.StartNew();
                for (var r = 0; r < rows; r++)
                {
                    spool.Append(RecordKind.Telemetry, data, perRow, r, r, TimestampPrecision.Nanoseconds);
                }

                var seconds = watch.Elapsed.TotalSeconds;
                var after = DiskIo.Read();
                var points = (long)rows * perRow;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {rows:N0} | {points:N0} | {seconds:0.00} | {points / seconds:N0} | {(double)rows * data.Length / seconds / 1e6:0.0} | {(after.WriteBytes - before.WriteBytes) / (double)points:0} |"));
            }
            finally
            {
                DeleteSpool(path);
            }
        }
    }

    /// <summary>A transport that acknowledges at once (or fails), for the disk-bytes runs.</summary>
    private sealed class InstantTransport(bool up) : IInfluxTransport
    {
        public string Description => "instant";

        public Task<WriteResult> WriteAsync(ReadOnlyMemory<byte> lines, TimestampPrecision precision, CancellationToken cancellationToken) =>
            Task.FromResult(up ? WriteResult.Success() : new WriteResult(WriteStatus.Unavailable, 0, null, "down"));

        public void Dispose()
        {
        }
    }

    private static async Task DiskPerDay()
    {
        Console.WriteLine();
        Console.WriteLine("## Bytes written to disk per day (1 point/s per channel; 10 simulated minutes, scaled ×144)");
        Console.WriteLine();
        Console.WriteLine("| mode | channels | write_bytes/day | bytes passed to write()/day | spool file after the run |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var modes = new (string Label, string Mode, bool Server, bool Up, int CommitMs)[]
        {
            ("write-behind, server keeping up", "WriteBehind", true, true, 0),
            ("write-behind, server down (spilling)", "WriteBehind", true, false, 0),
            ("durable, commit per record", "Durable", true, true, 0),
            ("durable, CommitIntervalMs = 1000", "Durable", true, true, 1000),
            ("embedded store (no server)", "WriteBehind", false, true, 0),
        };
        foreach (var channels in (int[])[100, 1000])
        {
            foreach (var m in modes)
            {
                var path = TempSpool();
                try
                {
                    var time = new FakeTimeProvider(new DateTimeOffset(BaseTicks, TimeSpan.Zero));
                    var options = new TelemetryOptions
                    {
                        Mode = m.Mode,
                        BatchSize = 5000,
                        FlushIntervalMs = 1000,
                        MemoryBufferLines = 20_000,
                        HealthIntervalSeconds = 0,
                        Influx = new InfluxOptions { Url = m.Server ? "http://127.0.0.1:1" : "", Bucket = "b", MaxRetryDelayMs = 30_000 },
                        Spool = new SpoolOptions { Path = path, CommitIntervalMs = m.CommitMs, DrainLinesPerSecond = 0 },
                    };
                    var transport = m.Server ? new InstantTransport(m.Up) : null;
                    await using var service = new TelemetryService(options, () => Features, transport, time);
                    service.Initialize();
                    var windows = Enumerable.Range(0, channels).Select(c => Window(c, 0)).ToArray();
                    var before = DiskIo.Read();
                    const int Seconds = 600;
                    for (var s = 0; s < Seconds; s++)
                    {
                        foreach (var w in windows)
                        {
                            w.WindowNumber = s;
                            w.Timestamps.SourceStartTicks = BaseTicks + (s * TimeSpan.TicksPerSecond) + w.ChannelIndex;
                            service.WriteWindow(w);
                        }

                        time.Advance(TimeSpan.FromSeconds(1));
                        for (var round = 0; round < 100 && await service.PumpAsync(CancellationToken.None) == TimeSpan.Zero; round++)
                        {
                        }
                    }

                    var after = DiskIo.Read();
                    var scale = 86_400.0 / Seconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {m.Label} | {channels:N0} | {Human((after.WriteBytes - before.WriteBytes) * scale)} | {Human((after.WriteChars - before.WriteChars) * scale)} | {Human(service.GetStatistics().SpoolFileBytes)} |"));
                }
                finally
                {
                    DeleteSpool(path);
                }
            }
        }
    }

    private static async Task Outage()
    {
        Console.WriteLine();
        Console.WriteLine("## 10-minute outage at 1,000 channels (1 point/s each) drained beside live data");
        Console.WriteLine();
        Console.WriteLine("| server | backlog points | live points/s | DrainLinesPerSecond | drained in s | live points delivered |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        const int Channels = 1000;
        const int OutageSeconds = 600;
        foreach (var kind in (string[])["victoria-metrics", "influxdb"])
        {
            if (!Peer.Available(kind))
            {
                Console.WriteLine($"| {kind} | (not installed) | | | | |");
                continue;
            }

            await using var peer = await Peer.StartAsync(kind);
            var path = TempSpool();
            try
            {
                // The backlog a 10-minute outage leaves: one spilled batch per second of 1000 points.
                var encoder = new PointEncoder(Features);
                using (var spool = SqliteSpool.Open(path, new SpoolOptions()))
                {
                    using var chunk = new LineProtocolWriter(1024 * 1024);
                    var windows = Enumerable.Range(0, Channels).Select(c => Window(c, 0)).ToArray();
                    for (var s = 0; s < OutageSeconds; s++)
                    {
                        chunk.Clear();
                        foreach (var w in windows)
                        {
                            w.WindowNumber = s;
                            w.Timestamps.SourceStartTicks = BaseTicks + (s * TimeSpan.TicksPerSecond) + w.ChannelIndex;
                            encoder.WriteWindow(chunk, w);
                        }

                        spool.Append(RecordKind.Telemetry, chunk.WrittenSpan, chunk.Lines, 0, 0, TimestampPrecision.Nanoseconds);
                    }
                }

                var options = ServerOptions(peer, path, gzip: true, memory: 20_000);
                await using var service = new TelemetryService(options, () => Features);
                await service.StartAsync(CancellationToken.None);
                var live = Enumerable.Range(0, Channels).Select(c => Window(c, 0)).ToArray();
                var watch = Stopwatch.StartNew();
                long second = OutageSeconds;
                while (service.GetStatistics().Spool.Lines > 0 && watch.Elapsed < TimeSpan.FromMinutes(10))
                {
                    // Live data continues: 1000 points every second.
                    if (watch.Elapsed.TotalSeconds >= second - OutageSeconds)
                    {
                        foreach (var w in live)
                        {
                            w.WindowNumber = second;
                            w.Timestamps.SourceStartTicks = BaseTicks + (second * TimeSpan.TicksPerSecond) + w.ChannelIndex;
                            service.WriteWindow(w);
                        }

                        second++;
                    }

                    await Task.Delay(20);
                }

                var drained = watch.Elapsed.TotalSeconds;
                var stats = service.GetStatistics();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Name(kind)} | {Channels * OutageSeconds:N0} | {Channels:N0} | {options.Spool.DrainLinesPerSecond:N0} | {drained:0.0} | {stats.SentLines - stats.DrainedLines:N0} of {(second - OutageSeconds) * Channels:N0} |"));
                await service.StopAsync(CancellationToken.None);
            }
            finally
            {
                DeleteSpool(path);
            }
        }
    }

    private static string Human(double bytes) => bytes switch
    {
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.0} GB"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.0} MB"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:0.0} kB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B"),
    };

    private static string TempSpool() => Path.Combine(Path.GetTempPath(), "fe-bench-spool-" + Guid.NewGuid().ToString("N"), "spool.db");

    private static void DeleteSpool(string path)
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>/proc/self/io: bytes this process caused to be written to storage, and bytes it passed to write().</summary>
internal readonly record struct DiskIo(long WriteBytes, long WriteChars)
{
    public static DiskIo Read()
    {
        long writeBytes = 0, writeChars = 0;
        if (System.IO.File.Exists("/proc/self/io"))
        {
            foreach (var line in System.IO.File.ReadAllLines("/proc/self/io"))
            {
                var parts = line.Split(':', StringSplitOptions.TrimEntries);
                if (parts[0] == "write_bytes")
                {
                    writeBytes = long.Parse(parts[1], CultureInfo.InvariantCulture);
                }
                else if (parts[0] == "wchar")
                {
                    writeChars = long.Parse(parts[1], CultureInfo.InvariantCulture);
                }
            }
        }

        return new DiskIo(writeBytes, writeChars);
    }
}
