using System.Buffers;
using System.Buffers.Binary;

namespace FactoryEdge.Recordings;

/// <summary>Sample encodings <see cref="WavWriter"/> writes (and <see cref="RecordingReader"/> reads).</summary>
public enum WavSampleFormat
{
    /// <summary>16-bit signed integer PCM.</summary>
    Pcm16,
    /// <summary>24-bit signed integer PCM.</summary>
    Pcm24,
    /// <summary>32-bit signed integer PCM.</summary>
    Pcm32,
    /// <summary>32-bit IEEE float.</summary>
    Float32,
}

/// <summary>Options of <see cref="WavWriter"/>.</summary>
public sealed record WavWriterOptions
{
    public static WavWriterOptions Default { get; } = new();

    /// <summary>
    /// The value (in the signal's unit) that maps to integer full scale: samples are divided by it
    /// before quantising (read back with the same <see cref="RecordingReadOptions.Scale"/>). Values
    /// beyond ±scale clip. Float files are divided by it too.
    /// </summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>Writes WAVE_FORMAT_EXTENSIBLE (needed by some tools for more than 2 channels or 24/32-bit).</summary>
    public bool Extensible { get; init; }

    /// <summary>Leaves the stream open on dispose.</summary>
    public bool LeaveOpen { get; init; }
}

/// <summary>
/// Writes RIFF/WAVE files frame by frame (a long simulation can stream into one). The header's
/// sizes are patched on <see cref="Dispose"/> when the stream can seek; otherwise they stay
/// 0xFFFFFFFF ("read to the end"), which <see cref="RecordingReader"/> accepts.
/// </summary>
public sealed class WavWriter : IDisposable
{
    private const int HeaderBufferSize = 80;
    private readonly Stream _stream;
    private readonly WavWriterOptions _options;
    private readonly int _bytesPerSample;
    private readonly long _headerStart;
    private readonly int _dataSizeOffset;
    private readonly double _inverseScale;
    private long _dataBytes;
    private bool _disposed;

