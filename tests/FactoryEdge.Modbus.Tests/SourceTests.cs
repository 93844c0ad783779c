using FactoryEdge.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryEdge.Modbus.Tests;

public sealed class SourceTests
{
    [Fact]
    public async Task Scalars_DecodedScaledAndStampedAtReceipt()
    {
        await using var server = new TestServer();
        server.Bank.SetValue(ModbusTable.HoldingRegisters, 0, 4.5, new ModbusValueFormat(ModbusDataType.Float32, ModbusByteOrder.BigEndian, ModbusWordOrder.LowWordFirst));
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 4, unchecked((ushort)-123));
        server.Bank.SetRegister(ModbusTable.InputRegisters, 0, 1480);
        server.Bank.SetBits(ModbusTable.DiscreteInputs, 2, [true]);
        var options = Options(server.Port, device =>
        {
            device.AddressBase = 1;
            device.Points.Add(Point("p/l/m/s/rms", "Holding", 1, "float32", order: "CDAB"));
            device.Points.Add(Point("p/l/m/s/temp", "Holding", 5, "int16", scale: 0.1));
            device.Points.Add(Point("p/l/m/s/speed", "Input", 1, "uint16", offset: 20));
            device.Points.Add(Point("p/l/m/s/run", "Discrete", 3, "bool"));
        });
        var (source, writers) = Create(options);
        await RunUntil(source, writers, () => writers.All(w => w.Count >= 3));

