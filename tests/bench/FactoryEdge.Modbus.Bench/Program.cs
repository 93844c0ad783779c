using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Core;

namespace FactoryEdge.Modbus.Bench;

/// <summary>
/// Block-read throughput and latency on loopback (125 registers per read), with and without
/// pipelining, against our server and the libmodbus C server, with libmodbus's synchronous client
/// as the reference in the same run; then a 200-device plant polled at its configured rates.
/// </summary>
internal static class Program
{
    private const int Registers = 125;

    public static async Task<int> Main(string[] args)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var plantSeconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        var peers = FindPeers();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# Modbus benchmark ({Environment.ProcessorCount} cores, .NET {Environment.Version}, {seconds} s per row)"));
        Console.WriteLine();
        Console.WriteLine("| client | server | in flight | reads/s | p50 µs | p99 µs |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");

        var bank = new ModbusRegisterBank();
        for (var i = 0; i < Registers; i++)
        {
            // The libmodbus peer's pattern, so that every reply can be checked the same way.
            bank.SetRegister(ModbusTable.HoldingRegisters, (ushort)i, i < 100 ? (ushort)((i * 7) + 3) : (ushort)0);
        }

        await using (var ours = new ModbusServer(bank))
        {
            ours.Start();
            await Warmup(ours.Port);
            Row("FactoryEdge", "FactoryEdge", 1, await Measure(ours.Port, 1, seconds));
            Row("FactoryEdge", "FactoryEdge", 4, await Measure(ours.Port, 4, seconds));
            Row("FactoryEdge", "FactoryEdge", 16, await Measure(ours.Port, 16, seconds));
            if (peers is not null)
            {
                Row("libmodbus (C, sync)", "FactoryEdge", 1, RunLibmodbusClient(peers, ours.Port, seconds));
            }
        }

        if (peers is not null)
        {
            var port = FreePort();
            using var server = Process.Start(new ProcessStartInfo(Path.Combine(peers, "modbus_server"), ["--port", port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
            server.StandardOutput.ReadLine();
            try
            {
                await Warmup(port);
                Row("FactoryEdge", "libmodbus (C)", 1, await Measure(port, 1, seconds));
                Row("FactoryEdge", "libmodbus (C)", 4, await Measure(port, 4, seconds));
                Row("FactoryEdge", "libmodbus (C)", 16, await Measure(port, 16, seconds));
                Row("libmodbus (C, sync)", "libmodbus (C)", 1, RunLibmodbusClient(peers, port, seconds));
            }
            finally
            {
                server.Kill();
                server.WaitForExit();
            }
        }
        else
        {
            Console.WriteLine("(libmodbus peers not built: run tests/peers/modbus/install.sh for the reference rows)");
        }

        Console.WriteLine();
        if (plantSeconds > 0)
        {
            await Plant.RunAsync(plantSeconds);
        }

        return 0;
    }

    private static void Row(string client, string server, int inFlight, Result result) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {client} | {server} | {inFlight} | {result.Rate:0} | {result.P50:0} | {result.P99:0} |"));

    private static async Task Warmup(int port) => await Measure(port, 4, 1);

    private static async Task<Result> Measure(int port, int inFlight, double seconds)
    {
        await using var client = new ModbusClient(new ModbusClientOptions { Port = port, MaxInFlight = inFlight, RequestTimeout = TimeSpan.FromSeconds(2) });
        await client.ConnectAsync();
        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var latencies = new List<double>[inFlight];
        var workers = new Task[inFlight];
        var start = Stopwatch.GetTimestamp();
        for (var w = 0; w < inFlight; w++)
        {
            var list = latencies[w] = new List<double>(1 << 16);
            workers[w] = Task.Run(async () =>
            {
                var buffer = new ushort[Registers];
                while (true)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    if (t0 >= end)
                    {
                        return;
                    }

                    buffer[99] = 0;
                    await client.ReadHoldingRegistersAsync(1, 0, buffer);
                    list.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                    if (buffer[99] != (99 * 7) + 3)
                    {
                        throw new InvalidOperationException("Wrong data in a reply.");
                    }
                }
            });
        }

        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        if (client.Statistics.Responses < all.Length || client.Statistics.Timeouts > 0)
        {
            throw new InvalidOperationException("Responses and completed reads disagree.");
        }

        Array.Sort(all);
        return new Result(all.Length / elapsed, Percentile(all, 0.5), Percentile(all, 0.99));
    }

    private static Result RunLibmodbusClient(string peers, int port, double seconds)
    {
        var info = new ProcessStartInfo(Path.Combine(peers, "modbus_bench"), ["127.0.0.1", port.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture), Registers.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info)!;
        var line = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('='))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        return new Result(fields["rate"], fields["p50_us"], fields["p99_us"]);
    }

