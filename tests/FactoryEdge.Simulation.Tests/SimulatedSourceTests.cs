using FactoryEdge.Core;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Simulation.Tests;

public sealed class SimulatedSourceTests
{
    private static readonly DateTimeOffset FakeNow = new(2025, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private static SimulatedMachine[] Machines(double rate = 25600) =>
    [
        SimulatedMachine.Create(new ChannelId("site", "line", "pump", "de", "x"), new MachineSignalOptions { SampleRateHz = rate, Seed = 1 }),
        SimulatedMachine.Create(new ChannelId("site", "line", "pump", "nde", "x"), new MachineSignalOptions { SampleRateHz = rate, Seed = 2, Faults = [new MachineFault(FaultType.OuterRace, 0.5)] }),
        SimulatedMachine.Create(new ChannelId("site", "line", "fan", "de", "x"), new MachineSignalOptions { SampleRateHz = rate, Seed = 3, ShaftHz = 24 }),
    ];

    private static FakeChannelWriter[] Writers(SimulatedSource source) => [.. source.Channels.Select(c => new FakeChannelWriter(c))];

    private static long ExpectedTicks(DateTimeOffset start, long index, double rate) =>
        start.UtcTicks + (long)Math.Round((decimal)index * TimeSpan.TicksPerSecond / (decimal)rate);

    private static void AssertContiguous(IReadOnlyList<ReceivedBlock> blocks)
    {
        long expected = 0;
        foreach (var block in blocks)
        {
            Assert.Equal(expected, block.FirstSampleIndex);
            expected += block.Samples.Length;
        }
    }

    [Fact]
    public async Task RunAsync_AsFastAsPossibleWithSampleLimit_WritesContiguousBlocksOfEachGeneratorsSignal()
    {
        var machines = Machines();
        var time = new FakeTimeProvider(FakeNow);
        var source = new SimulatedSource(machines, new SimulatedSourceOptions { Pacing = SimulationPacing.AsFastAsPossible, BlockSize = 1024, MaxSamplesPerChannel = 5000 }, time);
        var writers = Writers(source);

        await source.RunAsync(writers, CancellationToken.None);

        for (var c = 0; c < machines.Length; c++)
        {
            var blocks = writers[c].Blocks;
            Assert.Equal(5, blocks.Count);
            Assert.Equal(5000 - (4 * 1024), blocks[^1].Samples.Length);
            AssertContiguous(blocks);
            Assert.All(blocks, b =>
            {
                Assert.False(b.ViaTryWrite);
                Assert.Equal(ClockQuality.Synchronized, b.Clock);
                Assert.Equal(ExpectedTicks(FakeNow, b.FirstSampleIndex, 25600), b.SourceTimestampTicks);
            });

            var expected = new float[5000];
            new MachineSignalGenerator(machines[c].Signal).Generate(expected);
            Assert.Equal(expected, writers[c].AllSamples());
        }

        Assert.Equal(15, source.BlocksWritten);
    }

    [Fact]
    public async Task RunAsync_Twice_IsReproducible()
    {
        var source = new SimulatedSource(Machines(), new SimulatedSourceOptions { Pacing = SimulationPacing.AsFastAsPossible, MaxSamplesPerChannel = 3000, StartTime = FakeNow });
        var first = Writers(source);
        var second = Writers(source);

        await source.RunAsync(first, CancellationToken.None);
        await source.RunAsync(second, CancellationToken.None);

        for (var c = 0; c < first.Length; c++)
        {
            Assert.Equal(first[c].AllSamples(), second[c].AllSamples());
            Assert.Equal(first[c].Blocks.Select(b => b.SourceTimestampTicks), second[c].Blocks.Select(b => b.SourceTimestampTicks));
        }
    }

    [Fact]
    public async Task RunAsync_RealTime_WritesOneBlockPerChannelEachBlockPeriod()
    {
        // 1280 samples at 25.6 kHz = 50 ms per block.
        var time = new FakeTimeProvider(FakeNow);
        var source = new SimulatedSource(Machines(), new SimulatedSourceOptions { BlockSize = 1280, Duration = TimeSpan.FromMilliseconds(250) }, time);
        var writers = Writers(source);

        var run = source.RunAsync(writers, CancellationToken.None);
        await Task.Delay(30);
        Assert.All(writers, w => Assert.Empty(w.Blocks));

        for (var block = 1; block <= 5; block++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Wait.UntilAsync(() => writers.All(w => w.Blocks.Count >= block));
            Assert.All(writers, w => Assert.Equal(block, w.Blocks.Count));
        }

        await run;
        foreach (var writer in writers)
        {
            AssertContiguous(writer.Blocks);
            Assert.All(writer.Blocks, b => Assert.True(b.ViaTryWrite));
            Assert.Equal(6400, writer.SampleCount);
        }
    }

    [Fact]
    public async Task RunAsync_RealTimeWithFullWriter_CountsDropsAndIndicesRunOn()
    {
        var time = new FakeTimeProvider(FakeNow);
        var source = new SimulatedSource(Machines()[..1], new SimulatedSourceOptions { BlockSize = 2560, MaxSamplesPerChannel = 4 * 2560 }, time);
        var writers = Writers(source);
        writers[0].AcceptTryWrite = false;

        var run = source.RunAsync(writers, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(200));
        await Wait.UntilAsync(() => source.DroppedBlocks == 2);
        writers[0].AcceptTryWrite = true;
        time.Advance(TimeSpan.FromMilliseconds(200));
        await run;

        Assert.Equal(2, source.DroppedBlocks);
        Assert.Equal(2, source.BlocksWritten);
        Assert.Equal([5120L, 7680L], writers[0].Blocks.Select(b => b.FirstSampleIndex));
    }

    [Fact]
    public async Task RunAsync_Cancelled_ThrowsOperationCanceled()
    {
        var source = new SimulatedSource(Machines(), new SimulatedSourceOptions { Pacing = SimulationPacing.AsFastAsPossible });
        var writers = Writers(source);
        using var cts = new CancellationTokenSource();
        writers[2].AfterBlock = w =>
        {
            if (w.Blocks.Count == 10)
            {
                cts.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => source.RunAsync(writers, cts.Token));

        Assert.All(writers, w => AssertContiguous(w.Blocks));
    }

    [Fact]
    public async Task RunAsync_WrongWriterCount_Throws()
    {
        var source = new SimulatedSource(Machines());

        await Assert.ThrowsAsync<ArgumentException>(() => source.RunAsync([new FakeChannelWriter(source.Channels[0])], CancellationToken.None));
    }

    [Fact]
    public void Constructor_DuplicateChannel_Throws()
    {
        var machine = Machines()[0];

        Assert.Throws<ArgumentException>(() => new SimulatedSource([machine, machine]));
    }

    [Fact]
    public void SimulatedMachine_RateMismatch_Throws()
    {
        var descriptor = new ChannelDescriptor { Id = new ChannelId("s", "l", "m", "p", "x"), SampleRateHz = 48000 };

        Assert.Throws<ArgumentException>(() => new SimulatedMachine(descriptor, new MachineSignalOptions()));
    }

    [Fact]
    public void SimulatedMachine_Create_DescriptorCarriesSpeedAndBearing()
    {
        var options = new MachineSignalOptions { ShaftHz = 24.5 };

        var machine = SimulatedMachine.Create(new ChannelId("s", "l", "m", "p", "x"), options);

        Assert.Equal(24.5, machine.Channel.NominalShaftHz);
        Assert.Equal(options.Bearing, machine.Channel.Bearing);
        Assert.Equal(25600, machine.Channel.SampleRateHz);
        Assert.Equal(SignalUnit.G, machine.Channel.Unit);
    }
}
