using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>
/// The built-in scorer used until an ONNX model is configured: for each channel it learns the mean
/// and standard deviation of a set of monitored features over a warm-up period (Welford), then
/// scores each window as the largest upward z-score among them. Amplitude-like features are taken
/// in log10 so that "twice as large" weighs the same at any level; a floor on the deviation keeps
/// a very steady feature from turning noise into alarms. One-sided: a fault makes vibration grow.
/// Learning stops after warm-up so that a developing fault is never learned as normal. A feature that
/// is not available yet (amplitude 0: multi-window history still filling) is left out, not learned as 0.
/// </summary>
public sealed class StatisticalBaselineScorer : IAnomalyScorer, IAlertExplainer
{
    /// <summary>Indicator feature → defect it points to, and where its frequency comes from.</summary>
    private static readonly (string Feature, string Defect, string? FrequencyFeature, double Order)[] Indicators =
    [
        ("env_bpfo", "outer race", "env_bpfo_hz", 0),
        ("env_bpfi", "inner race", "env_bpfi_hz", 0),
        ("env_bsf", "ball", "env_bsf_hz", 0),
        ("order_1x", "imbalance", null, 1),
        ("order_2x", "misalignment", null, 2),
        ("order_0_5x", "looseness", null, 0.5),
    ];

    /// <summary>
    /// Smallest deviation of a log10 feature: 0.1 decade (26 %), so an alarm at the default 6σ needs
    /// at least a 4× rise. 0.05 let a slow feature (shaft orders update every 0.25 s, so a short
    /// learning period holds few independent values) reach 6σ on a healthy demo machine.
    /// </summary>
    public const double LogDeviationFloor = 0.1;

    private static readonly string[] LinearFeatures = ["kurtosis", "crest_factor"];
    private static readonly string[] LogFeatures =
    [
        "rms", "peak", "velocity_rms_mm_s", "order_1x", "order_2x", "order_3x", "order_0_5x",
        "env_bpfo", "env_bpfi", "env_bsf", "env_ftf",
    ];

    private readonly BaselineOptions _options;
    private string[]? _names;
    private int[] _monitored = [];
    private bool[] _log = [];
    private long[] _counts = [];
    private long[] _featureCounts = [];
    private double[] _mean = [];
    private double[] _m2 = [];

