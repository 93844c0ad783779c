using System.Diagnostics;
using FactoryEdge.Core;
using FactoryEdge.Signal;
using FactoryEdge.Tests.Shared;

namespace FactoryEdge.Recordings.Tests;

/// <summary>The CWRU recordings (Case Western Reserve University Bearing Data Center) load as the README describes.</summary>
public sealed class CwruRecordingTests
{
    // Sample counts, AC RMS and kurtosis from shared/data/cwru/README.md.
    [CwruTheory]
    [InlineData(TestData.Normal, 243_938, 0.0727, 2.76)]
    [InlineData(TestData.InnerRace, 243_938, 0.583, 6.03)]
    [InlineData(TestData.Ball, 244_739, 0.146, 3.15)]
    [InlineData(TestData.OuterRace, 243_538, 1.258, 6.74)]
    public void Load_CwruFile_MatchesReadme(string file, int samples, double acRms, double kurtosis)
    {
        var recording = RecordingReader.Load(TestData.Cwru(file));

        Assert.Equal(48000, recording.SampleRateHz);
        Assert.Equal(samples, recording.SampleCount);
        Assert.Equal(1796 / 60.0, recording.NominalShaftHz, 9);
        Assert.Equal(BearingCatalog.Get("SKF 6205-2RS JEM"), recording.Bearing);
        var channel = Assert.Single(recording.Channels);
        Assert.Equal("drive_end_accelerometer", channel.Name);
        Assert.Equal(SignalUnit.G, channel.Unit);
        Assert.Equal(0, channel.NonFiniteCount);

        var (rms, kurt) = Moments(channel.Samples.Span);
        Assert.InRange(rms, acRms * 0.99, acRms * 1.01);
        Assert.InRange(kurt, kurtosis - 0.02, kurtosis + 0.02);
    }

    [CwruFact]
    public void Load_CwruFile_ParsesWellUnderASecond()
    {
        var path = TestData.Cwru(TestData.Normal);
        RecordingReader.Load(path);

        var watch = Stopwatch.StartNew();
        var recording = RecordingReader.Load(path);
        watch.Stop();

        Assert.Equal(243_938, recording.SampleCount);
        // Typically ~20 ms; the bound leaves room for a busy shared machine.
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [CwruFact]
    public void ToChannelDescriptors_CwruFile_CarriesSpeedBearingAndSensor()
    {
        var recording = RecordingReader.Load(TestData.Cwru(TestData.OuterRace));

        var descriptor = Assert.Single(recording.ToChannelDescriptors("lab", "rig", "cwru"));

        Assert.Equal(new ChannelId("lab", "rig", "cwru", "drive_end_accelerometer", "x"), descriptor.Id);
        Assert.Equal(48000, descriptor.SampleRateHz);
        Assert.Equal(1796 / 60.0, descriptor.NominalShaftHz, 9);
        Assert.Equal(9, descriptor.Bearing?.BallCount);
    }

    private static (double Rms, double Kurtosis) Moments(ReadOnlySpan<float> x)
    {
        double mean = 0;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= x.Length;
        double m2 = 0, m4 = 0;
        foreach (var v in x)
        {
            var d = v - mean;
            m2 += d * d;
            m4 += d * d * d * d;
        }

        m2 /= x.Length;
        m4 /= x.Length;
        return (Math.Sqrt(m2), m4 / (m2 * m2));
    }
}
