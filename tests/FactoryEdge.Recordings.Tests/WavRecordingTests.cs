using System.Buffers.Binary;
using FactoryEdge.Core;

namespace FactoryEdge.Recordings.Tests;

public sealed class WavRecordingTests
{
    private static float[] Sine(int length, double frequency, double rate, double amplitude, double phase = 0)
    {
        var result = new float[length];
        for (var i = 0; i < length; i++)
        {
            result[i] = (float)(amplitude * Math.Sin((2 * Math.PI * frequency * i / rate) + phase));
        }

        return result;
    }

    /// <summary>A WAV file built byte by byte, independent of <see cref="WavWriter"/>.</summary>
    private static byte[] HandMadeWav(ushort formatTag, ushort channels, uint rate, ushort bits, ReadOnlySpan<byte> data, uint? declaredDataSize = null, byte[]? extraChunk = null)
    {
        var blockAlign = (ushort)(channels * bits / 8);
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write("RIFF"u8);
        writer.Write(0u);
        writer.Write("WAVE"u8);
        writer.Write("fmt "u8);
        writer.Write(16u);
        writer.Write(formatTag);
        writer.Write(channels);
        writer.Write(rate);
        writer.Write(rate * blockAlign);
        writer.Write(blockAlign);
        writer.Write(bits);
        if (extraChunk is not null)
        {
            writer.Write(extraChunk);
        }

        writer.Write("data"u8);
        writer.Write(declaredDataSize ?? (uint)data.Length);
        writer.Write(data);
        writer.Flush();
        var bytes = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    private static Recording ReadWav(byte[] bytes, RecordingReadOptions? options = null) =>
        RecordingReader.ReadWav(new MemoryStream(bytes), "test.wav", options);

    [Theory]
    [InlineData(WavSampleFormat.Pcm16, false, 1.0 / 32768)]
    [InlineData(WavSampleFormat.Pcm16, true, 1.0 / 32768)]
    [InlineData(WavSampleFormat.Pcm24, false, 1.0 / 8388608)]
    [InlineData(WavSampleFormat.Pcm24, true, 1.0 / 8388608)]
    [InlineData(WavSampleFormat.Pcm32, false, 1e-7)]
    [InlineData(WavSampleFormat.Pcm32, true, 1e-7)]
    [InlineData(WavSampleFormat.Float32, false, 0)]
    [InlineData(WavSampleFormat.Float32, true, 0)]
    public void WriteThenRead_EachFormat_RoundTripsWithinQuantisation(WavSampleFormat format, bool extensible, double tolerance)
    {
        const int Rate = 25600;
        var left = Sine(3001, 440, Rate, 0.9);
        var right = Sine(3001, 97, Rate, 0.3, phase: 1);

        var bytes = WavWriter.ToBytes(Rate, [left, right], format, new WavWriterOptions { Extensible = extensible });
        var recording = ReadWav(bytes);

        Assert.Equal(Rate, recording.SampleRateHz);
        Assert.Equal(2, recording.Channels.Count);
        Assert.Equal(3001, recording.SampleCount);
        Assert.Equal(["0", "1"], recording.Channels.Select(c => c.Axis));
        Assert.All(recording.Channels, c => Assert.Equal(SignalUnit.G, c.Unit));
        Assert.All(recording.Channels, c => Assert.Equal("test", c.Name));
        AssertClose(left, recording.Channels[0].Samples.Span, tolerance);
        AssertClose(right, recording.Channels[1].Samples.Span, tolerance);
    }

    [Fact]
    public void WriteThenRead_ScaleAndUnitOptions_GivePhysicalValues()
    {
        var values = new[] { 12.5f, -40f, 49.9f, 0f };
        var bytes = WavWriter.ToBytes(8000, [values], WavSampleFormat.Pcm24, new WavWriterOptions { Scale = 50 });

        var recording = ReadWav(bytes, new RecordingReadOptions { Scale = 50, Unit = SignalUnit.MetersPerSecondSquared, SensorName = "pump", ChannelAxes = ["y"] });

        var channel = Assert.Single(recording.Channels);
        Assert.Equal(SignalUnit.MetersPerSecondSquared, channel.Unit);
        Assert.Equal(50, channel.FullScale);
        Assert.Equal("pump", channel.Name);
        Assert.Equal("y", channel.Axis);
        AssertClose(values, channel.Samples.Span, 50.0 / 8388608);
    }

    [Fact]
    public void ReadWav_HandMadePcm16_DecodesToMinusOneToOne()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt16LittleEndian(data, short.MinValue);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2), 0);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), 16384);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(6), short.MaxValue);

        var recording = ReadWav(HandMadeWav(1, 1, 44100, 16, data));

        Assert.Equal([-1f, 0f, 0.5f, 32767f / 32768f], recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadWav_HandMadePcm24Stereo_DeinterleavesAndSignExtends()
    {
        // Frames: (-1, +0.5), (-0.25, max)
        byte[] data = [0x00, 0x00, 0x80, 0x00, 0x00, 0x40, 0x00, 0x00, 0xE0, 0xFF, 0xFF, 0x7F];

        var recording = ReadWav(HandMadeWav(1, 2, 48000, 24, data));

        Assert.Equal([-1f, -0.25f], recording.Channels[0].Samples.ToArray());
        Assert.Equal([0.5f, (float)(8388607 / 8388608.0)], recording.Channels[1].Samples.ToArray());
    }

    [Fact]
    public void ReadWav_UnknownChunkBeforeData_IsSkipped()
    {
        var data = new byte[4];
        BinaryPrimitives.WriteInt16LittleEndian(data, 8192);
        byte[] list = [.. "LIST"u8, 3, 0, 0, 0, 1, 2, 3, 0];

        var recording = ReadWav(HandMadeWav(1, 1, 1000, 16, data, extraChunk: list));

        Assert.Equal([0.25f, 0f], recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadWav_FloatWithNaN_LoadsAndCountsNonFinite()
    {
        float[] values = [1f, float.NaN, float.PositiveInfinity, -0.5f];
        var bytes = WavWriter.ToBytes(1000, [values], WavSampleFormat.Float32);

        var recording = ReadWav(bytes);

        Assert.Equal(2, recording.Channels[0].NonFiniteCount);
        Assert.True(float.IsNaN(recording.Channels[0].Samples.Span[1]));
    }

    [Fact]
    public void ReadWav_DataShorterThanDeclared_ThrowsTruncated()
    {
        var bytes = WavWriter.ToBytes(8000, [Sine(1000, 50, 8000, 0.5)], WavSampleFormat.Pcm16);
        var cut = bytes.AsSpan(0, bytes.Length - 100).ToArray();

        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(cut));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2000", ex.Message, StringComparison.Ordinal);
        Assert.Contains("test.wav", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_CutInsideHeader_ThrowsTruncated()
    {
        var bytes = WavWriter.ToBytes(8000, [Sine(100, 50, 8000, 0.5)], WavSampleFormat.Pcm16);

        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(bytes.AsSpan(0, 30).ToArray()));

        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_EightBitPcm_ThrowsUnsupportedBitDepth()
    {
        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(HandMadeWav(1, 1, 8000, 8, [128, 130])));

        Assert.Contains("8-bit integer PCM is not supported", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_AdpcmFormatTag_ThrowsUnsupportedFormat()
    {
        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(HandMadeWav(2, 1, 8000, 16, [0, 0])));

        Assert.Contains("format tag 0x0002", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_NotRiff_Throws()
    {
        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav("# sampling_rate_hz=1\n1\n"u8.ToArray()));

        Assert.Contains("not a RIFF/WAVE file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_EmptyDataChunk_ThrowsNoSamples()
    {
        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(HandMadeWav(1, 1, 8000, 16, [])));

        Assert.Contains("no samples", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadWav_UnknownDataSize_ReadsToEnd()
    {
        var data = new byte[6];
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), -16384);

        var recording = ReadWav(HandMadeWav(1, 1, 8000, 16, data, declaredDataSize: uint.MaxValue));

        Assert.Equal([0f, 0f, -0.5f], recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void ReadWav_AxisCountMismatch_Throws()
    {
        var bytes = WavWriter.ToBytes(8000, [new float[4], new float[4]], WavSampleFormat.Pcm16);

        var ex = Assert.Throws<RecordingFormatException>(() => ReadWav(bytes, new RecordingReadOptions { ChannelAxes = ["x", "y", "z"] }));

        Assert.Contains("2 channels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WavWriter_NonSeekableStream_WritesReadableFileWithUnknownSize()
    {
        var values = Sine(500, 10, 1000, 0.5);
        var inner = new MemoryStream();
        using (var writer = new WavWriter(new ForwardOnlyStream(inner), 1000, 1, WavSampleFormat.Float32))
        {
            writer.WriteInterleaved(values);
            Assert.Equal(500, writer.FramesWritten);
        }

        var recording = ReadWav(inner.ToArray());

        Assert.Equal(values, recording.Channels[0].Samples.ToArray());
    }

    [Fact]
    public void Load_WavFileOnDisk_DetectedByExtension()
    {
        var path = Path.Combine(Path.GetTempPath(), "factoryedge-" + Guid.NewGuid().ToString("N") + ".wav");
        try
        {
            WavWriter.Write(path, 2000, [Sine(64, 10, 2000, 0.5)], WavSampleFormat.Pcm16);

            var recording = RecordingReader.Load(path);

            Assert.Equal(2000, recording.SampleRateHz);
            Assert.Equal(64, recording.SampleCount);
            Assert.Equal(Path.GetFileNameWithoutExtension(path), recording.Channels[0].Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            // Half a quantisation step is the rounding error; float32 adds ~1.2e-7 relative.
            var allowed = (tolerance / 2) + (Math.Abs(expected[i]) * 2.4e-7) + 1e-9;
            Assert.InRange(Math.Abs(expected[i] - actual[i]), 0, allowed);
        }
    }

    /// <summary>A write-only stream that cannot seek (a pipe).</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