        Assert.Equal(4.5f, writers[0].Blocks[0].Samples[0]);
        Assert.Equal(-12.3f, writers[1].Blocks[0].Samples[0], 4);
        Assert.Equal(1500f, writers[2].Blocks[0].Samples[0]);
        Assert.Equal(1f, writers[3].Blocks[0].Samples[0]);
        Assert.All(writers.SelectMany(w => w.Blocks), b => Assert.Equal(HostClock.ReceiptClockQuality(TimeProvider.System), b.Clock));
        Assert.All(writers.SelectMany(w => w.Blocks), b => Assert.Equal(SampleQuality.Good, b.Quality));
        var indices = writers[0].Blocks.Select(b => b.FirstSampleIndex).ToArray();
        Assert.True(indices.Zip(indices.Skip(1)).All(p => p.Second > p.First), "indices increase");
        Assert.Equal(50.0, source.Channels[0].SampleRateHz, 6);
    }

    [Fact]
    public async Task Scalars_CoalescedReadHitsHole_SplitOnceAndRemembered()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 0, 10);
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 6, 60);
        server.Bank.SetHole(ModbusTable.HoldingRegisters, 2, 3);
        var options = Options(server.Port, device =>
        {
            device.MaxGap = 8;
            device.Points.Add(Point("p/l/m/a/x", "Holding", 0, "uint16"));
            device.Points.Add(Point("p/l/m/b/x", "Holding", 6, "uint16"));
        });
        var (source, writers) = Create(options);
        await RunUntil(source, writers, () => writers.All(w => w.Count >= 4));

        Assert.Equal(1, source.Statistics.SplitFallbacks);
        Assert.All(writers[0].Blocks, b => Assert.Equal(10f, b.Samples[0]));
        Assert.All(writers[1].Blocks, b => Assert.Equal(60f, b.Samples[0]));
    }

    [Fact]
    public async Task Scalars_OutOfRangeOrDeviceException_BadQuality()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 0, 500);
        server.Server.Faults.Rule = r => r.Address == 50 ? ModbusFault.Respond(ModbusExceptionCode.ServerDeviceFailure) : ModbusFault.None;
        var options = Options(server.Port, device =>
        {
            device.MaxGap = 0;
            device.Points.Add(new ModbusPointOptions { Channel = "p/l/m/a/x", Address = 0, Type = "uint16", Max = 100 });
            device.Points.Add(Point("p/l/m/b/x", "Holding", 50, "uint16"));
        });
        var (source, writers) = Create(options);
        await RunUntil(source, writers, () => writers.All(w => w.Count >= 2));

        Assert.All(writers[0].Blocks, b => Assert.Equal((SampleQuality.Bad, 500f), (b.Quality, b.Samples[0])));
        Assert.All(writers[1].Blocks, b => Assert.Equal(SampleQuality.Bad, b.Quality));
        Assert.All(writers[1].Blocks, b => Assert.True(float.IsNaN(b.Samples[0])));
        Assert.True(source.Statistics.BadSamples >= 4);
    }

    [Fact]
    public async Task Scalars_ConnectionLostThenBack_GapFlaggedAndIndicesSkip()
    {
        await using var server = new TestServer();
        server.Bank.SetRegister(ModbusTable.HoldingRegisters, 0, 1);
        var options = Options(server.Port, device => device.Points.Add(Point("p/l/m/a/x", "Holding", 0, "uint16")));
        options.Devices[0].TimeoutMs = 50;
        var (source, writers) = Create(options);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await ClientTests.WaitUntil(() => writers[0].Count >= 2);
        server.Server.Faults.DropReplyProbability = 1;
        server.Server.DropConnections();
        await ClientTests.WaitUntil(() => source.Statistics.FailedPolls >= 2);
        server.Server.Faults.DropReplyProbability = 0;
        var before = writers[0].Count;
        await ClientTests.WaitUntil(() => writers[0].Count >= before + 2);
        await cts.CancelAsync();
        await run;

        var gap = Assert.Single(writers[0].GapsBefore);
        Assert.Equal(before, gap);
        var blocks = writers[0].Blocks;
        Assert.True(blocks[before].FirstSampleIndex - blocks[before - 1].FirstSampleIndex >= 3, "missed polls leave a hole in the indices");
        Assert.Equal(1, source.Statistics.Gaps);
    }

    [Fact]
    public async Task Waveform_NewBlocks_WrittenWithIndicesFromSequence()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(2000, 300));
        publisher.Publish(Ramp(300, 0), 1000f);
        var (poller, writer, statistics, client) = CreateWaveform(server.Port, contiguous: true);
        await using var clientScope = client;

        Assert.True(await poller.PollOnceAsync(CancellationToken.None));
        Assert.False(await poller.PollOnceAsync(CancellationToken.None));
        publisher.Publish(Ramp(300, 1000), 1000f);
        Assert.True(await poller.PollOnceAsync(CancellationToken.None));

        var blocks = writer.Blocks;
        Assert.Equal(2, blocks.Count);
        Assert.Equal(Ramp(300, 0), blocks[0].Samples);
        Assert.Equal(Ramp(300, 1000), blocks[1].Samples);
        Assert.Equal(300, blocks[0].FirstSampleIndex);
        Assert.Equal(600, blocks[1].FirstSampleIndex);
        Assert.Empty(writer.GapsBefore);
        Assert.Equal(1, statistics.RepeatedBlocks);
        Assert.Equal(HostClock.ReceiptClockQuality(TimeProvider.System), blocks[0].Clock);
    }

    [Fact]
    public async Task Waveform_UpdateInProgress_TornReadRejectedAfterRetries()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(0, 100));
        publisher.Publish(Ramp(100, 0), 1000f);
        publisher.BeginUpdate(1000f);
        publisher.WriteSamples(0, Ramp(50, 500));
        var (poller, writer, statistics, client) = CreateWaveform(server.Port, address: 0, count: 100, retries: 2);
        await using var clientScope = client;

        Assert.False(await poller.PollOnceAsync(CancellationToken.None));
        Assert.Empty(writer.Blocks);
        Assert.Equal(3, statistics.TornReads);
        Assert.Equal(1, statistics.TornRejected);

        publisher.WriteSamples(50, Ramp(100, 500)[50..]);
        publisher.EndUpdate();
        Assert.True(await poller.PollOnceAsync(CancellationToken.None));
        Assert.Equal(Ramp(100, 500), writer.Blocks.Single().Samples);
    }

    [Fact]
    public async Task Waveform_UpdateStartsDuringRead_TornDetected()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(0, 200));
        publisher.Publish(Ramp(200, 0), 1000f);

        // The device starts its next block right after the reader fetched the tail.
        var armed = 1;
        server.Server.Faults.Rule = r =>
        {
            if (r.Address == publisher.Layout.TailAddress && Interlocked.Exchange(ref armed, 0) == 1)
            {
                _ = Task.Run(() => publisher.BeginUpdate(1000f));
                return ModbusFault.Slow(TimeSpan.FromMilliseconds(50));
            }

            return ModbusFault.None;
        };
        var (poller, writer, statistics, client) = CreateWaveform(server.Port, address: 0, count: 200, retries: 0);
        await using var clientScope = client;

        Assert.False(await poller.PollOnceAsync(CancellationToken.None));
        Assert.Equal(1, statistics.TornReads);
        Assert.Empty(writer.Blocks);
    }

    [Fact]
    public async Task Waveform_BlocksMissed_CountedAndGapFlagged()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(2000, 300));
        publisher.Publish(Ramp(300, 0), 1000f);
        var (poller, writer, statistics, client) = CreateWaveform(server.Port, contiguous: true);
        await using var clientScope = client;
        await poller.PollOnceAsync(CancellationToken.None);
        publisher.Publish(Ramp(300, 1), 1000f);
        publisher.Publish(Ramp(300, 2), 1000f);
        publisher.Publish(Ramp(300, 3), 1000f);
        await poller.PollOnceAsync(CancellationToken.None);

        Assert.Equal(2, statistics.MissedBlocks);
        Assert.Equal([1], writer.GapsBefore);
        Assert.Equal(4 * 300, writer.Blocks[1].FirstSampleIndex);
    }

    [Fact]
    public async Task Waveform_SnapshotDevice_EveryBlockAfterFirstStartsAfterGap()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(2000, 300));
        publisher.Publish(Ramp(300, 0), 1000f);
        var (poller, writer, _, client) = CreateWaveform(server.Port, contiguous: false);
        await using var clientScope = client;
        await poller.PollOnceAsync(CancellationToken.None);
        publisher.Publish(Ramp(300, 1), 1000f);
        await poller.PollOnceAsync(CancellationToken.None);
        Assert.Equal([1], writer.GapsBefore);
    }

    [Fact]
    public async Task Waveform_NonFiniteSample_BadQuality()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(2000, 300));
        var samples = Ramp(300, 0);
        samples[10] = float.NaN;
        publisher.Publish(samples, 1000f);
        var (poller, writer, _, client) = CreateWaveform(server.Port);
        await using var clientScope = client;
        await poller.PollOnceAsync(CancellationToken.None);
        Assert.Equal(SampleQuality.Bad, writer.Blocks.Single().Quality);
    }

    [Fact]
    public async Task Waveform_SourceLoop_FeedsWriter()
    {
        await using var server = new TestServer();
        var publisher = new ModbusWaveformPublisher(server.Bank, ModbusTable.InputRegisters, new ModbusWaveformLayout(2000, 300));
        publisher.Publish(Ramp(300, 0), 1000f);
        var options = Options(server.Port, device => device.Waveforms.Add(new ModbusWaveformOptions
        {
            Channel = "p/l/m/s/wave",
            Address = 2000,
            SampleCount = 300,
            SampleRateHz = 1000,
            PollIntervalMs = 20,
        }));
        var (source, writers) = Create(options);
        await RunUntil(source, writers, () => writers[0].Count >= 1);
        Assert.Equal(Ramp(300, 0), writers[0].Blocks[0].Samples);
        Assert.Equal(1000.0, source.Channels[0].SampleRateHz);
    }

    [Fact]
    public async Task WriteRegisters_DisabledDevice_Refused()
    {
        var options = Options(502, device => device.Points.Add(Point("p/l/m/a/x", "Holding", 0, "uint16")));
        var source = new ModbusSensorSource(options);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => source.WriteRegistersAsync("dev", 0, new ushort[] { 1 }, CancellationToken.None));
        Assert.Contains("disabled", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteRegisters_EnabledDevice_WritesThroughRunningSource()
    {
        await using var server = new TestServer();
        var options = Options(server.Port, device =>
        {
            device.WritesEnabled = true;
            device.AddressBase = 1;
            device.Points.Add(Point("p/l/m/a/x", "Holding", 1, "uint16"));
        });
        var (source, writers) = Create(options);
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        await ClientTests.WaitUntil(() => writers[0].Count >= 1);
        await source.WriteRegistersAsync("dev", 10, new ushort[] { 321 }, CancellationToken.None);
        await cts.CancelAsync();
        await run;
        Assert.Equal(321, server.Bank.GetRegister(ModbusTable.HoldingRegisters, 9));
    }

    internal static float[] Ramp(int n, float start) => Enumerable.Range(0, n).Select(i => start + (i * 0.5f)).ToArray();

    internal static ModbusOptions Options(int port, Action<ModbusDeviceOptions> configure)
    {
        var device = new ModbusDeviceOptions { Name = "dev", Host = "127.0.0.1", Port = port, PollIntervalMs = 20, TimeoutMs = 2000 };
        configure(device);
        return new ModbusOptions { Devices = [device] };
    }

    internal static ModbusPointOptions Point(string channel, string table, int address, string type, string? order = null, double scale = 1, double offset = 0) =>
        new() { Channel = channel, Table = table, Address = address, Type = type, Order = order, Scale = scale, Offset = offset };

    internal static (ModbusSensorSource Source, RecordingWriter[] Writers) Create(ModbusOptions options)
    {
        var source = new ModbusSensorSource(options);
        return (source, source.Channels.Select(c => new RecordingWriter(c)).ToArray());
    }

    internal static async Task RunUntil(ModbusSensorSource source, RecordingWriter[] writers, Func<bool> condition)
    {
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(writers, cts.Token);
        try
        {
            await ClientTests.WaitUntil(condition);
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    private static (WaveformPoller Poller, RecordingWriter Writer, ModbusSourceStatistics Statistics, ModbusClient Client) CreateWaveform(int port, ushort address = 2000, int count = 300, int retries = 3, bool contiguous = false)
    {
        var options = Options(port, device => device.Waveforms.Add(new ModbusWaveformOptions
        {
            Channel = "p/l/m/s/wave",
            Address = address,
            SampleCount = count,
            SampleRateHz = 1000,
            TornRetries = retries,
            Contiguous = contiguous,
        }));
        ModbusDeviceMap.Build(options, out var devices, out var channels);
        var device = devices[0];
        var client = new ModbusClient(device.Client);
        var writer = new RecordingWriter(channels[0]);
        var statistics = new ModbusSourceStatistics();
        var poller = new WaveformPoller(device, device.Waveforms[0], client, writer, statistics, NullLogger.Instance, TimeProvider.System);
        return (poller, writer, statistics, client);
    }
}
