using System.Globalization;
using System.Text.Json;

namespace FactoryEdge.Scoring;

/// <summary>Settings of <c>factoryedge model list --models-dir DIR</c>.</summary>
public sealed record ModelListSettings
{
    public required string ModelsDirectory { get; init; }
}

/// <summary>Settings of <c>factoryedge model promote|rollback|shadow-report|stop-shadow|status --models-dir DIR [MODEL_ID]</c>.</summary>
public sealed record ModelOperatorSettings
{
    public required string ModelsDirectory { get; init; }

    public required ModelControlCommand Command { get; init; }

    public string? ModelId { get; init; }

    /// <summary>Rollback target version (null = the newest older one).</summary>
    public long? Version { get; init; }

    /// <summary>How long to wait for the gateway's answer (its folder scan period plus slack).</summary>
    public double TimeoutSeconds { get; init; } = 30;
}

/// <summary>
/// The operator verbs on a running gateway's models folder (<see cref="ModelControl"/>). Exit codes:
/// 0 done, 1 refused by the gateway (the message says why), 2 bad usage, 3 folder missing,
/// 4 no answer in time (no gateway watching that folder).
/// </summary>
public static class ModelOperatorCommand
{
    public const int Ok = 0;
    public const int Refused = 1;
    public const int Usage = 2;
    public const int BadInput = 3;
    public const int NoAnswer = 4;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Lists the model files in the folder and, when a gateway watches it, what it runs.</summary>
    public static async Task<int> ListAsync(ModelListSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var dir = Path.GetFullPath(settings.ModelsDirectory);
        if (!Directory.Exists(dir))
        {
            await stderr.WriteLineAsync($"error: models folder {dir} does not exist").ConfigureAwait(false);
            return BadInput;
        }

        ModelControlStatus? status = null;
        if (File.Exists(ModelControl.StatusPath(dir)))
        {
            try
            {
                status = JsonSerializer.Deserialize<ModelControlStatus>(await File.ReadAllBytesAsync(ModelControl.StatusPath(dir), cancellationToken).ConfigureAwait(false), ModelControl.JsonOptions);
            }
            catch (JsonException ex)
            {
                await stderr.WriteLineAsync($"warning: unreadable {ModelControl.StatusFile}: {ex.Message}").ConfigureAwait(false);
            }
        }

        await stdout.WriteLineAsync("model line        version      state    signed  file").ConfigureAwait(false);
        foreach (var path in Directory.EnumerateFiles(dir, "*.onnx").Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            ModelManifest manifest;
            try
            {
                manifest = ModelManifest.Parse(await File.ReadAllBytesAsync(ModelFiles.ManifestPath(path), cancellationToken).ConfigureAwait(false), name);
            }
            catch (Exception ex) when (ex is ModelLoadException or IOException)
            {
                await stdout.WriteLineAsync($"{"?",-17} {"?",-12} {"-",-8} {"-",-7} {name}  ({ex.Message})").ConfigureAwait(false);
                continue;
            }

            var line = status?.Lines.FirstOrDefault(l => l.ModelId == manifest.ModelId);
            var state = line?.Active == manifest.DisplayId ? "active" : line?.Shadow == manifest.DisplayId ? "shadow" : "-";
            var signed = File.Exists(ModelFiles.SignaturePath(path)) ? "yes" : "no";
            await stdout.WriteLineAsync(string.Create(Inv, $"{manifest.ModelId,-17} {manifest.Version,-12} {state,-8} {signed,-7} {name}")).ConfigureAwait(false);
        }

        if (status is null)
        {
            await stdout.WriteLineAsync("no gateway status in this folder (no gateway watching it, or not yet)").ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteLineAsync(string.Create(Inv, $"gateway status of {status.UpdatedUtc:O}:")).ConfigureAwait(false);
            foreach (var l in status.Lines)
            {
                await stdout.WriteLineAsync(string.Create(Inv, $"  {l.ModelId}: active {l.Active ?? "none"}, shadow {l.Shadow ?? "none"}, {l.Channels} channel(s), {l.ScoredWindows} windows scored, {l.Swaps} swap(s)")).ConfigureAwait(false);
            }
        }

        return Ok;
    }

    /// <summary>Sends one command to the gateway watching the folder and prints its answer.</summary>
    public static async Task<int> RunAsync(ModelOperatorSettings settings, TextWriter stdout, TextWriter stderr, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (settings.Command != ModelControlCommand.Status && string.IsNullOrWhiteSpace(settings.ModelId))
        {
            await stderr.WriteLineAsync("error: MODEL_ID (the model line) is required").ConfigureAwait(false);
            return Usage;
        }

        if (!(settings.TimeoutSeconds > 0 && settings.TimeoutSeconds <= 3600))
        {
            await stderr.WriteLineAsync("error: --timeout must be in (0, 3600] seconds").ConfigureAwait(false);
            return Usage;
        }

        var dir = Path.GetFullPath(settings.ModelsDirectory);
        if (!Directory.Exists(dir))
        {
            await stderr.WriteLineAsync($"error: models folder {dir} does not exist").ConfigureAwait(false);
            return BadInput;
        }

        var request = new ModelControlRequest { Id = Guid.NewGuid().ToString("N"), Command = settings.Command, ModelId = settings.ModelId, Version = settings.Version };
        var response = await ModelControl.SendAsync(dir, request, TimeSpan.FromSeconds(settings.TimeoutSeconds), timeProvider, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            await stderr.WriteLineAsync(string.Create(Inv, $"error: no answer within {settings.TimeoutSeconds} s: is a gateway running with Scoring:ModelsDirectory = {dir}? (request withdrawn)")).ConfigureAwait(false);
            return NoAnswer;
        }

        await (response.Ok ? stdout : stderr).WriteLineAsync((response.Ok ? "" : "refused: ") + response.Message).ConfigureAwait(false);
        if (response.Shadow is { } s)
        {
            await stdout.WriteLineAsync(string.Create(Inv, $"  {s.Windows} windows scored by both: active {s.ActiveModel} flagged {s.ActiveAnomalousRate:P2} ({s.ActiveAlerts} would-be alerts), candidate {s.ShadowModel} flagged {s.ShadowAnomalousRate:P2} ({s.ShadowAlerts} would-be alerts)")).ConfigureAwait(false);
        }

        if (settings.Command == ModelControlCommand.Status)
        {
            foreach (var l in response.Lines)
            {
                await stdout.WriteLineAsync(string.Create(Inv, $"  {l.ModelId}: active {l.Active ?? "none"}, shadow {l.Shadow ?? "none"}, {l.Channels} channel(s), {l.ScoredWindows} windows scored")).ConfigureAwait(false);
            }
        }

        return response.Ok ? Ok : Refused;
    }
}
