using FactoryEdge.Core;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Signal;
using Microsoft.Extensions.Time.Testing;

namespace FactoryEdge.Dashboard.Tests;

public sealed class DisplayTapTests
{
    private const int Window = 4096;
    private const int Hop = 2048;

    [Fact]
    public async Task Frame_OuterRaceFault_EnvelopeLineSitsOnTheBpfoMarker()
    {
        var config = new SimulatedMachineConfig { Machine = "motor-3", ShaftRpm = 1780, Fault = "OuterRace", FaultOnsetSeconds = 0, FaultRampSeconds = 0.1, FaultSeverity = 1.0, Seed = 33 };
        var (channel, samples) = SimulatedSources.Generate(config, "plant", "line-1", 25600 * 6);
        var time = new FakeTimeProvider();
        var tap = new DisplayTap(new DashboardOptions(), time);
        tap.Attach([channel], FeatureSchema.Names(FeatureExtractorOptions.DefaultBands), Window, Hop);
        tap.Watch(0);

        await FeedAsync(tap, channel, samples, time);

        var frame = tap.Spectrum(0);
        Assert.NotNull(frame);
        Assert.True(frame.EnvelopeReady);
        var defects = Assert.IsType<DefectFrequencies>(frame.Defects);
        var orders = BearingOrders.FromGeometry(channel.Bearing!);
        Assert.InRange(frame.ShaftHz, 1780 / 60.0 * 0.98, 1780 / 60.0 * 1.02);
        Assert.Equal(orders.Bpfo * frame.ShaftHz, defects.Bpfo, 6);
        Assert.Equal(orders.Bpfi * frame.ShaftHz, defects.Bpfi, 6);
        Assert.Equal(orders.Ftf * frame.ShaftHz, defects.Ftf, 6);

        // The strongest envelope line between 20 Hz and the pass band is the BPFO line.
        var peak = 0;
        for (var k = (int)(20 / frame.EnvelopeBinHz); k < frame.Envelope.Length; k++)
        {
            if (frame.Envelope[k] > frame.Envelope[peak])
            {
                peak = k;
            }
        }

        Assert.InRange(peak * frame.EnvelopeBinHz, defects.Bpfo * 0.97, defects.Bpfo * 1.03);
        Assert.Equal(Window / (Window / 1024), frame.Waveform.Length);
        Assert.Equal(25600 / 2.56, (frame.Spectrum.Length - 1) * frame.SpectrumBinHz, 0);
    }

    [Fact]
    public async Task Spectra_ComputedOnlyWhileWatched()
    {
        var (channel, samples) = SimulatedSources.Generate(new SimulatedMachineConfig { Machine = "pump-1" }, "plant", "line-1", Window * 4);
        var time = new FakeTimeProvider();
        var tap = new DisplayTap(new DashboardOptions { WatchSeconds = 5 }, time);
        tap.Attach([channel], FeatureSchema.Names(FeatureExtractorOptions.DefaultBands), Window, Hop);

        await FeedAsync(tap, channel, samples, time);

        Assert.Null(tap.Spectrum(0));
        Assert.NotNull(tap.Latest(0)); // latest values and trends always
    }

    [Fact]
    public void TrendRing_FoldsWindowsOfOneInterval_KeepsTheMaximumScore()
    {
        var ring = new TrendRing(3);

        ring.Add(1_000, 1000, 0.1f, 1f, 2f, 6f);
        ring.Add(1_400, 1000, 0.3f, 1.2f, 9f, 6f);
        ring.Add(1_900, 1000, 0.2f, float.NaN, 3f, 6f);
        ring.Add(2_100, 1000, 0.2f, 1.1f, 1f, 6f);
        ring.Add(3_000, 1000, 0.2f, 1.1f, 1f, 6f);
        ring.Add(4_000, 1000, 0.2f, 1.1f, 1f, 6f);

        var points = ring.Snapshot(0);
        Assert.Equal([2_000L, 3_000L, 4_000L], points.Select(p => p.TimeMs));
        var first = new TrendRing(3);
        first.Add(1_000, 1000, 0.1f, 1f, 2f, 6f);
        first.Add(1_400, 1000, 0.3f, 1.2f, 9f, 6f);
        first.Add(1_900, 1000, 0.2f, float.NaN, 3f, 6f);
        var folded = Assert.Single(first.Snapshot(0));
        Assert.Equal(new TrendPoint(1_000, 0.3f, 1.2f, 9f, 6f), folded);
        Assert.Empty(first.Snapshot(1_000));
    }

    [Fact]
    public async Task Write_ResultOfUnknownChannel_IsIgnored()
    {
        var (channel, _) = SimulatedSources.Generate(new SimulatedMachineConfig { Machine = "pump-1" }, "plant", "line-1", 16);
        var tap = new DisplayTap(new DashboardOptions(), TimeProvider.System);
        tap.Attach([channel], FeatureSchema.Names(FeatureExtractorOptions.DefaultBands), Window, Hop);
        var other = new WindowResult(40) { ChannelIndex = 0, Channel = new ChannelId("plant", "line-1", "other", "de", "x") };

        await tap.WriteAsync(other, CancellationToken.None);

        Assert.Null(tap.Latest(0));
        Assert.Equal(0, tap.Windows);
    }

    private static async Task FeedAsync(DisplayTap tap, ChannelDescriptor channel, float[] samples, FakeTimeProvider time)
    {
        var names = FeatureSchema.Names(FeatureExtractorOptions.DefaultBands);
        var result = new WindowResult(names.Length) { ChannelIndex = 0, Channel = channel.Id, WindowSize = Window, SampleRateHz = channel.SampleRateHz };
        for (long first = 0, n = 0; first + Window <= samples.Length; first += Hop, n++)
        {
            result.FirstSampleIndex = first;
            result.WindowNumber = n;
            result.Timestamps.SourceStartTicks = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).AddSeconds(first / channel.SampleRateHz).UtcTicks;
            result.Score = 1;
            result.Threshold = 6;
            await tap.WriteAsync(result, CancellationToken.None);
            await tap.WriteAsync(result, samples.AsMemory((int)first, Window), CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(Hop / channel.SampleRateHz));
        }
    }
}
