using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using FactoryEdge.Core;

namespace FactoryEdge.Recordings;

/// <summary>
/// Reads RIFF/WAVE: PCM (format 1) 16/24/32-bit, IEEE float (format 3) 32/64-bit, and
/// WAVE_FORMAT_EXTENSIBLE (0xFFFE) with those sub-formats. Each WAV channel becomes a recording
/// channel. Integer PCM is scaled to [-1, 1) and then by <see cref="RecordingReadOptions.Scale"/>.
/// </summary>
internal static class WavRecordingReader
{
    internal const ushort FormatPcm = 1;
    internal const ushort FormatIeeeFloat = 3;
    internal const ushort FormatExtensible = 0xFFFE;

    /// <summary>Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (the first two hold the format tag).</summary>
    internal static ReadOnlySpan<byte> SubFormatGuidTail => [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    private const int MaxChannels = 256;

    public static Recording Read(Stream stream, string name, RecordingReadOptions options)
    {
        options.Validate();
        Span<byte> header = stackalloc byte[12];
        if (stream.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 12
            || !header[..4].SequenceEqual("RIFF"u8)
            || !header[8..12].SequenceEqual("WAVE"u8))
        {
            throw new RecordingFormatException(name, null, "not a RIFF/WAVE file (the first 12 bytes are not 'RIFF', size, 'WAVE')");
        }

        Format? format = null;
        Span<byte> chunkHeader = stackalloc byte[8];
        while (true)
        {
            var got = stream.ReadAtLeast(chunkHeader, 8, throwOnEndOfStream: false);
            if (got < 8)
            {
                throw new RecordingFormatException(name, null, format is null
                    ? "no 'fmt ' chunk before the end of the file (truncated or not a WAV file)"
                    : "no 'data' chunk before the end of the file (truncated file)");
            }

            var id = chunkHeader[..4];
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHeader[4..]);
            if (id.SequenceEqual("fmt "u8))
            {
                format = ReadFormat(stream, name, size);
                if (size % 2 == 1)
                {
                    Skip(stream, name, 1, "fmt ");
                }
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (format is null)
                {
                    throw new RecordingFormatException(name, null, "the 'data' chunk comes before the 'fmt ' chunk");
                }

                return ReadData(stream, name, options, format.Value, size);
            }
            else
            {
                Skip(stream, name, size + (size % 2), ChunkName(id));
            }
        }
    }

