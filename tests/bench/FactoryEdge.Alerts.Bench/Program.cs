using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Protocol;

namespace FactoryEdge.Alerts.Bench;

/// <summary>
/// End-to-end alert latency for docs/performance.md. For each channel count: every channel's block is
/// published together each 100 ms (as one OPC UA publish response carries them) into the real
/// <see cref="SignalPipeline"/>; a share of the channels turns faulty after the warm-up and, with
/// dedupe off, raises one alert per anomalous window; alerts pass the alarm board and the MQTT notifier
/// (QoS 1, TCP_NODELAY) to mosquitto on loopback and a subscriber. Measured per alert: window complete →
/// PUBACK (NotifyAsync returned) and → subscriber receipt; next to it a bare MQTTnet publish → PUBACK
/// on its own connection during the same measurement. Then fault onset → alert received with the
/// default window, overlap, hysteresis and baseline warm-up.
/// </summary>
internal static class Program
{
    private const string Prefix = "bench/alerts";

    /// <summary>Feature workers (0 = one per core, the gateway's default).</summary>
    private static int Workers { get; set; }
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> Main(string[] args)
    {
        var channelCounts = Arg(args, "--channels", "10,100,1000").Split(',').Select(c => int.Parse(c, Inv)).Where(c => c > 0).ToArray();
        var seconds = double.Parse(Arg(args, "--seconds", "20"), Inv);
        var warmup = double.Parse(Arg(args, "--warmup", "6"), Inv);
        var onsetChannels = int.Parse(Arg(args, "--onset-channels", "100"), Inv);
        var broker = Arg(args, "--broker", "");
        Workers = int.Parse(Arg(args, "--workers", "0"), Inv);
        Console.WriteLine(string.Create(Inv, $"# Alert latency bench: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, feature workers {(Workers > 0 ? Workers : Math.Clamp(Environment.ProcessorCount, 1, 8))}"));

        using var mosquitto = broker.Length == 0 ? Mosquitto.Start() : null;
        var (host, port) = broker.Length == 0 ? ("127.0.0.1", mosquitto!.Port) : (new Uri(broker).Host, new Uri(broker).Port);
        Console.WriteLine(mosquitto is null ? $"broker {broker}" : $"broker: mosquitto ({Mosquitto.Version()}) on 127.0.0.1:{port}, started by the bench");
        Console.WriteLine();
        Console.WriteLine("| channels | rate | alerts | window complete → PUBACK p50 / p99 / max | → subscriber p50 / p99 / max | bare publish → PUBACK p50 / p99 / max | pipeline complete → alert stage p50 / p99 | received → alert stage p99 | drops |");
        Console.WriteLine("|---:|---:|---:|---|---|---|---:|---:|---|");
        foreach (var channels in channelCounts)
        {
            // Same sample throughput at every size (2.56 MS/s): 25.6 kHz up to 100 channels, less above.
            var rate = channels <= 100 ? 25600.0 : 2_560_000.0 / channels;
            await LatencyPhase(host, port, channels, rate, warmup, seconds);
        }

        if (onsetChannels > 0)
        {
            await OnsetPhase(host, port, onsetChannels);
        }

        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static async Task LatencyPhase(string host, int port, int channels, double rate, double warmup, double seconds)
    {
        var options = new PipelineOptions { WindowSize = 4096, Overlap = 0.5, SinkFullMode = SinkFullMode.DropNewest, Workers = Workers };
        options.Baseline.WarmupWindows = Math.Max(5, (int)(warmup * 0.6 * rate / options.Hop));
        options.Alerts.RaiseAfter = 1;
        options.Alerts.Dedupe = false;

        // Enough alerting channels for ~125 alerts/s (≥ 1,000 in the run), spread over the channel table.
        var windowsPerSecond = rate / options.Hop;
        var alerting = Math.Min(channels, (int)Math.Ceiling(125 / windowsPerSecond));
        var stride = channels / alerting;
        var block = (int)Math.Round(rate * 0.1);
        var loop = (int)(rate * 2 / block) * block;
        var normal = new float[channels][];
        var faulty = new float[channels][];
        var descriptors = new ChannelDescriptor[channels];
        for (var c = 0; c < channels; c++)
        {
            var (descriptor, signal) = Generate(c, rate, loop, fault: null);
            descriptors[c] = descriptor;
            normal[c] = signal;
            if (c % stride == 0 && c / stride < alerting)
            {
                faulty[c] = Generate(c, rate, loop, fault: new MachineFault(FaultType.OuterRace, 1.0)).Samples;
            }
        }

        await using var alerts = await AlertsStack.StartAsync(host, port);
        var timing = new TimingNotifier(alerts.Notifier);
        foreach (var notifier in alerts.Notifiers)
        {
            timing.Observe(notifier);
        }

        await using var pipeline = new SignalPipeline(options, descriptors, new StatisticalBaselineScorer(options.Baseline), [timing], alerts.Sinks);
        await using var subscriber = await Subscriber.ConnectAsync(host, port, Prefix + "/+/+/+/events");
        await using var bare = await BareClient.ConnectAsync(host, port);
        await alerts.WaitReadyAsync(subscriber);
        pipeline.Start();

        var clock = new Publisher(rate, block);
        var measureFrom = 0L;
        var bareLatencies = new List<double>();
        Task? bareTask = null;
        using var stopBare = new CancellationTokenSource();
        var total = warmup + seconds;
        var measuring = false;
        while (clock.Elapsed < total)
        {
            if (!measuring && clock.Elapsed >= warmup)
            {
                measuring = true;
                measureFrom = Stopwatch.GetTimestamp();
                pipeline.CompleteToDispatched.Reset();
                pipeline.ReceivedToDispatched.Reset();
                bareTask = bare.RunAsync(bareLatencies, TimeSpan.FromMilliseconds(20), stopBare.Token);
            }

            clock.WaitNext();
            var offset = (int)(clock.SampleIndex % loop);
            var ticks = clock.SourceTicks;
            for (var c = 0; c < channels; c++)
            {
                var source = measuring && faulty[c] is { } f ? f : normal[c];
                pipeline.Writers[c].TryWrite(new SampleBlock(source.AsSpan(offset, block), clock.SampleIndex, ticks));
            }

            clock.Advance();
        }

        await stopBare.CancelAsync();
        await bareTask!;
        await Task.Delay(500);
        await pipeline.StopAsync();
        await Task.Delay(300);
        var stats = pipeline.GetStatistics();

        var ack = new List<double>();
        var receipt = new List<double>();
        foreach (var (id, complete) in timing.Complete)
        {
            if (complete < measureFrom)
            {
                continue;
            }

            if (timing.Acked.TryGetValue(id, out var acked))
            {
                ack.Add(Ms(acked - complete));
            }

            if (subscriber.Received.TryGetValue(id, out var received))
            {
                receipt.Add(Ms(received - complete));
            }
        }

        var drops = $"ring {stats.Channels.Sum(c => c.DroppedBlocks)}, windows {stats.DroppedWindows}, sinks {stats.Sinks.Sum(s => s.Dropped)}, not received {ack.Count - receipt.Count}";
        Console.WriteLine(string.Create(Inv,
            $"| {channels:N0} ({alerting} alerting) | {rate / 1000:0.##} kHz | {ack.Count:N0} | {Triple(ack)} | {Triple(receipt)} | {Triple(bareLatencies)} | {pipeline.CompleteToDispatched.Percentile(0.5) / 1000:0.00} / {pipeline.CompleteToDispatched.Percentile(0.99) / 1000:0.00} ms | {pipeline.ReceivedToDispatched.Percentile(0.99) / 1000:0.0} ms | {drops} |"));
    }

    private static async Task OnsetPhase(string host, int port, int channels)
    {
        // Defaults: window 4096, overlap 0.5, RaiseAfter 3, baseline warm-up 100 windows, dedupe on.
        var options = new PipelineOptions { SinkFullMode = SinkFullMode.DropNewest, Workers = Workers };
        const double rate = 25600;
        var block = (int)Math.Round(rate * 0.1);
        var warmupSeconds = (options.Baseline.WarmupWindows * options.Hop / rate) + 3;
        var loop = (int)(2 * rate / block) * block;
        var segment = (int)(4 * rate / block) * block;
        var random = new Random(7);
        var onsetOffsets = new int[channels];
        var descriptors = new ChannelDescriptor[channels];
        var signals = new float[channels][];
        for (var c = 0; c < channels; c++)
        {
            // One continuous signal: [0, loop) normal (looped during the warm-up), then the fault starts
            // abruptly at loop + onset offset (0–1 s, per channel) and the signal goes on faulty.
            onsetOffsets[c] = random.Next(0, (int)rate);
            var onsetSeconds = (loop + onsetOffsets[c]) / rate;
            (descriptors[c], signals[c]) = Generate(c, rate, loop + segment, new MachineFault(FaultType.OuterRace, 1.0, onsetSeconds, 0));
        }

        await using var alerts = await AlertsStack.StartAsync(host, port);
        await using var pipeline = new SignalPipeline(options, descriptors, new StatisticalBaselineScorer(options.Baseline), [alerts.Notifier], alerts.Sinks);
        await using var subscriber = await Subscriber.ConnectAsync(host, port, Prefix + "/+/+/+/events");
        await alerts.WaitReadyAsync(subscriber);
        pipeline.Start();

        var clock = new Publisher(rate, block);
        long? segmentStartIndex = null;
        var onsetTicks = new long[channels];
        while (true)
        {
            var loopsDone = clock.SampleIndex / loop;
            if (segmentStartIndex is null && clock.Elapsed >= warmupSeconds && clock.SampleIndex % loop == 0)
            {
                segmentStartIndex = clock.SampleIndex;
            }

            if (segmentStartIndex is { } s && clock.SampleIndex - s >= segment)
            {
                break;
            }

            clock.WaitNext();
            var published = Stopwatch.GetTimestamp();
            for (var c = 0; c < channels; c++)
            {
                int offset;
                if (segmentStartIndex is { } start)
                {
                    offset = loop + (int)(clock.SampleIndex - start);
                    var onset = loop + onsetOffsets[c];
                    if (onset >= offset && onset < offset + block)
                    {
                        // The onset sample was measured (offset + block − onset) samples before this block arrived.
                        onsetTicks[c] = published - (long)((offset + block - onset) / rate * Stopwatch.Frequency);
                    }
                }
                else
                {
                    offset = (int)(clock.SampleIndex % loop);
                }

                pipeline.Writers[c].TryWrite(new SampleBlock(signals[c].AsSpan(offset, block), clock.SampleIndex, clock.SourceTicks));
            }

            _ = loopsDone;
            clock.Advance();
        }

        await Task.Delay(500);
        await pipeline.StopAsync();
        var delays = new List<double>();
        var early = 0;
        var missed = 0;
        for (var c = 0; c < channels; c++)
        {
            var receipts = subscriber.Raised.TryGetValue(descriptors[c].Id.ToString(), out var r) ? r.ToArray() : [];
            early += receipts.Count(t => t < onsetTicks[c]);
            var after = receipts.Where(t => t >= onsetTicks[c]).DefaultIfEmpty(long.MaxValue).Min();
            if (after == long.MaxValue)
            {
                missed++;
            }
            else
            {
                delays.Add(Ms(after - onsetTicks[c]));
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(Inv,
            $"fault onset → alert received (subscriber), {channels} channels at 25.6 kHz, window {options.WindowSize}, overlap {options.Overlap}, RaiseAfter {options.Alerts.RaiseAfter}, abrupt outer-race fault: p50 {Pct(delays, 0.5):0} ms, p95 {Pct(delays, 0.95):0} ms, max {(delays.Count > 0 ? delays.Max() : double.NaN):0} ms; {delays.Count} detected, {missed} not detected, {early} raised before the onset (false alarms)"));
    }

    private static (ChannelDescriptor Descriptor, float[] Samples) Generate(int index, double rate, int samples, MachineFault? fault)
    {
        var signal = new MachineSignalOptions
        {
            SampleRateHz = rate,
            ShaftHz = (1200 + (index % 7 * 150)) / 60.0,
            Bearing = BearingCatalog.Get(MachineSignalOptions.DefaultBearingName),
            Seed = index + 1,
            ResonanceHz = Math.Min(3500, 0.3 * rate),   // the structural resonance the impacts ring at, below Nyquist at low rates
            Faults = fault is null ? [] : [fault],
        };
        var machine = SimulatedMachine.Create(new ChannelId("bench", "line", "m" + index.ToString("0000", Inv), "de", "x"), signal);
        var data = new float[samples];
        new MachineSignalGenerator(machine.Signal).Generate(data);
        return (machine.Channel, data);
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double Pct(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Triple(List<double> ms) => ms.Count == 0
        ? "—"
        : string.Create(Inv, $"{Pct(ms, 0.5):0.00} / {Pct(ms, 0.99):0.00} / {ms.Max():0.0} ms");

    /// <summary>Real-time pacing of the publishes (sleep, then spin the last stretch).</summary>
    private sealed class Publisher(double rate, int block)
    {
        private static readonly long BaseTicks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly double _period = Stopwatch.Frequency * block / rate;
        private double _next = Stopwatch.GetTimestamp();

        public long SampleIndex { get; private set; }

        public long SourceTicks => BaseTicks + (long)(SampleIndex * TimeSpan.TicksPerSecond / rate);

        public double Elapsed => _wall.Elapsed.TotalSeconds;

        public void WaitNext()
        {
            while (true)
            {
                var remaining = (_next - Stopwatch.GetTimestamp()) / Stopwatch.Frequency;
                if (remaining <= 0)
                {
                    return;
                }

                if (remaining > 0.002)
                {
                    Thread.Sleep(1);
                }
                else
                {
                    Thread.SpinWait(50);
                }
            }
        }

        public void Advance()
        {
            _next += _period;
            SampleIndex += block;
        }
    }

    /// <summary>The alerts adapter as the gateway composes it: alarm board gate → MQTT notifier, board health sink.</summary>
    private sealed class AlertsStack : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;
        private readonly List<IHostedService> _hosted;

        private AlertsStack(ServiceProvider provider, List<IHostedService> hosted)
        {
            _provider = provider;
            _hosted = hosted;
            Notifier = provider.GetServices<IAlertNotifier>().Single();
            Sinks = [.. provider.GetServices<ITelemetrySink>()];
        }

        public IAlertNotifier Notifier { get; }

        public IReadOnlyList<OutboxAlertNotifier> Notifiers => _provider.GetRequiredService<AlertNotifierSet>().All;

        public ITelemetrySink[] Sinks { get; }

        public static async Task<AlertsStack> StartAsync(string host, int port)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["FactoryEdge:Alerts:Mqtt:Enabled"] = "true",
                ["FactoryEdge:Alerts:Mqtt:Host"] = host,
                ["FactoryEdge:Alerts:Mqtt:Port"] = port.ToString(Inv),
                ["FactoryEdge:Alerts:Mqtt:ClientId"] = "fe-bench-" + Guid.NewGuid().ToString("N")[..6],
                ["FactoryEdge:Alerts:Mqtt:TopicPrefix"] = Prefix,
                ["FactoryEdge:Alerts:Mqtt:MinimumSeverity"] = "Warning",
                ["FactoryEdge:Alerts:Mqtt:MaxAlertsPerMachinePerMinute"] = "0",
                // The bench raises ~125 alerts/s on purpose: flood summaries and chatter hold-back off.
                ["FactoryEdge:Alerts:Lifecycle:FloodThreshold"] = "0",
                ["FactoryEdge:Alerts:Lifecycle:ChatterRaises"] = "0",
            }).Build();
            var services = new ServiceCollection().AddLogging();
            services.AddFactoryEdgeAlerts(config);
            var provider = services.BuildServiceProvider();
            var hosted = provider.GetServices<IHostedService>().ToList();
            foreach (var h in hosted)
            {
                await h.StartAsync(CancellationToken.None);
            }

            return new AlertsStack(provider, hosted);
        }

        /// <summary>Waits until an alert sent through the stack reaches the subscriber (MQTT connected).</summary>
        public async Task WaitReadyAsync(Subscriber subscriber)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; watch.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                var id = "probe-" + i.ToString(Inv);
                await Notifier.NotifyAsync(new Alert
                {
                    AlertId = id,
                    Channel = new ChannelId("probe", "probe", "probe" + i.ToString(Inv), "s", "x"),
                    State = AlertState.Raised,
                    Severity = AlertSeverity.Warning,
                    SourceTime = DateTimeOffset.UnixEpoch,
                    Score = 1,
                    Threshold = 1,
                    ModelId = "probe",
                    Message = "probe",
                }, CancellationToken.None);
                await Task.Delay(100);
                if (subscriber.Received.ContainsKey(id))
                {
                    return;
                }
            }

