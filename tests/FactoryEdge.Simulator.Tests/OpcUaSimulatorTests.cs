using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FactoryEdge.OpcUa.Client;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;
using FactoryEdge.OpcUa.SecureChannel;
using FactoryEdge.Recordings;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Cli;
using FactoryEdge.Simulator.Machines;
using FactoryEdge.Simulator.Modbus;
using FactoryEdge.Simulator.OpcUa;
using FactoryEdge.Simulator.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Simulator.Tests;

/// <summary>The OPC UA simulator: address space, pacing, faults, control commands, record mode.</summary>
public sealed class OpcUaSimulatorTests
{
    private static IReadOnlyList<MachineDefinition> Machines(params string[] specs) =>
        MachineCatalog.Resolve(new MachineSpec(), [.. specs.Select(MachineSpecParser.Parse)]);

    private static OpcUaSimulator Start(IReadOnlyList<MachineDefinition> machines, OpcUaSimulatorSettings? settings = null)
    {
        var simulator = new OpcUaSimulator((settings ?? new OpcUaSimulatorSettings()) with { Port = 0 }, machines, NullLoggerFactory.Instance, TimeProvider.System);
        simulator.Start();
        return simulator;
    }

    private static async Task<(UaSecureChannel Channel, UaClientSession Session)> ConnectAsync(string url)
    {
        var channel = await UaSecureChannel.OpenAsync(url, new NoneChannelSecurity());
        return (channel, await UaClientSession.CreateAsync(channel));
    }

