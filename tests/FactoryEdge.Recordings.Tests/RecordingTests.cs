using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Recordings.Tests;

public sealed class RecordingTests
{
    [Fact]
    public void ToChannelDescriptors_WavChannels_UseSensorNameAndChannelIndexAsAxis()
    {
        var bytes = WavWriter.ToBytes(25600, [new float[] { 0.1f, 0.2f }, new float[] { 0.3f, 0.4f }], WavSampleFormat.Pcm16);
        var recording = RecordingReader.ReadWav(new MemoryStream(bytes), "pump7.wav", new RecordingReadOptions
        {
            Scale = 20,
            NominalShaftHz = 49.5,
            Bearing = BearingCatalog.Get("6203"),
        });

        var descriptors = recording.ToChannelDescriptors("plant", "l1", "pump7");

        Assert.Equal(2, descriptors.Count);
        Assert.Equal("plant/l1/pump7/pump7/0", descriptors[0].Id.ToString());
        Assert.Equal("plant/l1/pump7/pump7/1", descriptors[1].Id.ToString());
        Assert.All(descriptors, d =>
        {
            Assert.Equal(25600, d.SampleRateHz);
            Assert.Equal(49.5, d.NominalShaftHz);
            Assert.Equal(8, d.Bearing?.BallCount);
            Assert.Equal(20, d.FullScale);
            Assert.Equal(SignalUnit.G, d.Unit);
        });
    }

    [Fact]
    public void ToChannelDescriptors_SlashInSensorName_IsReplaced()
    {
        var recording = new Recording("mem", 100, [new RecordingChannel("motor/de", "x", SignalUnit.G, new float[] { 1 })]);

        var id = recording.ToChannelDescriptors("s", "l", "m")[0].Id;

        Assert.Equal("motor-de", id.Sensor);
        Assert.Equal(id, ChannelId.Parse(id.ToString()));
    }

    [Fact]
    public void Constructor_ChannelsOfDifferentLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Recording("mem", 100,
        [
            new RecordingChannel("a", "x", SignalUnit.G, new float[3]),
            new RecordingChannel("a", "y", SignalUnit.G, new float[4]),
        ]));
    }
}
