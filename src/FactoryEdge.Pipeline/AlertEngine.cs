using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FactoryEdge.Core;

namespace FactoryEdge.Pipeline;

/// <summary>
/// Alert rules with hysteresis per channel: <see cref="AlertRuleOptions.RaiseAfter"/> consecutive
/// anomalous windows raise, <see cref="AlertRuleOptions.ClearAfter"/> consecutive normal windows
/// clear. Severity comes from score/threshold. While an alert is active only a change of severity
/// upwards is sent again (escalation): repeats are deduplicated. Windows that were not scored
/// (channel health, stopped machine, warm-up) neither count towards raising nor clearing.
/// Allocates only when it emits an alert.
/// </summary>
internal sealed class AlertEngine
{
    private readonly AlertRuleOptions _options;
    private readonly ChannelState[] _states;
    private readonly string[] _featureNames;
    private readonly int[] _reportedFeatures;
    private readonly IAlertExplainer? _explainer;
    private readonly int _isoZoneFeature;

    public AlertEngine(AlertRuleOptions options, int channelCount, IReadOnlyList<string> featureNames, IAlertExplainer? explainer = null)
    {
        _explainer = explainer;
        _options = options;
        _states = new ChannelState[channelCount];
        _featureNames = [.. featureNames];
        var reported = new List<int>();
        foreach (var name in (string[])["rms", "peak", "kurtosis", "crest_factor", "velocity_rms_mm_s", "env_bpfo", "env_bpfi", "env_bsf", "env_ftf", "order_1x", "order_2x"])
        {
            var i = Array.IndexOf(_featureNames, name);
            if (i >= 0)
            {
                reported.Add(i);
            }
        }

        _reportedFeatures = [.. reported];
        _isoZoneFeature = Array.IndexOf(_featureNames, "iso_zone");
    }

    public long Raised { get; private set; }

    public long Cleared { get; private set; }

    public bool IsActive(int channel) => _states[channel].Active;

    public Alert? Evaluate(WindowResult result, string modelId)
    {
        ref var state = ref _states[result.ChannelIndex];
        if (float.IsNaN(result.Score) || result.WarmingUp)
        {
            return null;
        }

        if (result.Anomalous)
        {
            state.Normal = 0;
            state.Anomalous++;
            var severity = SeverityOf(result.Score, result.Threshold);
            if (!state.Active)
            {
                if (state.Anomalous < _options.RaiseAfter)
                {
                    return null;
                }

                state.Active = true;
                state.Severity = severity;
                state.AlertId = AlertIdFor(result);
                Raised++;
                return Create(result, modelId, AlertState.Raised, severity, state.AlertId);
            }

            if (severity > state.Severity)
            {
                state.Severity = severity;
                return Create(result, modelId, AlertState.Escalated, severity, state.AlertId!);
            }

            if (!_options.Dedupe)
            {
                Raised++;
                return Create(result, modelId, AlertState.Raised, severity, AlertIdFor(result));
            }

            return null;
        }

        state.Anomalous = 0;
        if (!state.Active)
        {
            return null;
        }

        if (++state.Normal < _options.ClearAfter)
        {
            return null;
        }

        state.Active = false;
        state.Normal = 0;
        Cleared++;
        return Create(result, modelId, AlertState.Cleared, state.Severity, state.AlertId!);
    }

    private AlertSeverity SeverityOf(float score, float threshold)
    {
        var ratio = threshold > 0 ? score / threshold : double.PositiveInfinity;
        return ratio >= _options.CriticalRatio ? AlertSeverity.Critical
            : ratio >= _options.AlarmRatio ? AlertSeverity.Alarm
            : AlertSeverity.Warning;
    }

    private Alert Create(WindowResult result, string modelId, AlertState state, AlertSeverity severity, string alertId)
    {
        var top = new KeyValuePair<string, float>[_reportedFeatures.Length];
        for (var i = 0; i < top.Length; i++)
        {
            var f = _reportedFeatures[i];
            top[i] = new(_featureNames[f], result.Features[f]);
        }

        var verb = state switch
        {
            AlertState.Raised => "anomalous vibration",
            AlertState.Escalated => "anomalous vibration escalated",
            _ => "vibration back to normal",
        };
        AlertExplanation? explanation = null;
        if (_explainer is not null && state != AlertState.Cleared)
        {
            try
            {
                explanation = _explainer.Explain(result.ChannelIndex, result.Features);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
            {
                // An explanation is a courtesy: the alert goes out without it.
                explanation = null;
            }
        }

        var because = explanation is null ? string.Empty : " — " + explanation.Summary;
        return new Alert
        {
            AlertId = alertId,
            Channel = result.Channel,
            State = state,
            Severity = severity,
            SourceTime = result.SourceStart,
            Score = result.Score,
            Threshold = result.Threshold,
            ModelId = modelId,
            Message = string.Create(CultureInfo.InvariantCulture, $"{result.Channel.MachineKey}: {verb} on {result.Channel.Sensor}/{result.Channel.Axis} (score {result.Score:0.00}, threshold {result.Threshold:0.00}){because}"),
            TopFeatures = top,
            Explanation = explanation,
            IsoZone = IsoZoneOf(result),
        };
    }

    private IsoZone IsoZoneOf(WindowResult result)
    {
        if (_isoZoneFeature < 0)
        {
            return IsoZone.None;
        }

        var value = result.Features[_isoZoneFeature];
        return float.IsFinite(value) && value >= (int)IsoZone.A && value <= (int)IsoZone.D ? (IsoZone)(int)value : IsoZone.None;
    }

    /// <summary>Stable id: the same channel and raising window always give the same id (resends dedupe).</summary>
    internal static string AlertIdFor(WindowResult result)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{result.Channel}|{result.Timestamps.SourceStartTicks}|{result.FirstSampleIndex}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    private struct ChannelState
    {
        public int Anomalous;
        public int Normal;
        public bool Active;
        public AlertSeverity Severity;
        public string? AlertId;
    }
}
