namespace FactoryEdge.Scoring;

/// <summary>The pre- and post-steps around the ONNX graph, shared by training and scoring (one code path).</summary>
public static class FeatureTransforms
{
    /// <summary>T(x): log10(max(x, floor)) or x.</summary>
    public static double Transform(double x, InputTransform transform, double floor) =>
        transform == InputTransform.Log10 ? Math.Log10(Math.Max(x, floor)) : x;

    /// <summary>Pre-step of one input.</summary>
    public static float PreStep(float x, ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return (float)Transform(x, input.Transform, input.Floor);
    }

    /// <summary>Standardised deviation of one input, as the graph sees it: (T(x) − mean) / max(σ, floor).</summary>
    public static double Deviation(float x, ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return (Transform(x, input.Transform, input.Floor) - input.Mean) / input.Scale;
    }

    /// <summary>
    /// Line score of the defect-line detector: <c>Scale × max over its inputs of z</c>; −∞ when the
    /// model has none or no line is available yet (a line reading 0 has not been computed).
    /// </summary>
    public static float LineScore(LineDetector? detector, IReadOnlyList<string> featureNames, ReadOnlySpan<float> features)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        if (detector is null)
        {
            return float.NegativeInfinity;
        }

        var best = double.NegativeInfinity;
        foreach (var input in detector.Inputs)
        {
            var i = IndexOf(featureNames, input.Name);
            var x = i >= 0 && i < features.Length ? features[i] : 0f;
            if (x > 0 && float.IsFinite(x))
            {
                best = Math.Max(best, Deviation(x, input));
            }
        }

        return double.IsNegativeInfinity(best) ? float.NegativeInfinity : (float)(detector.Scale * best);
    }

    /// <summary>The window's score: max(KMeans distance, line score).</summary>
    public static float Combine(float distance, float lineScore) => lineScore > distance ? lineScore : distance;

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Post-step: √(max(0, min over clusters of the squared distance)).</summary>
    public static float NearestCentroidDistance(ReadOnlySpan<float> squaredDistances)
    {
        var min = float.PositiveInfinity;
        foreach (var d in squaredDistances)
        {
            if (d < min)
            {
                min = d;
            }
        }

        return MathF.Sqrt(MathF.Max(0f, min));
    }
}

/// <summary>Where a loaded model came from and what its signature check said.</summary>
public sealed record ModelOrigin(string ModelPath, string ModelSha256, SignatureCheck Signature);

/// <summary>
/// A verified model: its manifest and its ONNX session. Owned by one scorer slot at a time; the
/// scorer disposes it when it is replaced.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    internal LoadedModel(ModelManifest manifest, IModelSession session, ModelOrigin origin)
    {
        Manifest = manifest;
        Session = session;
        Origin = origin;
        DisplayId = manifest.DisplayId;
    }

    public ModelManifest Manifest { get; }

    public ModelOrigin Origin { get; }

    public string DisplayId { get; }

    internal IModelSession Session { get; }

    /// <summary>
    /// Checks the model against the pipeline's feature schema (the manifest's schema must be a prefix
    /// of it: names are only ever appended) and window size; returns the bound model or the reason.
    /// </summary>
    public static string? CheckSchema(ModelManifest manifest, IReadOnlyList<string> pipelineFeatures, int pipelineWindowSize)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(pipelineFeatures);
        if (pipelineWindowSize > 0 && manifest.WindowSize != pipelineWindowSize)
        {
            return $"model {manifest.DisplayId} was trained on {manifest.WindowSize}-sample windows, the pipeline uses {pipelineWindowSize}";
        }

        var schema = manifest.FeatureSchema;
        for (var i = 0; i < schema.Count; i++)
        {
            if (i >= pipelineFeatures.Count)
            {
                return $"model {manifest.DisplayId} expects {schema.Count} features (feature {i} '{schema[i]}'), the pipeline has only {pipelineFeatures.Count}";
            }

            if (!string.Equals(schema[i], pipelineFeatures[i], StringComparison.Ordinal))
            {
                return $"feature schema mismatch for model {manifest.DisplayId}: feature {i} is '{schema[i]}' in the model, '{pipelineFeatures[i]}' in the pipeline";
            }
        }

        return null;
    }

    public void Dispose() => Session.Dispose();
}

