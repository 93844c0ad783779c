using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;

namespace FactoryEdge.OpcUa.Bench;

/// <summary>
/// OPC UA benchmarks: (1) decode microbenchmarks in process; (2) notifications/s, values/s, CPU and memory
/// of our client next to node-opcua's own client, both subscribed at the same time to one node-opcua server
/// (Float[4096] waveform and 1,000 changing scalars); (3) the time to create 50,000 monitored items;
/// (4) "secure": the same under SignAndEncrypt, and a Float[65536] array throughput with None and
/// SignAndEncrypt; (5) "crypto": the security layer's CPU per 64 KiB chunk, in process.
/// </summary>
internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> Main(string[] args)
    {
        var mode = args.Length > 0 ? args[0] : "all";
        var seconds = args.Length > 1 ? double.Parse(args[1], Inv) : 20;
        Console.WriteLine(string.Create(Inv, $"# OPC UA benchmark ({Environment.ProcessorCount} cores, .NET {Environment.Version})"));
        if (mode is "decode" or "all")
        {
            Decode();
        }

        if (mode is "crypto" or "secure" or "all")
        {
            Crypto();
        }

        var peers = FindPeers();
        if (mode is "throughput" or "items" or "secure" or "all" && peers is null)
        {
            Console.Error.WriteLine("tests/peers/opcua/node_modules is missing: run tests/peers/opcua/install.sh");
            return 1;
        }

        if (mode is "throughput" or "all")
        {
            await Throughput(peers!, seconds);
        }

        if (mode is "items" or "all")
        {
            await Items(peers!, 50_000);
        }

        if (mode is "secure" or "all")
        {
            // Sign and SignAndEncrypt cost: the same workload, then a large array as fast as the server makes it, None next to SignAndEncrypt.
            var policy = args.Length > 2 ? args[2] : "Aes256_Sha256_RsaPss";
            await Throughput(peers!, seconds, policy + ":SignAndEncrypt");
            await Throughput(peers!, seconds, "None", intervalMs: 5, scalars: 0, waveformLength: 65536);
            await Throughput(peers!, seconds, policy + ":SignAndEncrypt", intervalMs: 5, scalars: 0, waveformLength: 65536);
        }

        return 0;
    }

    private static void Decode()
    {
        Console.WriteLine();
        Console.WriteLine("## Decode (in process, one thread)");
        Console.WriteLine();
        Console.WriteLine("| message | bytes | µs per message | ns per value | MB/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var time = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var waveform = Publish([new MonitoredItemNotification { ClientHandle = 0, Value = new DataValue { Value = new Variant(new float[4096]), SourceTimestamp = time, ServerTimestamp = time } }]);
        DecodeRow("Publish: 1 × Float[4096]", waveform, 4096, 20_000);
        var scalars = Publish([.. Enumerable.Range(0, 1000).Select(i => new MonitoredItemNotification { ClientHandle = (uint)i, Value = new DataValue { Value = new Variant((double)i), SourceTimestamp = time, ServerTimestamp = time } })]);
        DecodeRow("Publish: 1,000 Double items", scalars, 1000, 5_000);
    }

    /// <summary>Sign (+ encrypt) and check (+ decrypt) of full 64 KiB MSG chunks, client to server, in process.</summary>
    private static void Crypto()
    {
        Console.WriteLine();
        Console.WriteLine("## Secure channel, in process: one 65,536-byte MSG chunk protected by the sender and checked by the receiver (CPU time)");
        Console.WriteLine();
        Console.WriteLine("| policy | mode | µs protect | µs unprotect | MB/s (both) | ns per float (both) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var clientCert = Pki.ApplicationCertificates.CreateSelfSigned("CN=c", "urn:c", ["localhost"], start, TimeSpan.FromDays(3650));
        using var serverCert = Pki.ApplicationCertificates.CreateSelfSigned("CN=s", "urn:s", ["localhost"], start, TimeSpan.FromDays(3650));
        var limits = new Transport.TransportLimits { ReceiveBufferSize = 65536, SendBufferSize = 65536 };
        foreach (var policy in Security.SecurityPolicy.All)
        {
            foreach (var securityMode in new[] { MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt })
            {
                using var client = new Security.PolicyChannelSecurity(policy, securityMode, Security.ChannelRole.Client, clientCert, serverCert);
                using var server = new Security.PolicyChannelSecurity(policy, securityMode, Security.ChannelRole.Server, serverCert, null);
                var clientNonce = client.CreateNonce();
                var serverNonce = server.CreateNonce();
                client.OnTokenIssued(1, clientNonce, serverNonce);
                server.OnTokenIssued(1, clientNonce, serverNonce);
                var chunk = new byte[65536];
                var header = 16;
                var plain = client.MaxPlainTextSize(chunk.Length, header, asymmetric: false);
                var copy = new byte[chunk.Length];
                const int Iterations = 2000;

                // CPU time of this process (one busy thread), not wall time: the figures hold on a loaded machine.
                var process = Process.GetCurrentProcess();
                double protect = 0, unprotect = 0;
                for (var round = 0; round < 2; round++)
                {
                    process.Refresh();
                    var c0 = process.TotalProcessorTime;
                    var size = 0;
                    for (var i = 0; i < Iterations; i++)
                    {
                        size = client.Protect(chunk, header, plain, asymmetric: false, 1);
                    }

                    process.Refresh();
                    var c1 = process.TotalProcessorTime;
                    var saved = chunk.AsSpan(0, size).ToArray();
                    for (var i = 0; i < Iterations; i++)
                    {
                        saved.CopyTo(copy, 0);
                        server.Unprotect(copy.AsSpan(0, size), header, asymmetric: false, 1);
                    }

                    process.Refresh();
                    protect = (c1 - c0).TotalMicroseconds / Iterations;
                    unprotect = (process.TotalProcessorTime - c1).TotalMicroseconds / Iterations;

                    // The next round protects fresh plaintext again.
                    Array.Clear(chunk);
                }

                var both = protect + unprotect;
                Console.WriteLine(string.Create(Inv, $"| {policy.Name} | {securityMode} | {protect:0.0} | {unprotect:0.0} | {plain / both:0} | {both * 1000 / (plain / 4.0):0.00} |"));
            }
        }
    }

    private static byte[] Publish(MonitoredItemNotification[] items)
    {
        var encoder = new BinaryEncoder();
        encoder.WriteMessage(new PublishResponse
        {
            SubscriptionId = 1,
            NotificationMessage = new NotificationMessage { SequenceNumber = 1, NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = items })] },
        });
        return encoder.ToArray();
    }

    private static void DecodeRow(string name, byte[] message, int values, int iterations)
    {
        for (var i = 0; i < iterations / 10; i++)
        {
            new BinaryDecoder(message).ReadMessage();
        }

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            new BinaryDecoder(message).ReadMessage();
        }

        var perMessage = watch.Elapsed.TotalMilliseconds * 1000 / iterations;
        Console.WriteLine(string.Create(Inv, $"| {name} | {message.Length:N0} | {perMessage:0.0} | {perMessage * 1000 / values:0.0} | {message.Length / perMessage:0} |"));
    }

    private static async Task Throughput(string peers, double seconds, string security = "None", int intervalMs = 20, int scalars = 1000, int waveformLength = 4096)
    {
        var IntervalMs = intervalMs;
        var Scalars = scalars;
        var secure = security != "None";
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"## Subscriptions on loopback, {security}: Float[{waveformLength}] every {IntervalMs} ms and {Scalars:N0} scalars changing every {IntervalMs} ms, publishing every 100 ms, {seconds} s, both clients at once"));
        Console.WriteLine();
        string[] serverArgs = ["--interval", IntervalMs.ToString(Inv), "--scalars", Math.Max(1, Scalars).ToString(Inv), "--update-scalars", Scalars.ToString(Inv), "--big-length", "16", "--waveform-length", waveformLength.ToString(Inv)];
        using var server = await NodeServer.StartAsync(peers, secure ? [.. serverArgs, "--secure"] : serverArgs);
        var handler = new CountingHandler(Scalars + 1);
        var pki = Path.Combine(Path.GetTempPath(), "factoryedge-bench-pki-" + Guid.NewGuid().ToString("N"));
        using var application = secure ? Pki.ApplicationIdentity.LoadOrCreate(new Pki.PkiStore(pki)) : null;
        var clientSecurity = new ClientSecurityOptions
        {
            SecurityPolicy = security.Split(':')[0],
            SecurityMode = secure ? Enum.Parse<MessageSecurityMode>(security.Split(':')[1]) : null,
            AllowNone = !secure,
            AcceptUntrustedCertificates = true,
            Application = application,
        };
        var connection = new OpcUaConnection(new OpcUaConnectionOptions
        {
            EndpointUrl = server.Url,
            Channel = new SecureChannelOptions(),
            SecurityAsync = async ct => (await SecureEndpoints.SelectAsync(server.Url, clientSecurity, null, null, null, ct)).CreateSecurity(application),
        });
        var items = new List<MonitoredItemSpec> { new() { Node = NodeIdText.Parse("nsu=urn:factoryedge:test;s=Machine1.Waveform"), SamplingIntervalMs = 0, QueueSize = 10 } };
        items.AddRange(Enumerable.Range(0, Scalars).Select(i => new MonitoredItemSpec { Node = NodeIdText.Parse("nsu=urn:factoryedge:test;s=Scalar." + i.ToString("D5", Inv)), SamplingIntervalMs = 0, QueueSize = 10 }));
        connection.AddSubscription(new SubscriptionSettings { PublishingIntervalMs = 100, MaxKeepAliveCount = 10 }, items, handler);
        using var cts = new CancellationTokenSource();
        var run = connection.RunAsync(cts.Token);
        await connection.GetSessionAsync(CancellationToken.None);

        // Both clients warm up (JIT tiers, connection set-up) for 5 s after creating their items, then count for the same time.
        var node = RunNodeClient(peers, server.Url, seconds, Scalars, warmup: 5, security: secure ? security : null);
        await Task.Delay(5500);
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var (n0, v0, w0) = handler.Snapshot();
        var watch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        var elapsed = watch.Elapsed.TotalSeconds;
        var (n1, v1, w1) = handler.Snapshot();
        var rss = process.WorkingSet64;
        var nodeResult = await node;
        await cts.CancelAsync();
        await run;

        var (produced, received) = handler.WaveformSequence();
        Console.WriteLine("| client | notifications/s | values/s | waveforms/s | CPU s | CPU µs per 1,000 values | RSS MB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(Inv, $"| FactoryEdge (.NET) | {(n1 - n0) / elapsed:N0} | {(v1 - v0) / elapsed:N0} | {(w1 - w0) / elapsed:0.0} | {cpu:0.00} | {cpu * 1e9 / Math.Max(1, v1 - v0):0.0} | {rss / 1048576.0:0} |"));
        if (nodeResult is { } r)
        {
            Console.WriteLine(string.Create(Inv, $"| node-opcua client | {r.Notifications / r.Seconds:N0} | {r.Values / r.Seconds:N0} | – | {r.CpuSeconds:0.00} | {r.CpuSeconds * 1e9 / Math.Max(1, r.Values):0.0} | {r.RssBytes / 1048576.0:0} |"));
            var ratio = cpu / Math.Max(1, v1 - v0) / (r.CpuSeconds / Math.Max(1, r.Values));
            Console.WriteLine();
            Console.WriteLine(string.Create(Inv, $"CPU per value, FactoryEdge / node-opcua: {ratio:0.00}×"));
        }

        Console.WriteLine(string.Create(Inv, $"FactoryEdge: waveform blocks produced by the server while subscribed {produced}, received {received} (lost {produced - received}); notification messages lost {connection.Subscriptions[0].Lost}, gaps {connection.Subscriptions[0].Gaps}"));
        if (Directory.Exists(pki))
        {
            Directory.Delete(pki, recursive: true);
        }
    }

    private static async Task Items(string peers, int count)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"## Creating {count:N0} monitored items on one session (server MaxMonitoredItemsPerCall 1000)"));
        Console.WriteLine();
        using var server = await NodeServer.StartAsync(peers, "--scalars", count.ToString(Inv), "--big-length", "16");
        var channel = await UaSecureChannel.OpenAsync(server.Url, new NoneChannelSecurity(), new SecureChannelOptions { RequestTimeout = TimeSpan.FromSeconds(60) });
        await using (channel)
        {
            var session = await UaClientSession.CreateAsync(channel, new SessionOptions { RequestTimeout = TimeSpan.FromSeconds(60) });
            await using (session)
            {
                var watch = Stopwatch.StartNew();
                var subscription = await session.CreateSubscriptionAsync(1000, 600, 10, 0, 0, CancellationToken.None);
                var requests = Enumerable.Range(0, count).Select(i => new MonitoredItemCreateRequest
                {
                    ItemToMonitor = new ReadValueId { NodeId = session.Resolve("nsu=urn:factoryedge:test;s=Scalar." + i.ToString("D5", Inv)), AttributeId = AttributeIds.Value },
                    MonitoringMode = MonitoringMode.Reporting,
                    RequestedParameters = new MonitoringParameters { ClientHandle = (uint)i, SamplingInterval = 1000, QueueSize = 1, DiscardOldest = true },
                }).ToArray();
                var results = await session.CreateMonitoredItemsAsync(subscription.SubscriptionId, requests, TimestampsToReturn.Both, CancellationToken.None);
                var ours = watch.Elapsed;
                var good = results.Count(static r => r.StatusCode.IsGood);
                var node = await RunNodeClient(peers, server.Url, 0.5, count, waveform: false);
                Console.WriteLine("| client | items created | time s |");
                Console.WriteLine("|---|---:|---:|");
                Console.WriteLine(string.Create(Inv, $"| FactoryEdge (.NET) | {good:N0} | {ours.TotalSeconds:0.00} |"));
                if (node is { } r)
                {
                    Console.WriteLine(string.Create(Inv, $"| node-opcua client | {count:N0} | {r.CreateMs / 1000:0.00} |"));
                }
            }
        }
    }

    private static async Task<NodeClientResult?> RunNodeClient(string peers, string url, double seconds, int scalars, bool waveform = true, double warmup = 1, string? security = null)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = peers };
        foreach (var a in (string[])[Path.Combine(peers, "client.js"), "--url", url, "--seconds", seconds.ToString(Inv), "--warmup", warmup.ToString(Inv), "--scalars", scalars.ToString(Inv)])
        {
            info.ArgumentList.Add(a);
        }

        if (waveform)
        {
            info.ArgumentList.Add("--waveform");
        }

        if (security is not null)
        {
            info.ArgumentList.Add("--security");
            info.ArgumentList.Add(security);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(static l => l.StartsWith('{'));
        if (line is null)
        {
            Console.Error.WriteLine("node-opcua client failed: " + await error);
            return null;
        }

        return JsonSerializer.Deserialize<NodeClientResult>(line, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
    }

    private static string? FindPeers()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var peers = Path.Combine(dir.FullName, "tests", "peers", "opcua");
            if (Directory.Exists(Path.Combine(peers, "node_modules", "node-opcua")))
            {
                return peers;
            }
        }

        return null;
    }

    private sealed record NodeClientResult(long Notifications, long Values, double Seconds, double CpuSeconds, long RssBytes, double CreateMs);

    private sealed class CountingHandler(int items) : ISubscriptionHandler
    {
        private readonly Lock _lock = new();
        private long _notifications;
        private long _values;
        private long _waveforms;
        private long _firstSequence = -1;
        private long _sequence = -1;

        public int Items { get; } = items;

        /// <summary>Blocks the server made between the first and last block seen (from the content), and blocks received.</summary>
        public (long Produced, long Received) WaveformSequence()
        {
            lock (_lock)
            {
                return (_sequence - _firstSequence + 1, _waveforms);
            }
        }

        public (long Notifications, long Values, long Waveforms) Snapshot()
        {
            lock (_lock)
            {
                return (_notifications, _values, _waveforms);
            }
        }

        public void OnDataChange(int itemIndex, DataValue value)
        {
            lock (_lock)
            {
                _notifications++;
                if (value.Value.IsArray)
                {
                    _values += value.Value.ArrayLength;
                    _waveforms++;
                    var block = (long)(((float[])value.Value.Value!)[0] / 10000);
                    if (_firstSequence < 0)
                    {
                        _firstSequence = _sequence = block;
                    }
                    else
                    {
                        _sequence += (block - (_sequence % 1000) + 1000) % 1000;
                    }
                }
                else
                {
                    _values++;
                }
            }
        }

        public void OnGap(string reason)
        {
        }

        public void OnItemError(int itemIndex, StatusCode status, string message) => Console.Error.WriteLine(message);
    }

    private sealed class NodeServer : IDisposable
    {
        private readonly Process _process;

        private NodeServer(Process process, int port)
        {
            _process = process;
            Url = "opc.tcp://127.0.0.1:" + port.ToString(Inv);
        }

        public string Url { get; }

        public static async Task<NodeServer> StartAsync(string peers, params string[] args)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = peers };
            info.ArgumentList.Add(Path.Combine(peers, "server.js"));
            info.ArgumentList.Add("--port");
            info.ArgumentList.Add(port.ToString(Inv));
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            var process = Process.Start(info)!;
            _ = process.StandardError.ReadToEndAsync();
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("READY", StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync();
                    return new NodeServer(process, port);
                }
            }

            throw new InvalidOperationException("node-opcua server did not start");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }

            _process.Dispose();
        }
    }
}
