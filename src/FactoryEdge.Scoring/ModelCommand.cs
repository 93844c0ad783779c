using System.Globalization;
using System.Security.Cryptography;

namespace FactoryEdge.Scoring;

/// <summary>Settings of <c>factoryedge model keygen --out NAME</c>: writes NAME.key.pem (private) and NAME.pub.pem.</summary>
public sealed record ModelKeygenSettings
{
    public required string Out { get; init; }

    /// <summary>Overwrite existing key files.</summary>
    public bool Force { get; init; }
}

/// <summary>Settings of <c>factoryedge model sign --key KEY MODEL.onnx</c>.</summary>
public sealed record ModelSignSettings
{
    public required string Key { get; init; }

    public required string Model { get; init; }
}

/// <summary>Settings of <c>factoryedge model verify --trusted PUB [--trusted PUB …] MODEL.onnx</c> (and <c>model info</c> with no key).</summary>
public sealed record ModelVerifySettings
{
    public required string Model { get; init; }

    public IReadOnlyList<string> TrustedKeys { get; init; } = [];
}

/// <summary>
/// The <c>model</c> verbs: key generation, signing, verification. Exit codes: 0 ok, 1 verification
/// failed (the message says why), 2 bad usage, 3 unreadable or invalid file.
/// </summary>
public static class ModelCommand
{
    public const int Ok = 0;
    public const int VerificationFailed = 1;
    public const int Usage = 2;
    public const int BadInput = 3;

    public static async Task<int> KeygenAsync(ModelKeygenSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var privatePath = settings.Out + ".key.pem";
        var publicPath = settings.Out + ".pub.pem";
        if (!settings.Force && (File.Exists(privatePath) || File.Exists(publicPath)))
        {
            await stderr.WriteLineAsync($"error: {privatePath} or {publicPath} exists; use --force to overwrite").ConfigureAwait(false);
            return Usage;
        }

        var (privatePem, publicPem, keyId) = ModelSigner.GenerateKeyPair();
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(privatePath)) is { } dir)
            {
                Directory.CreateDirectory(dir);
            }

            await File.WriteAllTextAsync(privatePath, privatePem, cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(privatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            await File.WriteAllTextAsync(publicPath, publicPem, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return BadInput;
        }

        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"key {keyId}: private {privatePath} (keep it off the gateways), public {publicPath} (add it to FactoryEdge:Scoring:TrustedKeys)")).ConfigureAwait(false);
        return Ok;
    }

    public static async Task<int> SignAsync(ModelSignSettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var pem = await File.ReadAllTextAsync(settings.Key, cancellationToken).ConfigureAwait(false);
            using var key = ModelSigner.LoadPrivateKey(pem, settings.Key);
            var signature = ModelSigner.Sign(settings.Model, key);
            var manifest = ModelManifest.Parse(await File.ReadAllBytesAsync(ModelFiles.ManifestPath(settings.Model), cancellationToken).ConfigureAwait(false), ModelFiles.ManifestPath(settings.Model));
            await stdout.WriteLineAsync($"signed {manifest.DisplayId} ({settings.Model}) with key {signature.KeyId}: {ModelFiles.SignaturePath(settings.Model)}").ConfigureAwait(false);
            return Ok;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ModelLoadException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return ex is ModelLoadException ? VerificationFailed : BadInput;
        }
    }

    /// <summary>Runs every check the gateway runs (hashes, signature, ONNX Runtime load, self-test) and prints the manifest.</summary>
    public static async Task<int> VerifyAsync(ModelVerifySettings settings, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        TrustedKeyRing keys;
        try
        {
            keys = new TrustedKeyRing(settings.TrustedKeys);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
            return BadInput;
        }

        using (keys)
        {
            try
            {
                var policy = new ModelLoadPolicy { TrustedKeys = keys, RequireSignature = keys.Count > 0 };
                using var model = ModelLoader.Load(settings.Model, policy);
                await WriteInfoAsync(model, stdout).ConfigureAwait(false);
                return Ok;
            }
            catch (ModelLoadException ex)
            {
                await stderr.WriteLineAsync("error: " + ex.Message).ConfigureAwait(false);
                return VerificationFailed;
            }
        }
    }

    private static async Task WriteInfoAsync(LoadedModel model, TextWriter stdout)
    {
        var m = model.Manifest;
        var inv = CultureInfo.InvariantCulture;
        await stdout.WriteLineAsync(string.Create(inv, $"model {m.DisplayId}, created {m.CreatedUtc:O}, {m.Clusters} cluster(s), {m.Inputs.Count} inputs")).ConfigureAwait(false);
        await stdout.WriteLineAsync(string.Create(inv, $"  window {m.WindowSize} hop {m.Hop}, sample rate {m.SampleRateMinHz}–{m.SampleRateMaxHz} Hz, threshold {m.Threshold:0.###}, trained on {m.TrainingWindows} windows")).ConfigureAwait(false);
        await stdout.WriteLineAsync($"  inputs: {string.Join(", ", m.Inputs.Select(i => i.Name))}").ConfigureAwait(false);
        if (m.LineDetector is { } line)
        {
            await stdout.WriteLineAsync(string.Create(inv, $"  defect-line detector: {line.Inputs.Count} bands, z threshold {line.ZThreshold:0.#}")).ConfigureAwait(false);
        }

        await stdout.WriteLineAsync($"  signature: {model.Origin.Signature.Status} ({model.Origin.Signature.Message})").ConfigureAwait(false);
        await stdout.WriteLineAsync("  ONNX Runtime load and self-test: ok").ConfigureAwait(false);
    }
}