    internal static double Percentile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindPeers()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var bin = Path.Combine(dir.FullName, "tests", "peers", "modbus", "bin");
            if (File.Exists(Path.Combine(bin, "modbus_server")) && File.Exists(Path.Combine(bin, "modbus_bench")))
            {
                return bin;
            }
        }

        return null;
    }

    private readonly record struct Result(double Rate, double P50, double P99);
}

/// <summary>
/// 200 simulated devices (our server, one port each) answering in 5–50 ms with 5 % of requests
/// never answered, polled by the Modbus source at their configured rates (200 ms – 1 s).
/// </summary>
internal static class Plant
{
    public static async Task RunAsync(double seconds)
    {
        const int Devices = 200;
        var random = new Random(42);
        var servers = new List<ModbusServer>();
        var options = new ModbusOptions();
        int[] intervals = [200, 250, 500, 1000];
        for (var d = 0; d < Devices; d++)
        {
            var bank = new ModbusRegisterBank();
            bank.SetValue(ModbusTable.HoldingRegisters, 0, 2.5, new ModbusValueFormat(ModbusDataType.Float32));
            var server = new ModbusServer(bank);
            var delay = TimeSpan.FromMilliseconds(5 + random.Next(46));
            server.Faults.Random = new Random(d);
            server.Faults.DropReplyProbability = 0.05;
            server.Faults.ResponseDelay = delay;
            server.Start();
            servers.Add(server);
            options.Devices.Add(new ModbusDeviceOptions
            {
                Name = "dev" + d.ToString(CultureInfo.InvariantCulture),
                Host = "127.0.0.1",
                Port = server.Port,
                PollIntervalMs = intervals[d % intervals.Length],
                TimeoutMs = 120,
                Points =
                [
                    new ModbusPointOptions { Channel = $"plant/l/m{d}/p/rms", Address = 0, Type = "float32" },
                    new ModbusPointOptions { Channel = $"plant/l/m{d}/p/temp", Address = 2, Type = "int16", Scale = 0.1 },
                    new ModbusPointOptions { Channel = $"plant/l/m{d}/p/speed", Address = 3, Type = "uint16" },
                ],
            });
        }

        var source = new ModbusSensorSource(options);
        var writers = source.Channels.Select(c => new CountingWriter(c)).ToArray();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var watch = Stopwatch.StartNew();
        await source.RunAsync(writers, cts.Token);
        var elapsed = watch.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var stats = source.Statistics;
        var expected = options.Devices.Sum(d => seconds * 1000 / d.PollIntervalMs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"## Plant: {Devices} devices, 5–50 ms responses, 5 % never answered (120 ms timeout), polled every 200 ms – 1 s for {elapsed:0.0} s"));
        Console.WriteLine();
        Console.WriteLine("| polls | expected | on time | skipped slots | failed (timeouts) | samples | CPU | working set |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {stats.Polls} | {expected:0} | {100.0 * stats.PollsOnTime / Math.Max(1, stats.Polls + stats.SkippedSlots):0.00} % | {stats.SkippedSlots} | {stats.FailedPolls} ({100.0 * stats.FailedPolls / Math.Max(1, stats.Polls):0.0} %) | {stats.SamplesWritten} | {100 * cpu / elapsed:0} % of a core | {process.WorkingSet64 / (1024 * 1024)} MiB |"));
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }

    private sealed class CountingWriter(ChannelDescriptor descriptor) : IChannelWriter
    {
        private long _count;

        public ChannelDescriptor Descriptor { get; } = descriptor;

        public long Count => Interlocked.Read(ref _count);

        public bool TryWrite(in SampleBlock block)
        {
            Interlocked.Add(ref _count, block.Samples.Length);
            return true;
        }

        public void Write(in SampleBlock block, CancellationToken cancellationToken) => TryWrite(block);

        public void MarkGap()
        {
        }
    }
}
