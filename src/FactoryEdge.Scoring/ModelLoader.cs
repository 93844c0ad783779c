namespace FactoryEdge.Scoring;

/// <summary>What a gateway demands of a model before it runs it.</summary>
public sealed record ModelLoadPolicy
{
    /// <summary>Public keys accepted for signatures; null or empty with <see cref="RequireSignature"/> refuses everything.</summary>
    public TrustedKeyRing? TrustedKeys { get; init; }

    /// <summary>
    /// Refuse models without a valid signature by a trusted key. Only a development setup (and
    /// <c>analyze</c>, which evaluates models before they are signed) turns this off; a model whose
    /// hash does not match its manifest, or whose signature is present but bad, is refused even then.
    /// </summary>
    public bool RequireSignature { get; init; } = true;

    /// <summary>Largest batch per ONNX run (power of two).</summary>
    public int MaxBatch { get; init; } = 256;

    /// <summary>ONNX Runtime threads per run.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Relative tolerance of the load-time self-test (ONNX Runtime vs the score ML.NET gave at export).</summary>
    public double SelfTestTolerance { get; init; } = 1e-3;

    /// <summary>The evaluation policy of <c>analyze --model</c>: hashes checked, signature optional.</summary>
    public static ModelLoadPolicy Evaluation { get; } = new() { RequireSignature = false };
}

/// <summary>
/// Loads a model after checking, in this order: the manifest parses and is complete; the ONNX file's
/// SHA-256 is the manifest's; the signature (if required, or present) is valid and by a trusted key;
/// ONNX Runtime accepts the graph and its input/output shapes are the manifest's; the graph
/// reproduces the self-test score recorded at export. The bytes checked are the bytes loaded.
/// </summary>
public static class ModelLoader
{
    public static LoadedModel Load(string modelPath, ModelLoadPolicy policy) =>
        Load(modelPath, policy, static (bytes, manifest, options) => new OrtModelSession(bytes, manifest.OnnxInput, manifest.OnnxOutput, manifest.Inputs.Count, manifest.Clusters, options));

    internal static LoadedModel Load(string modelPath, ModelLoadPolicy policy, Func<byte[], ModelManifest, ModelSessionOptions, IModelSession> createSession)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(policy);
        var manifestPath = ModelFiles.ManifestPath(modelPath);
        var signaturePath = ModelFiles.SignaturePath(modelPath);
        byte[] modelBytes, manifestBytes;
        byte[] signatureBytes = [];
        try
        {
            modelBytes = File.ReadAllBytes(modelPath);
            if (!File.Exists(manifestPath))
            {
                throw new ModelLoadException($"{modelPath}: no manifest beside it (expected {Path.GetFileName(manifestPath)})");
            }

            manifestBytes = File.ReadAllBytes(manifestPath);
            if (File.Exists(signaturePath))
            {
                signatureBytes = File.ReadAllBytes(signaturePath);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{modelPath}: cannot read the model files ({ex.Message})", ex);
        }

        var manifest = ModelManifest.Parse(manifestBytes, manifestPath);
        var check = ModelSigner.Verify(modelBytes, manifestBytes, signatureBytes, manifest.ModelSha256, policy.TrustedKeys ?? EmptyKeys);
        var refused = check.Status switch
        {
            SignatureStatus.Valid => false,
            SignatureStatus.Unsigned => policy.RequireSignature,
            SignatureStatus.UntrustedKey => policy.RequireSignature,
            _ => true, // a hash mismatch or a bad signature is tampering: never loaded
        };
        if (refused)
        {
            throw new ModelLoadException($"{modelPath}: refused: {check.Message}");
        }

        var session = createSession(modelBytes, manifest, new ModelSessionOptions { MaxBatch = policy.MaxBatch, IntraOpThreads = policy.IntraOpThreads });
        var model = new LoadedModel(manifest, session, new ModelOrigin(Path.GetFullPath(modelPath), manifest.ModelSha256, check));
        try
        {
            SelfTest(model, policy.SelfTestTolerance, modelPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    private static TrustedKeyRing EmptyKeys { get; } = new([]);

    private static void SelfTest(LoadedModel model, double tolerance, string modelPath)
    {
        if (model.Manifest.SelfTest is not { } test)
        {
            return;
        }

        if (test.Features.Length != model.Manifest.FeatureSchema.Count)
        {
            throw new ModelLoadException($"{modelPath}: the self-test vector has {test.Features.Length} features, the schema {model.Manifest.FeatureSchema.Count}");
        }

        var bound = new BoundModel(model, model.Manifest.FeatureSchema, 0);
        if (!bound.Stage(test.Features, 0))
        {
            throw new ModelLoadException($"{modelPath}: the self-test vector is not finite");
        }

        bound.Run(1);
        var score = bound.ScoreOf(0);
        if (!(Math.Abs(score - test.ExpectedScore) <= tolerance * Math.Max(1, Math.Abs(test.ExpectedScore))))
        {
            throw new ModelLoadException($"{modelPath}: self-test failed: ONNX Runtime scores {score}, the export recorded {test.ExpectedScore}");
        }
    }
}