    public StatisticalBaselineScorer(BaselineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    public string ModelId => "baseline-zscore";

    public int MonitoredFeatureCount => _monitored.Length;

    public void Initialize(IReadOnlyList<ChannelDescriptor> channels, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(featureNames);
        if (_names is not null && _counts.Length == channels.Count && _names.SequenceEqual(featureNames))
        {
            // Same layout (e.g. analyze after learning from a baseline recording): keep what was learned.
            return;
        }

        _names = [.. featureNames];
        var monitored = new List<int>();
        var log = new List<bool>();
        for (var i = 0; i < featureNames.Count; i++)
        {
            var name = featureNames[i];
            if (Array.IndexOf(LinearFeatures, name) >= 0)
            {
                monitored.Add(i);
                log.Add(false);
            }
            else if (Array.IndexOf(LogFeatures, name) >= 0 || name.StartsWith("band_", StringComparison.Ordinal))
            {
                monitored.Add(i);
                log.Add(true);
            }
        }

        _monitored = [.. monitored];
        _log = [.. log];
        _counts = new long[channels.Count];
        _featureCounts = new long[channels.Count * _monitored.Length];
        _mean = new double[channels.Count * _monitored.Length];
        _m2 = new double[channels.Count * _monitored.Length];
    }

    public void Score(ScoringBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var k = _monitored.Length;
        for (var row = 0; row < batch.Count; row++)
        {
            var channel = batch.ChannelIndices[row];
            var features = batch.Features(row);
            var offset = channel * k;
            batch.Thresholds[row] = (float)_options.Threshold;
            if (_counts[channel] < _options.WarmupWindows)
            {
                _counts[channel]++;
                for (var j = 0; j < k; j++)
                {
                    if (!TryTransform(features[_monitored[j]], _log[j], out var x))
                    {
                        continue;
                    }

                    var n = ++_featureCounts[offset + j];
                    var delta = x - _mean[offset + j];
                    _mean[offset + j] += delta / n;
                    _m2[offset + j] += delta * (x - _mean[offset + j]);
                }

                batch.WarmingUp[row] = true;
                batch.Scores[row] = 0f;
                continue;
            }

            var worst = 0.0;
            for (var j = 0; j < k; j++)
            {
                var count = _featureCounts[offset + j];
                if (count < 2 || !TryTransform(features[_monitored[j]], _log[j], out var x))
                {
                    continue;
                }

                var mean = _mean[offset + j];
                var std = Math.Sqrt(_m2[offset + j] / Math.Max(1, count - 1));
                // Floors: LogDeviationFloor for log features, 5 % of the mean for linear ones.
                var floor = _log[j] ? LogDeviationFloor : 0.05 * Math.Abs(mean);
                std = Math.Max(std, Math.Max(floor, 1e-9));
                var z = (x - mean) / std;
                if (z > worst)
                {
                    worst = z;
                }
            }

            batch.Scores[row] = (float)worst;
        }
    }

    /// <summary>
    /// Explains a window: the monitored features furthest above this channel's normal, and the
    /// defect indicator (bearing envelope line or shaft order) that rose most, if one rose at least 3σ.
    /// </summary>
    public AlertExplanation? Explain(int channelIndex, ReadOnlySpan<float> features)
    {
        if (_names is null || (uint)channelIndex >= (uint)_counts.Length || _counts[channelIndex] < _options.WarmupWindows)
        {
            return null;
        }

        var k = _monitored.Length;
        var offset = channelIndex * k;
        var deviations = new List<KeyValuePair<string, double>>();
        for (var j = 0; j < k; j++)
        {
            var count = _featureCounts[offset + j];
            if (count < 2 || !TryTransform(features[_monitored[j]], _log[j], out var x))
            {
                continue;
            }

            var mean = _mean[offset + j];
            var floor = _log[j] ? LogDeviationFloor : 0.05 * Math.Abs(mean);
            var std = Math.Max(Math.Sqrt(_m2[offset + j] / Math.Max(1, count - 1)), Math.Max(floor, 1e-9));
            deviations.Add(new(_names[_monitored[j]], (x - mean) / std));
        }

        deviations.Sort((a, b) => b.Value.CompareTo(a.Value));
        string? defect = null;
        double? frequency = null;
        var best = 3.0;
        foreach (var (feature, name, frequencyFeature, order) in Indicators)
        {
            var d = deviations.Find(p => p.Key == feature);
            if (d.Key is null || d.Value < best)
            {
                continue;
            }

            best = d.Value;
            defect = name;
            var hz = frequencyFeature is not null ? At(features, frequencyFeature) : At(features, "shaft_hz") * order;
            frequency = hz > 0 ? hz : null;
        }

        var drivers = deviations.Take(3).Where(p => p.Value > 0).ToList();
        var driverText = string.Join(", ", drivers.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Key} +{p.Value:0.#}σ")));
        var summary = defect is null
            ? driverText
            : frequency is { } f
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{defect} (line at {f:0.#} Hz); {driverText}")
                : $"{defect}; {driverText}";
        return new AlertExplanation(summary, drivers, defect, frequency);
    }

    private double At(ReadOnlySpan<float> features, string name)
    {
        var i = Array.IndexOf(_names!, name);
        return i >= 0 && i < features.Length && float.IsFinite(features[i]) ? features[i] : 0;
    }

    /// <summary>
    /// Log10 for amplitude features; a non-finite value, or an amplitude of exactly 0 (a feature whose
    /// multi-window history is not filled yet, e.g. just after start or a gap), counts as missing.
    /// </summary>
    private static bool TryTransform(float value, bool log, out double x)
    {
        if (!float.IsFinite(value) || (log && value <= 0))
        {
            x = 0;
            return false;
        }

        x = log ? Math.Log10(value) : value;
        return true;
    }
}