            throw new TimeoutException("the MQTT notifier did not connect");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var h in _hosted)
            {
                await h.StopAsync(CancellationToken.None);
            }

            await _provider.DisposeAsync();
        }
    }

    /// <summary>Notes window complete (when the alert enters the alerts adapter) and PUBACK per alert.</summary>
    private sealed class TimingNotifier(IAlertNotifier inner) : IAlertNotifier
    {
        public ConcurrentDictionary<string, long> Complete { get; } = new();

        public ConcurrentDictionary<string, long> Acked { get; } = new();

        public string Name => "timing";

        /// <summary>Notes the PUBACK of each alert the MQTT notifier delivered on its first attempt.</summary>
        public void Observe(OutboxAlertNotifier notifier) => notifier.FirstAttemptCompleted += (_, e) =>
        {
            if (e.Outcome == DeliveryOutcome.Delivered)
            {
                Acked.TryAdd(e.Alert.AlertId, e.Timestamp);
            }
        };

        public ValueTask NotifyAsync(Alert alert, CancellationToken cancellationToken)
        {
            Complete[alert.AlertId] = alert.WindowCompleteTimestamp;
            return inner.NotifyAsync(alert, cancellationToken);
        }
    }

    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly IMqttClient _client;

        private Subscriber(IMqttClient client) => _client = client;

        public ConcurrentDictionary<string, long> Received { get; } = new();

        /// <summary>Receipts of raised alerts per channel.</summary>
        public ConcurrentDictionary<string, ConcurrentQueue<long>> Raised { get; } = new();

        public static async Task<Subscriber> ConnectAsync(string host, int port, string filter)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var subscriber = new Subscriber(client);
            client.ApplicationMessageReceivedAsync += e =>
            {
                var now = Stopwatch.GetTimestamp();
                var reader = new Utf8JsonReader(e.ApplicationMessage.Payload);
                using var doc = JsonDocument.ParseValue(ref reader);
                var root = doc.RootElement;
                subscriber.Received.TryAdd(root.GetProperty("alertId").GetString()!, now);
                if (root.GetProperty("state").GetString() == "raised")
                {
                    subscriber.Raised.GetOrAdd(root.GetProperty("channel").GetString()!, _ => new ConcurrentQueue<long>()).Enqueue(now);
                }

                return Task.CompletedTask;
            };
            var options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId("fe-bench-sub-" + Guid.NewGuid().ToString("N")[..6]).Build();
            ((MqttClientTcpOptions)options.ChannelOptions).NoDelay = true;
            await client.ConnectAsync(options);
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return subscriber;
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }

    /// <summary>The reference: a bare MQTTnet QoS 1 publish → PUBACK on its own connection.</summary>
    private sealed class BareClient : IAsyncDisposable
    {
        private readonly IMqttClient _client;

        private BareClient(IMqttClient client) => _client = client;

        public static async Task<BareClient> ConnectAsync(string host, int port)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId("fe-bench-bare-" + Guid.NewGuid().ToString("N")[..6]).Build();
            ((MqttClientTcpOptions)options.ChannelOptions).NoDelay = true;
            await client.ConnectAsync(options);
            return new BareClient(client);
        }

        public async Task RunAsync(List<double> latencies, TimeSpan interval, CancellationToken cancellationToken)
        {
            var message = new MqttApplicationMessageBuilder().WithTopic("bench/bare").WithPayload(new byte[900])
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            while (!cancellationToken.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                await _client.PublishAsync(message, CancellationToken.None);
                latencies.Add(Ms(Stopwatch.GetTimestamp() - t0));
                try
                {
                    await Task.Delay(interval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }

    /// <summary>Debian's mosquitto on 127.0.0.1 with a free port and a temp config; killed by its process id.</summary>
    private sealed class Mosquitto : IDisposable
    {
        private const string Binary = "/usr/sbin/mosquitto";
        private readonly Process _process;
        private readonly string _directory;

        private Mosquitto(Process process, string directory, int port)
        {
            _process = process;
            _directory = directory;
            Port = port;
        }

        public int Port { get; }

        public static string Version()
        {
            using var p = Process.Start(new ProcessStartInfo(Binary, "-h") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var first = p.StandardOutput.ReadLine() ?? "";
            p.WaitForExit();
            return first.Replace("mosquitto version ", "", StringComparison.Ordinal).Trim();
        }

        public static Mosquitto Start()
        {
            if (!File.Exists(Binary))
            {
                throw new InvalidOperationException($"{Binary} is missing: run tests/peers/mqtt/install.sh (as root), or pass --broker mqtt://HOST:PORT.");
            }

            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            var directory = Path.Combine(Path.GetTempPath(), "fe-bench-mosquitto-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var config = Path.Combine(directory, "mosquitto.conf");
            File.WriteAllText(config, string.Create(Inv, $"listener {port} 127.0.0.1\npersistence false\nallow_anonymous true\nset_tcp_nodelay true\nmax_queued_messages 100000\n"));
            var process = Process.Start(new ProcessStartInfo(Binary) { ArgumentList = { "-c", config }, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var watch = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, port);
                    return new Mosquitto(process, directory, port);
                }
                catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
                {
                    Thread.Sleep(20);
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }

            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