    private static Format ReadFormat(Stream stream, string name, uint size)
    {
        if (size is < 16 or > 1024)
        {
            throw new RecordingFormatException(name, null, $"'fmt ' chunk has an invalid size {size} (16 to 40 expected)");
        }

        Span<byte> fmt = stackalloc byte[(int)size];
        if (stream.ReadAtLeast(fmt, fmt.Length, throwOnEndOfStream: false) < fmt.Length)
        {
            throw new RecordingFormatException(name, null, "the 'fmt ' chunk is cut short (truncated file)");
        }

        var tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        var blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        var effectiveTag = tag;
        if (tag == FormatExtensible)
        {
            if (size < 40 || BinaryPrimitives.ReadUInt16LittleEndian(fmt[16..]) < 22)
            {
                throw new RecordingFormatException(name, null, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is shorter than 40 bytes");
            }

            var subFormat = fmt.Slice(24, 16);
            effectiveTag = BinaryPrimitives.ReadUInt16LittleEndian(subFormat);
            if (!subFormat[2..].SequenceEqual(SubFormatGuidTail))
            {
                throw new RecordingFormatException(name, null, "WAVE_FORMAT_EXTENSIBLE sub-format is not a KSDATAFORMAT_SUBTYPE GUID; supported: PCM and IEEE float");
            }
        }

        var supported = (effectiveTag, bits) switch
        {
            (FormatPcm, 16 or 24 or 32) => true,
            (FormatIeeeFloat, 32 or 64) => true,
            _ => false,
        };
        if (!supported)
        {
            var what = effectiveTag switch
            {
                FormatPcm => $"{bits}-bit integer PCM",
                FormatIeeeFloat => $"{bits}-bit IEEE float",
                _ => string.Create(CultureInfo.InvariantCulture, $"format tag 0x{effectiveTag:X4}"),
            };
            throw new RecordingFormatException(name, null, $"{what} is not supported; supported: PCM 16/24/32-bit integer and IEEE float 32/64-bit (format 1, 3, or 0xFFFE with those)");
        }

        if (channels is 0 or > MaxChannels)
        {
            throw new RecordingFormatException(name, null, $"channel count {channels} is outside 1..{MaxChannels}");
        }

        if (sampleRate == 0)
        {
            throw new RecordingFormatException(name, null, "the sample rate in the 'fmt ' chunk is 0");
        }

        if (blockAlign != channels * (bits / 8))
        {
            throw new RecordingFormatException(name, null, $"block align {blockAlign} does not match {channels} channels × {bits / 8} bytes");
        }

        return new Format(effectiveTag, channels, sampleRate, blockAlign, bits);
    }

    private static Recording ReadData(Stream stream, string name, RecordingReadOptions options, Format format, uint declaredSize)
    {
        // 0xFFFFFFFF: size unknown (a streaming writer that could not seek back): read to the end.
        var sizeKnown = declaredSize != uint.MaxValue;
        if (sizeKnown && declaredSize % format.BlockAlign != 0)
        {
            throw new RecordingFormatException(name, null, $"the 'data' chunk size {declaredSize} is not a whole number of {format.BlockAlign}-byte frames");
        }

        // Size the arrays from what is really there, so that a corrupt size cannot allocate gigabytes.
        long expectedBytes = sizeKnown ? declaredSize : 64L * 1024 * format.BlockAlign;
        if (stream.CanSeek)
        {
            expectedBytes = Math.Min(expectedBytes, Math.Max(0, stream.Length - stream.Position));
        }
        else
        {
            expectedBytes = Math.Min(expectedBytes, 16L * 1024 * 1024);
        }

        var frameCapacity = (int)Math.Min(Math.Max(1, expectedBytes / format.BlockAlign), Array.MaxLength);
        var channels = new float[format.Channels][];
        for (var c = 0; c < channels.Length; c++)
        {
            channels[c] = new float[frameCapacity];
        }

        var bytesPerSample = format.Bits / 8;
        var chunkBytes = format.BlockAlign * Math.Max(1, (64 * 1024) / format.BlockAlign);
        var buffer = ArrayPool<byte>.Shared.Rent(chunkBytes);
        var frames = 0;
        long remaining = sizeKnown ? declaredSize : long.MaxValue;
        long bytesRead = 0;
        var scale = options.Scale;
        try
        {
            var carry = 0;
            while (remaining > 0)
            {
                var want = (int)Math.Min(chunkBytes - carry, remaining);
                var read = stream.ReadAtLeast(buffer.AsSpan(carry, want), want, throwOnEndOfStream: false);
                bytesRead += read;
                remaining -= read;
                var available = carry + read;
                var whole = available / format.BlockAlign;
                if (frames + whole > frameCapacity)
                {
                    frameCapacity = (int)Math.Min(Math.Max((long)frameCapacity * 2, frames + whole), Array.MaxLength);
                    for (var c = 0; c < channels.Length; c++)
                    {
                        Array.Resize(ref channels[c], frameCapacity);
                    }
                }

                Decode(buffer.AsSpan(0, whole * format.BlockAlign), format, bytesPerSample, scale, channels, frames);
                frames += whole;
                carry = available - (whole * format.BlockAlign);
                if (carry > 0)
                {
                    Buffer.BlockCopy(buffer, whole * format.BlockAlign, buffer, 0, carry);
                }

                if (read < want)
                {
                    if (sizeKnown)
                    {
                        throw new RecordingFormatException(name, null, $"the 'data' chunk declares {declaredSize} bytes but only {bytesRead} are present (truncated file)");
                    }

                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (frames == 0)
        {
            throw new RecordingFormatException(name, null, "the 'data' chunk holds no samples");
        }

        if (options.ChannelAxes is { } axes && axes.Count != format.Channels)
        {
            throw new RecordingFormatException(name, null, $"the file has {format.Channels} channels but {axes.Count} axis names were given");
        }

        var unit = options.Unit ?? SignalUnit.G;
        var sensor = options.SensorName ?? CsvRecordingReader.DefaultSensorName(name);
        var fullScale = format.Tag == FormatPcm ? Math.Abs(scale) : 0;
        var result = new RecordingChannel[format.Channels];
        for (var c = 0; c < result.Length; c++)
        {
            var axis = options.ChannelAxes?[c] ?? c.ToString(CultureInfo.InvariantCulture);
            result[c] = new RecordingChannel(sensor, axis, unit, channels[c].AsMemory(0, frames), fullScale);
        }

        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["format"] = format.Tag == FormatPcm ? $"pcm{format.Bits}" : $"float{format.Bits}",
            ["channels"] = format.Channels.ToString(CultureInfo.InvariantCulture),
            ["sampling_rate_hz"] = format.SampleRate.ToString(CultureInfo.InvariantCulture),
            ["samples"] = frames.ToString(CultureInfo.InvariantCulture),
        };
        return new Recording(name, options.SampleRateHz ?? format.SampleRate, result, metadata)
        {
            NominalShaftHz = options.NominalShaftHz ?? 0,
            Bearing = options.Bearing,
            StartTime = options.StartTime,
        };
    }

    private static void Decode(ReadOnlySpan<byte> data, Format format, int bytesPerSample, double scale, float[][] channels, int firstFrame)
    {
        var channelCount = channels.Length;
        var frames = data.Length / format.BlockAlign;
        for (var c = 0; c < channelCount; c++)
        {
            var destination = channels[c].AsSpan(firstFrame, frames);
            var offset = c * bytesPerSample;
            switch (format.Tag, format.Bits)
            {
                case (FormatPcm, 16):
                {
                    var factor = scale / 32768.0;
                    for (var i = 0; i < frames; i++, offset += format.BlockAlign)
                    {
                        destination[i] = (float)(BinaryPrimitives.ReadInt16LittleEndian(data[offset..]) * factor);
                    }

                    break;
                }

                case (FormatPcm, 24):
                {
                    var factor = scale / 8388608.0;
                    for (var i = 0; i < frames; i++, offset += format.BlockAlign)
                    {
                        var v = data[offset] | (data[offset + 1] << 8) | ((sbyte)data[offset + 2] << 16);
                        destination[i] = (float)(v * factor);
                    }

                    break;
                }

                case (FormatPcm, 32):
                {
                    var factor = scale / 2147483648.0;
                    for (var i = 0; i < frames; i++, offset += format.BlockAlign)
                    {
                        destination[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(data[offset..]) * factor);
                    }

                    break;
                }

                case (FormatIeeeFloat, 32):
                    for (var i = 0; i < frames; i++, offset += format.BlockAlign)
                    {
                        destination[i] = (float)(BinaryPrimitives.ReadSingleLittleEndian(data[offset..]) * scale);
                    }

                    break;

                default:
                    for (var i = 0; i < frames; i++, offset += format.BlockAlign)
                    {
                        destination[i] = (float)(BinaryPrimitives.ReadDoubleLittleEndian(data[offset..]) * scale);
                    }

                    break;
            }
        }
    }

    private static void Skip(Stream stream, string name, long count, string chunk)
    {
        if (stream.CanSeek)
        {
            if (stream.Position + count > stream.Length)
            {
                throw new RecordingFormatException(name, null, $"chunk '{chunk}' runs past the end of the file (truncated file, no 'data' chunk)");
            }

            stream.Seek(count, SeekOrigin.Current);
            return;
        }

        Span<byte> scratch = stackalloc byte[4096];
        while (count > 0)
        {
            var want = (int)Math.Min(scratch.Length, count);
            var read = stream.ReadAtLeast(scratch[..want], want, throwOnEndOfStream: false);
            if (read < want)
            {
                throw new RecordingFormatException(name, null, $"chunk '{chunk}' runs past the end of the file (truncated file, no 'data' chunk)");
            }

            count -= read;
        }
    }

    private static string ChunkName(ReadOnlySpan<byte> id)
    {
        Span<char> chars = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            chars[i] = id[i] is >= 0x20 and < 0x7F ? (char)id[i] : '?';
        }

        return new string(chars);
    }

    private readonly record struct Format(ushort Tag, int Channels, uint SampleRate, int BlockAlign, int Bits);
}