    public WavWriter(Stream stream, int sampleRateHz, int channelCount, WavSampleFormat format, WavWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRateHz, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channelCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channelCount, 256);
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown WAV sample format.");
        }

        _options = options ?? WavWriterOptions.Default;
        if (!double.IsFinite(_options.Scale) || _options.Scale == 0)
        {
            throw new ArgumentException($"WavWriterOptions.Scale must be finite and non-zero (was {_options.Scale}).", nameof(options));
        }

        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream must be writable.", nameof(stream));
        }

        _stream = stream;
        SampleRateHz = sampleRateHz;
        ChannelCount = channelCount;
        Format = format;
        _bytesPerSample = format switch
        {
            WavSampleFormat.Pcm16 => 2,
            WavSampleFormat.Pcm24 => 3,
            _ => 4,
        };
        _inverseScale = 1.0 / _options.Scale;
        _headerStart = stream.CanSeek ? stream.Position : 0;

        Span<byte> header = stackalloc byte[HeaderBufferSize];
        var length = WriteHeader(header, dataBytes: stream.CanSeek ? 0 : uint.MaxValue, out _dataSizeOffset);
        _stream.Write(header[..length]);
    }

    public int SampleRateHz { get; }

    public int ChannelCount { get; }

    public WavSampleFormat Format { get; }

    /// <summary>Frames (one sample per channel) written so far.</summary>
    public long FramesWritten => _dataBytes / (_bytesPerSample * ChannelCount);

    /// <summary>Writes interleaved frames (ch0, ch1, …, ch0, ch1, …); the length must be a multiple of the channel count.</summary>
    public void WriteInterleaved(ReadOnlySpan<float> samples)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (samples.Length % ChannelCount != 0)
        {
            throw new ArgumentException($"The sample count {samples.Length} is not a multiple of the channel count {ChannelCount}.", nameof(samples));
        }

        EnsureRoom(samples.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(samples.Length, 16 * 1024) * _bytesPerSample);
        try
        {
            var perChunk = buffer.Length / _bytesPerSample;
            while (!samples.IsEmpty)
            {
                var n = Math.Min(perChunk, samples.Length);
                Encode(samples[..n], buffer);
                _stream.Write(buffer, 0, n * _bytesPerSample);
                _dataBytes += n * _bytesPerSample;
                samples = samples[n..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes one block per channel (all the same length), interleaving them.</summary>
    public void WriteChannels(IReadOnlyList<ReadOnlyMemory<float>> channels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count != ChannelCount)
        {
            throw new ArgumentException($"Expected {ChannelCount} channels, got {channels.Count}.", nameof(channels));
        }

        var frames = channels[0].Length;
        foreach (var channel in channels)
        {
            if (channel.Length != frames)
            {
                throw new ArgumentException("All channel blocks must have the same length.", nameof(channels));
            }
        }

        const int FramesPerChunk = 4096;
        var interleaved = ArrayPool<float>.Shared.Rent(Math.Min(frames, FramesPerChunk) * ChannelCount);
        try
        {
            for (var first = 0; first < frames; first += FramesPerChunk)
            {
                var n = Math.Min(FramesPerChunk, frames - first);
                for (var c = 0; c < ChannelCount; c++)
                {
                    var source = channels[c].Span.Slice(first, n);
                    for (var i = 0; i < n; i++)
                    {
                        interleaved[(i * ChannelCount) + c] = source[i];
                    }
                }

                WriteInterleaved(interleaved.AsSpan(0, n * ChannelCount));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(interleaved);
        }
    }

    /// <summary>Patches the header sizes (seekable streams) and flushes.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_stream.CanSeek)
        {
            var end = _stream.Position;
            if (_dataBytes % 2 == 1)
            {
                // RIFF chunks are word aligned; the pad byte is not part of the data size.
                _stream.WriteByte(0);
                end++;
            }

            Span<byte> size = stackalloc byte[4];
            _stream.Position = _headerStart + 4;
            BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)(end - _headerStart - 8));
            _stream.Write(size);
            _stream.Position = _headerStart + _dataSizeOffset;
            BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)_dataBytes);
            _stream.Write(size);
            _stream.Position = end - (_dataBytes % 2);
        }

        _stream.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Flush();
        if (_stream.CanSeek && _dataBytes % 2 == 1)
        {
            _stream.Position++;
        }

        _disposed = true;
        if (!_options.LeaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>Writes a whole file.</summary>
    public static void Write(string path, int sampleRateHz, IReadOnlyList<ReadOnlyMemory<float>> channels, WavSampleFormat format, WavWriterOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(channels);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        using var writer = new WavWriter(stream, sampleRateHz, channels.Count, format, (options ?? WavWriterOptions.Default) with { LeaveOpen = true });
        writer.WriteChannels(channels);
    }

    /// <summary>Writes a whole file into memory.</summary>
    public static byte[] ToBytes(int sampleRateHz, IReadOnlyList<ReadOnlyMemory<float>> channels, WavSampleFormat format, WavWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channels);
        using var stream = new MemoryStream();
        using (var writer = new WavWriter(stream, sampleRateHz, channels.Count, format, (options ?? WavWriterOptions.Default) with { LeaveOpen = true }))
        {
            writer.WriteChannels(channels);
        }

        return stream.ToArray();
    }

    private int WriteHeader(Span<byte> header, uint dataBytes, out int dataSizeOffset)
    {
        var isFloat = Format == WavSampleFormat.Float32;
        var tag = isFloat ? WavRecordingReader.FormatIeeeFloat : WavRecordingReader.FormatPcm;
        var fmtSize = _options.Extensible ? 40 : isFloat ? 18 : 16;
        var bits = _bytesPerSample * 8;
        var blockAlign = _bytesPerSample * ChannelCount;

        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], dataBytes == uint.MaxValue ? uint.MaxValue : (uint)(4 + 8 + fmtSize + 8));
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)fmtSize);
        var fmt = header[20..];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, _options.Extensible ? WavRecordingReader.FormatExtensible : tag);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[2..], (ushort)ChannelCount);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt[4..], (uint)SampleRateHz);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt[8..], (uint)(SampleRateHz * blockAlign));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[12..], (ushort)blockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[14..], (ushort)bits);
        if (fmtSize >= 18)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[16..], (ushort)(fmtSize - 18));
        }

        if (_options.Extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[18..], (ushort)bits);
            var mask = ChannelCount >= 32 ? 0u : (1u << ChannelCount) - 1;
            BinaryPrimitives.WriteUInt32LittleEndian(fmt[20..], mask);
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[24..], tag);
            WavRecordingReader.SubFormatGuidTail.CopyTo(fmt[26..]);
        }

        var data = 20 + fmtSize;
        "data"u8.CopyTo(header[data..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[(data + 4)..], dataBytes);
        dataSizeOffset = data + 4;
        return data + 8;
    }

    private void EnsureRoom(int samples)
    {
        if (_dataBytes + ((long)samples * _bytesPerSample) > uint.MaxValue - HeaderBufferSize)
        {
            throw new InvalidOperationException("A WAV file cannot hold more than 4 GiB of data.");
        }
    }

    private void Encode(ReadOnlySpan<float> samples, Span<byte> destination)
    {
        switch (Format)
        {
            case WavSampleFormat.Pcm16:
                for (var i = 0; i < samples.Length; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(destination[(i * 2)..], (short)Quantize(samples[i], 32768.0));
                }

                break;
            case WavSampleFormat.Pcm24:
                for (var i = 0; i < samples.Length; i++)
                {
                    var v = (int)Quantize(samples[i], 8388608.0);
                    destination[i * 3] = (byte)v;
                    destination[(i * 3) + 1] = (byte)(v >> 8);
                    destination[(i * 3) + 2] = (byte)(v >> 16);
                }

                break;
            case WavSampleFormat.Pcm32:
                for (var i = 0; i < samples.Length; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(destination[(i * 4)..], (int)Quantize(samples[i], 2147483648.0));
                }

                break;
            default:
                for (var i = 0; i < samples.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], (float)(samples[i] * _inverseScale));
                }

                break;
        }
    }

    /// <summary>Rounds to the integer grid, clipping to [-full, full - 1]; NaN becomes 0.</summary>
    private long Quantize(float sample, double full)
    {
        var v = sample * _inverseScale * full;
        if (double.IsNaN(v))
        {
            return 0;
        }

        return (long)Math.Clamp(Math.Round(v), -full, full - 1);
    }
}
