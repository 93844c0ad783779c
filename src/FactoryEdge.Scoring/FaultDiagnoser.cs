namespace FactoryEdge.Scoring;

/// <summary>Machine defects the diagnoser names.</summary>
public enum DefectType
{
    /// <summary>Anomalous, but no defect indicator stands out.</summary>
    Unknown,
    OuterRace,
    InnerRace,
    Ball,
    Imbalance,
    Misalignment,
    Looseness,
}

/// <summary>What drove a window's score, and the defect it most likely is.</summary>
/// <param name="Defect">The indicator that rose most above its training baseline (at least <see cref="FaultDiagnoser.MinimumDeviation"/>).</param>
/// <param name="Deviation">That indicator's rise, in training deviations (log10 scale).</param>
/// <param name="MatchedFrequencyHz">The defect frequency found in the spectrum (envelope line or shaft order), if any.</param>
/// <param name="Drivers">The model inputs furthest from their training mean, largest first, in deviations.</param>
public sealed record Diagnosis(DefectType Defect, double Deviation, double? MatchedFrequencyHz, IReadOnlyList<KeyValuePair<string, double>> Drivers);

/// <summary>
/// Explains a window against the model's training baselines: the inputs that drove the score, and
/// the defect indicator — envelope line at BPFO, BPFI or ball spin, or shaft order ½×, 1×, 2× — that
/// rose furthest. Rules: an indicator is eligible when it rose at least <see cref="MinimumDeviation"/>
/// training deviations above its mean (log10 domain, deviation floored as in the model); among the
/// eligible ones, the one that grew by the largest factor over its normal level names the defect
/// (outer race, inner race, ball, imbalance, misalignment, looseness). Windows whose low-rate
/// history is still filling (speed not tracked yet, orders 0) are not diagnosed (Unknown).
/// Allocates; meant for alerts, not for every window.
/// </summary>
public static class FaultDiagnoser
{
    public const double MinimumDeviation = 3;

    /// <summary>Features the trainer keeps baselines of.</summary>
    public static IReadOnlyList<string> IndicatorFeatures { get; } =
        ["env_bpfo", "env_bpfi", "env_bsf", "env_ftf", "order_0_5x", "order_1x", "order_2x", "order_3x"];

    private static readonly (string Feature, DefectType Defect, string? FrequencyFeature, double Order)[] Indicators =
    [
        ("env_bpfo", DefectType.OuterRace, "env_bpfo_hz", 0),
        ("env_bpfi", DefectType.InnerRace, "env_bpfi_hz", 0),
        ("env_bsf", DefectType.Ball, "env_bsf_hz", 0),
        ("order_1x", DefectType.Imbalance, null, 1),
        ("order_2x", DefectType.Misalignment, null, 2),
        ("order_0_5x", DefectType.Looseness, null, 0.5),
    ];

    public static Diagnosis Diagnose(ModelManifest manifest, IReadOnlyList<string> featureNames, ReadOnlySpan<float> features)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(featureNames);
        var drivers = new List<KeyValuePair<string, double>>();
        foreach (var input in manifest.Inputs)
        {
            var index = IndexOf(featureNames, input.Name);
            if (index >= 0 && float.IsFinite(features[index]))
            {
                drivers.Add(new(input.Name, FeatureTransforms.Deviation(features[index], input)));
            }
        }

        // The line detector's bands (env_prom_bNN): an incipient fault drives the score through one of them.
        foreach (var input in manifest.LineDetector?.Inputs ?? [])
        {
            var index = IndexOf(featureNames, input.Name);
            if (index >= 0 && features[index] > 0 && float.IsFinite(features[index]))
            {
                drivers.Add(new(input.Name, FeatureTransforms.Deviation(features[index], input)));
            }
        }

        drivers.Sort((a, b) => Math.Abs(b.Value).CompareTo(Math.Abs(a.Value)));
        if (drivers.Count > 3)
        {
            drivers.RemoveRange(3, drivers.Count - 3);
        }

        // Until the low-rate history is full the running speed is the nominal one (not tracked), so
        // the defect frequencies may be off by the speed error: no diagnosis yet.
        if (Value(featureNames, features, "velocity_rms_mm_s") is not > 0)
        {
            return new Diagnosis(DefectType.Unknown, 0, null, drivers);
        }

        var best = DefectType.Unknown;
        var bestDeviation = double.NegativeInfinity;
        var bestDecades = double.NegativeInfinity;
        double? frequency = null;
        foreach (var (feature, defect, frequencyFeature, order) in Indicators)
        {
            var index = IndexOf(featureNames, feature);
            var baseline = FindBaseline(manifest, feature);
            if (index < 0 || baseline is null || !(features[index] > 0))
            {
                continue;
            }

            // Eligible when it rose clearly above its normal spread; ranked by how many times above
            // its normal level it is (decades), so that a broadband rise of the envelope, which lifts
            // every line alike, does not favour the line whose normal spread happened to be smallest.
            var rise = FeatureTransforms.Deviation(features[index], baseline);
            var decades = Math.Log10(features[index]) - baseline.Mean;
            if (rise >= MinimumDeviation && decades > bestDecades)
            {
                bestDecades = decades;
                bestDeviation = rise;
                best = defect;
                frequency = frequencyFeature is not null
                    ? Value(featureNames, features, frequencyFeature)
                    : Value(featureNames, features, "shaft_hz") * order;
            }
        }

        if (!(bestDeviation >= MinimumDeviation))
        {
            return new Diagnosis(DefectType.Unknown, double.IsFinite(bestDeviation) ? bestDeviation : 0, null, drivers);
        }

        return new Diagnosis(best, bestDeviation, frequency is > 0 ? frequency : null, drivers);
    }

    private static ModelInput? FindBaseline(ModelManifest manifest, string feature)
    {
        foreach (var d in manifest.Diagnostics)
        {
            if (d.Name == feature)
            {
                return d;
            }
        }

        return null;
    }

    private static double? Value(IReadOnlyList<string> names, ReadOnlySpan<float> features, string name)
    {
        var index = IndexOf(names, name);
        return index >= 0 && float.IsFinite(features[index]) ? features[index] : null;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}