    private static string TempCsv(int samples, out float[] values)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fe-sim-opcua-{Guid.NewGuid():N}.csv");
        values = [.. Enumerable.Range(0, samples).Select(static i => (float)Math.Sin(i * 0.01) + (i * 1e-4f))];
        File.WriteAllLines(path, [$"# sampling_rate_hz=25600 units=g samples={samples}", .. values.Select(static v => v.ToString("R", CultureInfo.InvariantCulture))]);
        return path;
    }

    [Fact]
    public async Task Simulator_Machine_FolderWithEveryVariableAndUnits()
    {
        await using var simulator = Start(Machines("name=press,fault=outer-race,rpm=1780,seed=4"));
        var (channel, session) = await ConnectAsync(simulator.EndpointUrl);
        await using var _ = channel;
        await using var __ = session;
        var folder = session.Resolve($"nsu={SimulatorNodes.NamespaceUri};s=press");
        var children = (await session.BrowseAsync([folder]))[0].Select(static r => r.BrowseName.Name).Where(static n => n != "FolderType").Order(StringComparer.Ordinal);
        Assert.Equal(["Peak", "Rms", "SampleRate", "Sequence", "Severity", "Speed", "Temperature", "Waveform"], children);
        var values = await session.ReadAsync(
        [
            .. new[] { "Waveform", "SampleRate", "Sequence", "Rms", "Speed", "Temperature", "Severity" }
                .Select(n => new ReadValueId { NodeId = session.Resolve(SimulatorNodes.Id("press", n)), AttributeId = AttributeIds.Value }),
        ]);
        var block = Assert.IsType<float[]>(values[0].Value.Value);
        Assert.Equal(2048, block.Length);
        Assert.Equal(25600.0, values[1].Value.Value);
        Assert.True((uint)values[2].Value.Value! >= 1);
        var rms = Math.Sqrt(block.Average(static v => (double)v * v));
        Assert.InRange((double)values[3].Value.Value!, 0.2, 5);
        Assert.Equal(1780.0, values[4].Value.Value);
        Assert.InRange((double)values[5].Value.Value!, 39, 60);
        Assert.Equal(1.0, values[6].Value.Value);
        Assert.True(rms > 0.2, $"block RMS {rms}");

        // The gateway reads units from EngineeringUnits.
        var units = await session.TranslateAsync([UaClientSession.Path(session.Resolve(SimulatorNodes.Id("press", "Speed")), new QualifiedName(0, "EngineeringUnits"))], CancellationToken.None);
        var eu = await session.ReadValueAsync(units[0].Targets[0].TargetId.NodeId);
        Assert.Equal("rpm", ((EUInformation)((ExtensionObject)eu.Value.Value!).Body!).DisplayName.Text);
    }

    [Fact]
    public async Task Simulator_GeneratorBlocks_EqualTheGeneratorsSignalForTheSeed()
    {
        var machines = Machines("name=m,fault=inner-race,rpm=1500,seed=9,block=1024");
        await using var simulator = Start(machines);
        var (channel, session) = await ConnectAsync(simulator.EndpointUrl);
        await using var _ = channel;
        await using var __ = session;
        var first = Assert.IsType<float[]>((await session.ReadValueAsync(session.Resolve(SimulatorNodes.Id("m", "Waveform")))).Value.Value);
        var expected = new float[1024];
        new MachineSignalGenerator(machines[0].Generator!).Generate(expected);
        Assert.Equal(expected, first);
    }

    [Fact]
    public async Task OnReadPacing_SubscribedRecording_EveryBlockOnceInOrder()
    {
        var path = TempCsv(2048 * 12, out var values);
        try
        {
            await using var simulator = Start(Machines($"name=rec,recording={path}"), new OpcUaSimulatorSettings { Pacing = SimulatorPacing.OnRead });
            var blocks = new ConcurrentQueue<float[]>();
            var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = simulator.EndpointUrl });
            connection.AddSubscription(
                new SubscriptionSettings { PublishingIntervalMs = 20 },
                [new MonitoredItemSpec { Node = NodeIdText.Parse(SimulatorNodes.Id("rec", "Waveform")), SamplingIntervalMs = 0, QueueSize = 4 }],
                new Handler(v => blocks.Enqueue((float[])v.Value.Value!)));
            using var stop = new CancellationTokenSource();
            var run = connection.RunAsync(stop.Token);
            var watch = Stopwatch.StartNew();
            while (blocks.Count < 12 && watch.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(20);
            }

            await Task.Delay(300);
            await stop.CancelAsync();
            await TestRuns.Swallow(run);
            var received = blocks.ToArray();
            Assert.Equal(12, received.Length);
            for (var k = 0; k < 12; k++)
            {
                Assert.Equal(values.AsSpan(k * 2048, 2048).ToArray(), received[k]);
            }

            Assert.True(simulator.Machines[0].Readings.Ended);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task RealTimePacing_Speed10_TenTimesTheBlockRate()
    {
        await using var simulator = Start(Machines("name=m"), new OpcUaSimulatorSettings { Speed = 10 });
        using var stop = new CancellationTokenSource();
        var run = simulator.RunAsync(stop.Token);
        var before = simulator.Machines[0].Readings.Blocks;
        var watch = Stopwatch.StartNew();
        await Task.Delay(1000);
        var blocks = simulator.Machines[0].Readings.Blocks - before;
        var expected = watch.Elapsed.TotalSeconds * 25600 * 10 / 2048;
        await stop.CancelAsync();
        await run;
        Assert.InRange(blocks, expected * 0.8, expected * 1.1);
    }

    [Fact]
    public async Task Faults_DroppedNotificationsAndDisconnects_ClientRecoversEveryBlock()
    {
        await using var simulator = Start(Machines("name=m"), new OpcUaSimulatorSettings { DropNotificationsEvery = 4, DisconnectEverySeconds = 1 });
        var sequences = new ConcurrentQueue<uint>();
        var connection = new OpcUaConnection(new OpcUaConnectionOptions { EndpointUrl = simulator.EndpointUrl });
        var subscription = connection.AddSubscription(
            new SubscriptionSettings { PublishingIntervalMs = 20 },
            [new MonitoredItemSpec { Node = NodeIdText.Parse(SimulatorNodes.Id("m", "Sequence")), SamplingIntervalMs = 0, QueueSize = 20 }],
            new Handler(v => sequences.Enqueue((uint)v.Value.Value!)));
        using var stop = new CancellationTokenSource();
        var pacing = simulator.RunAsync(stop.Token);
        var run = connection.RunAsync(stop.Token);
        await Task.Delay(3500);
        await stop.CancelAsync();
        await TestRuns.Swallow(run);
        await pacing;
        var seenAll = sequences.Distinct().Order().ToArray();
        var stats = $"disconnects {simulator.Disconnects} reconnects {connection.Statistics.Reconnects} dropped {simulator.Server.Faults.DroppedNotifications} republished {subscription.Republished} lost {subscription.Lost} blocks {seenAll.Length} [{string.Join(",", seenAll)}] published {simulator.Machines[0].Readings.Blocks}";
        Assert.True(seenAll.Length >= 30, stats);
        Assert.True(simulator.Disconnects >= 2, $"{simulator.Disconnects} disconnects");
        Assert.True(connection.Statistics.Reconnects >= 2, $"{connection.Statistics.Reconnects} reconnects");
        Assert.True(simulator.Server.Faults.DroppedNotifications >= 3);
        Assert.True(subscription.Republished >= 3, $"{subscription.Republished} republished");
        var seen = sequences.Distinct().Order().ToArray();
        Assert.True(seen.Length >= 30, $"{seen.Length} blocks");
        Assert.Equal(Enumerable.Range((int)seen[0], seen.Length).Select(static i => (uint)i), seen);
    }

    [Fact]
    public async Task ControlCommands_ChangeFaultsAndReportStatus()
    {
        await using var simulator = Start(Machines("name=m"));
        Assert.Null(OpcUaCommand.Execute(simulator, "  # comment"));
        Assert.Equal("ok delay 250", OpcUaCommand.Execute(simulator, "delay 250")!.Value.Lines[^1]);
        Assert.Equal(TimeSpan.FromMilliseconds(250), simulator.Server.Faults.ResponseDelay);
        Assert.Equal("ok drop every 5", OpcUaCommand.Execute(simulator, "drop 5")!.Value.Lines[^1]);
        Assert.Equal(5, simulator.Server.Faults.DropNotificationsEvery);
        var status = OpcUaCommand.Execute(simulator, "status")!.Value.Lines;
        Assert.Contains(status, l => l.StartsWith("status faults delay=250 drop=every-5", StringComparison.Ordinal));
        Assert.Contains(status, l => l.StartsWith("status machine name=m blocks=1 ", StringComparison.Ordinal));
        Assert.Equal("ok clear", OpcUaCommand.Execute(simulator, "clear")!.Value.Lines[^1]);
        Assert.Equal(TimeSpan.Zero, simulator.Server.Faults.ResponseDelay);
        Assert.StartsWith("error unknown or malformed command 'drop -1'", OpcUaCommand.Execute(simulator, "drop -1")!.Value.Lines[^1], StringComparison.Ordinal);
        Assert.Equal("ok disconnect 0", OpcUaCommand.Execute(simulator, "disconnect")!.Value.Lines[^1]);
        Assert.True(OpcUaCommand.Execute(simulator, "quit")!.Value.Quit);
    }

    [Fact]
    public async Task ResponseDelay_ReadTakesAtLeastTheDelay()
    {
        await using var simulator = Start(Machines("name=m"), new OpcUaSimulatorSettings { DelayMilliseconds = 300 });
        var (channel, session) = await ConnectAsync(simulator.EndpointUrl);
        await using var _ = channel;
        await using var __ = session;
        var watch = Stopwatch.StartNew();
        await session.ReadValueAsync(session.Resolve(SimulatorNodes.Id("m", "Speed")));
        Assert.True(watch.ElapsedMilliseconds >= 280, $"{watch.ElapsedMilliseconds} ms");
        Assert.True(simulator.Server.Faults.DelayedResponses >= 1);
    }

    [Fact]
    public async Task ProgressLines_Recording_ShowBlockPassAndPercent()
    {
        var path = TempCsv(2048 * 4, out _);
        try
        {
            var machines = MachineCatalog.Resolve(new MachineSpec(), [MachineSpecParser.Parse($"name=rec,recording={path},loop")]);
            await using var simulator = Start(machines);
            simulator.Machines[0].PublishNext();
            simulator.Machines[0].PublishNext();
            simulator.Machines[0].PublishNext();
            simulator.Machines[0].PublishNext();
            var line = Assert.Single(OpcUaCommand.ProgressLines(simulator));
            Assert.StartsWith("progress rec: block 1/4  25.0 % (pass 2)", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReplayProgress_GeneratorAndEndedRecording_DescribeWhereTheyAre()
    {
        var generated = Machines("name=gen")[0];
        Assert.Equal("progress gen: block 25, 2.0 s of signal", ReplayProgress.Line(generated, new MachineReadings(25, 25, 0, 0, 40, 1796, 0, true, false)));
        var path = TempCsv(2048 * 3, out _);
        try
        {
            var recorded = Machines($"name=rec,recording={path}")[0];
            Assert.Equal(3, ReplayProgress.BlocksPerPass(recorded));
            Assert.StartsWith("progress rec: block 3/3 100.0 % (ended)", ReplayProgress.Line(recorded, new MachineReadings(3, 3, 0, 0, 40, 0, 0, false, true)), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Record_FromOpcUaAndModbus_CapturesTheGeneratorsSignal()
    {
        var machines = Machines("name=m,fault=outer-race,seed=3");
        // OPC UA on-read: each block once, as fast as the recorder takes them (none missed on a busy machine).
        await using var opcua = Start(machines, new OpcUaSimulatorSettings { Pacing = SimulatorPacing.OnRead });
        await using var modbus = new ModbusSimulator(new ModbusSimulatorSettings { Port = 0 }, machines, NullLoggerFactory.Instance, TimeProvider.System);
        var modbusEndpoint = modbus.Start();
        using var stop = new CancellationTokenSource();
        var pacing = Task.WhenAll(opcua.RunAsync(stop.Token), modbus.RunPacingAsync(stop.Token));
        var signal = new float[2048 * 200];
        new MachineSignalGenerator(machines[0].Generator!).Generate(signal);
        try
        {
            var csv = Path.Combine(Path.GetTempPath(), $"fe-rec-{Guid.NewGuid():N}.csv");
            var wav = Path.Combine(Path.GetTempPath(), $"fe-rec-{Guid.NewGuid():N}.wav");
            var output = new StringWriter(CultureInfo.InvariantCulture);
            var code = await RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = opcua.EndpointUrl, Machine = "m", Out = csv, Seconds = 1, Rpm = 1796 }, output, TextWriter.Null, TimeProvider.System, CancellationToken.None);
            Assert.True(code == 0, output.ToString());
            code = await RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "modbus://" + modbusEndpoint + "/1", Out = wav, Seconds = 1 }, output, TextWriter.Null, TimeProvider.System, CancellationToken.None);
            Assert.True(code == 0, output.ToString());
            foreach (var file in new[] { csv, wav })
            {
                var recording = RecordingReader.Load(file);
                Assert.Equal(25600, recording.SampleRateHz);
                Assert.Equal(25600, recording.SampleCount);
                var samples = recording.Channels[0].Samples.ToArray();
                var start = FindBlock(signal, samples);
                Assert.True(start >= 0, $"{file}: the first block is not a block of the generator's signal");
                if (file == csv)
                {
                    // Over OPC UA on-read: back to back.
                    Assert.Equal(signal.AsSpan(start, samples.Length).ToArray(), samples);
                }
                else
                {
                    // Over Modbus in real time a busy machine may miss a block (a counted gap): every block is still one of the signal's, in order.
                    var previous = -1;
                    for (var k = 0; k + 2048 <= samples.Length; k += 2048)
                    {
                        var at = FindBlock(signal, samples[k..]);
                        Assert.True(at > previous, $"block at {k} is not a later block of the signal");
                        previous = at;
                    }
                }

                File.Delete(file);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pacing;
        }
    }

    [Fact]
    public async Task Record_BadArguments_UsageExitAndMessage()
    {
        var ex = await Assert.ThrowsAsync<SimulatorUsageException>(() => RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "opc.tcp://127.0.0.1:1", Machine = "m", Out = "x.txt" }, TextWriter.Null, TextWriter.Null, TimeProvider.System, CancellationToken.None));
        Assert.Contains(".csv or .wav", ex.Message, StringComparison.Ordinal);
        ex = await Assert.ThrowsAsync<SimulatorUsageException>(() => RecordCommand.RunAsync(new RecordCommand.RecordSettings { From = "http://x", Out = "x.csv" }, TextWriter.Null, TextWriter.Null, TimeProvider.System, CancellationToken.None));
        Assert.Contains("neither opc.tcp://", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Process_OpcUaPortOnly_ServesTheDefaultSetAndStopsOnQuit()
    {
        await using var process = await SimulatorProcess.StartOpcUaAsync("--log-level", "warning");
        var (channel, session) = await ConnectAsync(process.Endpoint);
        await using (channel)
        {
            await using (session)
            {
                var objects = (await session.BrowseAsync([new NodeId(WellKnownNodes.ObjectsFolder)]))[0].Select(static r => r.BrowseName.Name).ToList();
                Assert.Contains("healthy", objects);
                Assert.Contains("outer-race", objects);
                Assert.Contains("imbalance", objects);
                var speed = await session.ReadValueAsync(session.Resolve(SimulatorNodes.Id("healthy", "Speed")));
                Assert.Equal(1796.0, speed.Value.Value);
            }
        }

        var status = await process.SendAsync("status");
        Assert.Contains(status, l => l.StartsWith("status machine name=outer-race", StringComparison.Ordinal));
        await process.CommandAsync("quit");
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Process_BadSecurityOption_ExitsWithUsage()
    {
        var (code, _, stderr) = await SimulatorProcess.RunToEndAsync(TimeSpan.FromSeconds(30), "opcua", "--port", "0", "--security", "bogus");
        Assert.Equal(2, code);
        Assert.Contains("--security 'bogus' is not one of all, none, secure", stderr, StringComparison.Ordinal);
    }

    private static int FindBlock(float[] signal, float[] samples)
    {
        for (var start = 0; start + samples.Length <= signal.Length; start += 2048)
        {
            if (signal.AsSpan(start, 2048).SequenceEqual(samples.AsSpan(0, 2048)))
            {
                return start;
            }
        }

        return -1;
    }


    private sealed class Handler(Action<DataValue> onValue) : ISubscriptionHandler
    {
        public void OnDataChange(int itemIndex, DataValue value) => onValue(value);

        public void OnGap(string reason)
        {
        }

        public void OnItemError(int itemIndex, StatusCode status, string message) => Assert.Fail($"{status} {message}");
    }
}
