namespace FactoryEdge.Recordings;

/// <summary>
/// Loads recordings: the text format of the CWRU README (<c># key=value …</c> header, one value per
/// line) and RIFF/WAVE (PCM 16/24/32-bit, IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE).
/// Every problem with the file is a <see cref="RecordingFormatException"/> that names the file.
/// </summary>
public static class RecordingReader
{
    /// <summary>Loads a file: <c>.wav</c>/<c>.wave</c> or a file starting with "RIFF" as WAV, anything else as CSV.</summary>
    public static Recording Load(string path, RecordingReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = OpenRead(path);
        return IsWav(path, stream)
            ? WavRecordingReader.Read(stream, path, options ?? RecordingReadOptions.Default)
            : CsvRecordingReader.Read(stream, path, options ?? RecordingReadOptions.Default);
    }

    /// <summary>Reads a CSV recording from a file.</summary>
    public static Recording ReadCsv(string path, RecordingReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = OpenRead(path);
        return CsvRecordingReader.Read(stream, path, options ?? RecordingReadOptions.Default);
    }

    /// <summary>Reads a CSV recording from a stream; <paramref name="name"/> is used in messages and as the default sensor name.</summary>
    public static Recording ReadCsv(Stream stream, string name, RecordingReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return CsvRecordingReader.Read(stream, name, options ?? RecordingReadOptions.Default);
    }

    /// <summary>Reads a WAV recording from a file.</summary>
    public static Recording ReadWav(string path, RecordingReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = OpenRead(path);
        return WavRecordingReader.Read(stream, path, options ?? RecordingReadOptions.Default);
    }

    /// <summary>Reads a WAV recording from a stream; <paramref name="name"/> is used in messages and as the default sensor name.</summary>
    public static Recording ReadWav(Stream stream, string name, RecordingReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return WavRecordingReader.Read(stream, name, options ?? RecordingReadOptions.Default);
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException ex)
        {
            throw new RecordingFormatException(path, null, "the file does not exist", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new RecordingFormatException(path, null, "the folder does not exist", ex);
        }
    }

    private static bool IsWav(string path, FileStream stream)
    {
        var extension = Path.GetExtension(path);
        if (extension.Equals(".wav", StringComparison.OrdinalIgnoreCase) || extension.Equals(".wave", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        Span<byte> magic = stackalloc byte[4];
        var read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        return read == 4 && magic.SequenceEqual("RIFF"u8);
    }
}
