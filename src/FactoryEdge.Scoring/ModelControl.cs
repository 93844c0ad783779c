using System.Text.Json;

namespace FactoryEdge.Scoring;

/// <summary>Operator commands a running gateway's <see cref="ModelManager"/> accepts through its models folder.</summary>
public enum ModelControlCommand
{
    /// <summary>Lines, active and shadow models (no change).</summary>
    Status,

    /// <summary>Make the line's shadow candidate active at the next batch.</summary>
    Promote,

    /// <summary>Roll the line back to a given version, or to the newest older one that still verifies.</summary>
    Rollback,

    /// <summary>The line's shadow report (no change).</summary>
    ShadowReport,

    /// <summary>Stop the line's shadow candidate without promoting it.</summary>
    StopShadow,
}

/// <summary>A command file: <c>MODELS/.control/ID.request.json</c>.</summary>
public sealed record ModelControlRequest
{
    public required string Id { get; init; }

    public required ModelControlCommand Command { get; init; }

    /// <summary>Model line; not needed for <see cref="ModelControlCommand.Status"/>.</summary>
    public string? ModelId { get; init; }

    /// <summary>Rollback target; null = the newest older version.</summary>
    public long? Version { get; init; }
}

/// <summary>The gateway's answer: <c>MODELS/.control/ID.response.json</c>.</summary>
public sealed record ModelControlResponse
{
    public required string Id { get; init; }

    public required bool Ok { get; init; }

    public required string Message { get; init; }

    public ShadowReport? Shadow { get; init; }

    public IReadOnlyList<ModelSlotStatus> Lines { get; init; } = [];

    public DateTimeOffset AnsweredUtc { get; init; }
}

/// <summary>
/// The command-file protocol between <c>factoryedge model promote|rollback|shadow-report|status</c>
/// and a running gateway (docs/models.md, "Operating a running gateway"). Files are written under a
/// temporary name and renamed, so neither side reads a partial file. The gateway scans the folder
/// every <see cref="ScoringOptions.PollSeconds"/>, answers each request once and deletes it; it also
/// keeps <c>status.json</c> there. Whoever may write the models folder may already replace models,
/// so the folder's permissions are the access control.
/// </summary>
public static class ModelControl
{
    public const string FolderName = ".control";
    public const string RequestSuffix = ".request.json";
    public const string ResponseSuffix = ".response.json";
    public const string StatusFile = "status.json";

    public static JsonSerializerOptions JsonOptions => ModelManifest.JsonOptions;

    public static string Folder(string modelsDirectory) => Path.Combine(modelsDirectory, FolderName);

    public static string RequestPath(string modelsDirectory, string id) => Path.Combine(Folder(modelsDirectory), id + RequestSuffix);

    public static string ResponsePath(string modelsDirectory, string id) => Path.Combine(Folder(modelsDirectory), id + ResponseSuffix);

    public static string StatusPath(string modelsDirectory) => Path.Combine(Folder(modelsDirectory), StatusFile);

    /// <summary>Writes <paramref name="value"/> as JSON to a temporary file beside <paramref name="path"/>, then renames it.</summary>
    public static void WriteAtomically<T>(string path, T value)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(value, JsonOptions));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Drops a request and waits for the gateway's answer; null when none came within <paramref name="timeout"/>.</summary>
    public static async Task<ModelControlResponse?> SendAsync(string modelsDirectory, ModelControlRequest request, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var responsePath = ResponsePath(modelsDirectory, request.Id);
        WriteAtomically(RequestPath(modelsDirectory, request.Id), request);
        var start = timeProvider.GetTimestamp();
        while (true)
        {
            if (File.Exists(responsePath))
            {
                try
                {
                    var response = JsonSerializer.Deserialize<ModelControlResponse>(await File.ReadAllBytesAsync(responsePath, cancellationToken).ConfigureAwait(false), JsonOptions);
                    File.Delete(responsePath);
                    return response;
                }
                catch (IOException)
                {
                    // Being renamed into place: read it on the next turn.
                }
            }

            if (timeProvider.GetElapsedTime(start) >= timeout)
            {
                // Withdraw the request so that a gateway started later does not act on a stale command.
                try
                {
                    File.Delete(RequestPath(modelsDirectory, request.Id));
                }
                catch (IOException)
                {
                }

                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The request ids waiting in the folder, oldest first.</summary>
    internal static IEnumerable<string> PendingRequests(string modelsDirectory)
    {
        var folder = Folder(modelsDirectory);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(folder, "*" + RequestSuffix)
            .Select(p => new FileInfo(p))
            .Where(f => !f.Name.StartsWith('.'))
            .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => f.Name[..^RequestSuffix.Length])
            .ToList();
    }
}

/// <summary><c>status.json</c>: what the gateway runs, rewritten after every folder scan.</summary>
public sealed record ModelControlStatus
{
    public DateTimeOffset UpdatedUtc { get; init; }

    public IReadOnlyList<ModelSlotStatus> Lines { get; init; } = [];

    public IReadOnlyList<ShadowReport> Shadows { get; init; } = [];
}