/// <summary>
/// A model bound to the pipeline's schema: feature indices resolved, transforms unpacked into
/// arrays, so that staging a row and reading its score allocate nothing.
/// </summary>
internal sealed class BoundModel : IDisposable
{
    private readonly int[] _inputIndex;
    private readonly int[] _warmupIndex;
    private readonly bool[] _log;
    private readonly double[] _floor;
    private readonly int _width;
    private readonly int _clusters;
    private readonly int[] _lineIndex;
    private readonly double[] _lineMean;
    private readonly double[] _lineScale;
    private readonly double[] _lineFloor;
    private readonly double _lineWeight;
    private readonly float[] _lineScores;

    public BoundModel(LoadedModel model, IReadOnlyList<string> pipelineFeatures, int pipelineWindowSize)
    {
        if (LoadedModel.CheckSchema(model.Manifest, pipelineFeatures, pipelineWindowSize) is { } problem)
        {
            throw new ModelLoadException(problem);
        }

        Model = model;
        var inputs = model.Manifest.Inputs;
        _width = inputs.Count;
        _clusters = model.Manifest.Clusters;
        _inputIndex = new int[_width];
        _log = new bool[_width];
        _floor = new double[_width];
        for (var j = 0; j < _width; j++)
        {
            var input = inputs[j];
            _inputIndex[j] = IndexOf(pipelineFeatures, input.Name);
            _log[j] = input.Transform == InputTransform.Log10;
            _floor[j] = input.Floor;
        }

        _warmupIndex = [.. model.Manifest.WarmupFeatures.Select(name => IndexOf(pipelineFeatures, name))];
        var line = model.Manifest.LineDetector;
        var lineInputs = line?.Inputs ?? [];
        _lineIndex = [.. lineInputs.Select(i => IndexOf(pipelineFeatures, i.Name))];
        _lineMean = [.. lineInputs.Select(i => i.Mean)];
        _lineScale = [.. lineInputs.Select(i => i.Scale)];
        _lineFloor = [.. lineInputs.Select(i => i.Floor)];
        _lineWeight = line?.Scale ?? 0;
        _lineScores = new float[Math.Max(1, model.Session.MaxBatch)];
        Threshold = (float)model.Manifest.Threshold;
    }

    public LoadedModel Model { get; }

    public ModelManifest Manifest => Model.Manifest;

    public string DisplayId => Model.DisplayId;

    public float Threshold { get; }

    public int MaxBatch => Model.Session.MaxBatch;

    public long Version => Model.Manifest.Version;

    /// <summary>True when the row's multi-window features are not available yet.</summary>
    public bool IsWarmingUp(ReadOnlySpan<float> features)
    {
        foreach (var index in _warmupIndex)
        {
            var v = features[index];
            if (!(v > 0) || !float.IsFinite(v))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes the pre-stepped inputs of <paramref name="features"/> into session row <paramref name="row"/>; false when a needed feature is not finite.</summary>
    public bool Stage(ReadOnlySpan<float> features, int row)
    {
        var destination = Model.Session.Input.Slice(row * _width, _width);
        for (var j = 0; j < _width; j++)
        {
            var x = features[_inputIndex[j]];
            if (!float.IsFinite(x))
            {
                return false;
            }

            destination[j] = _log[j] ? (float)Math.Log10(Math.Max(x, _floor[j])) : x;
        }

        // Defect-line detector (same arithmetic as FeatureTransforms.LineScore).
        var best = double.NegativeInfinity;
        for (var j = 0; j < _lineIndex.Length; j++)
        {
            var x = features[_lineIndex[j]];
            if (x > 0 && float.IsFinite(x))
            {
                var z = (Math.Log10(Math.Max(x, _lineFloor[j])) - _lineMean[j]) / _lineScale[j];
                best = Math.Max(best, z);
            }
        }

        _lineScores[row] = double.IsNegativeInfinity(best) ? float.NegativeInfinity : (float)(_lineWeight * best);
        return true;
    }

    public void Run(int rows) => Model.Session.Run(rows);

    public float ScoreOf(int row) => FeatureTransforms.Combine(FeatureTransforms.NearestCentroidDistance(Model.Session.Output.Slice(row * _clusters, _clusters)), _lineScores[row]);

    public void Dispose() => Model.Dispose();

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new ModelLoadException($"feature '{name}' is not produced by the pipeline");
    }
}