/// <summary>What <c>analyze --model</c> needs: one model scoring every channel, hashes checked, signature optional.</summary>
public static class ModelAnalysis
{
    /// <summary>
    /// Loads <paramref name="modelPath"/> (manifest, hash, ONNX Runtime, self-test; a signature is
    /// checked only when trusted keys are given) and returns a scorer that applies it to every
    /// channel, for a pipeline with <paramref name="windowSize"/>-sample windows. Throws
    /// <see cref="ModelLoadException"/> naming the problem (also for a window-size mismatch).
    /// </summary>
    public static OnnxAnomalyScorer CreateScorer(string modelPath, int windowSize, TrustedKeyRing? trustedKeys = null) => Open(modelPath, windowSize, trustedKeys).Scorer;

    /// <summary>
    /// As <see cref="CreateScorer"/>; a null <paramref name="windowSize"/> takes the model's. Returns
    /// the manifest too (its window size and hop are what the pipeline should use).
    /// </summary>
    public static (OnnxAnomalyScorer Scorer, ModelManifest Manifest) Open(string modelPath, int? windowSize, TrustedKeyRing? trustedKeys = null)
    {
        var policy = trustedKeys is { Count: > 0 }
            ? new ModelLoadPolicy { TrustedKeys = trustedKeys, RequireSignature = true }
            : ModelLoadPolicy.Evaluation;
        var model = ModelLoader.Load(modelPath, policy);
        var manifest = model.Manifest;
        if (windowSize is { } size && manifest.WindowSize != size)
        {
            var message = $"{modelPath}: the model was trained on {manifest.WindowSize}-sample windows; analyze with --window {manifest.WindowSize} (or leave --window out)";
            model.Dispose();
            throw new ModelLoadException(message);
        }

        var scorer = new OnnxAnomalyScorer([new ModelAssignment("*", manifest.ModelId)], manifest.WindowSize);
        scorer.Stage(model);
        return (scorer, manifest);
    }

    /// <summary>The window overlap a model was trained with (1 − hop / window).</summary>
    public static double Overlap(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return Math.Round(1.0 - ((double)manifest.Hop / manifest.WindowSize), 6);
    }
}
