namespace FactoryEdge.Recordings;

/// <summary>
/// A recording file could not be read: the message names the file, the line (CSV) when there is
/// one, and the problem.
/// </summary>
public sealed class RecordingFormatException : FormatException
{
    public RecordingFormatException()
    {
    }

    public RecordingFormatException(string message)
        : base(message)
    {
    }

    public RecordingFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RecordingFormatException(string fileName, long? lineNumber, string problem, Exception? innerException = null)
        : base(Compose(fileName, lineNumber, problem), innerException)
    {
        FileName = fileName;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The file (or stream name) that was being read.</summary>
    public string? FileName { get; }

    /// <summary>1-based line number of a text recording, when the problem is on one line.</summary>
    public long? LineNumber { get; }

    /// <summary>The problem without the location.</summary>
    public string? Problem { get; }

    private static string Compose(string fileName, long? lineNumber, string problem) =>
        lineNumber is { } line
            ? $"Recording '{fileName}', line {line}: {problem}"
            : $"Recording '{fileName}': {problem}";
}
