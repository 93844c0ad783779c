using System.Text.Json;
using FactoryEdge.Core;
using FactoryEdge.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryEdge.Dashboard;

/// <summary>
/// Builds what the page shows, as JSON-ready objects: the line overview, a machine with its channels'
/// trends and spectra, the alarm list, the model view. Numbers that are not finite become null.
/// </summary>
public sealed class DashboardViews
{
    /// <summary>A channel without a window for this long is shown as "no data".</summary>
    public static readonly TimeSpan NoDataAfter = TimeSpan.FromSeconds(10);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly DisplayTap _tap;
    private readonly TimeProvider _time;
    private readonly IServiceProvider _services;

    public DashboardViews(DisplayTap tap, TimeProvider time, IServiceProvider services)
    {
        _tap = tap;
        _time = time;
        _services = services;
        History = new TrendHistory(tap, time, services);
    }

    /// <summary>Trends over a range: the store's history before the in-memory ring (<c>/api/trend</c>).</summary>
    internal TrendHistory History { get; }

    /// <summary>The alarm board, when the alerts adapter registered one.</summary>
    public IAlarmBoard? Board => _services.GetService<IAlarmBoard>();

    public object Overview()
    {
        var channels = _tap.Channels;
        var alarms = ActiveAlarmSeverities();
        var machines = new List<object>();
        foreach (var group in channels.Select((c, i) => (c, i)).GroupBy(x => x.c.Id.MachineKey, StringComparer.Ordinal))
        {
            var rows = group.Select(x => ChannelRow(x.c, x.i, alarms)).ToList();
            var first = group.First().c.Id;
            machines.Add(new
            {
                key = group.Key,
                site = first.Site,
                line = first.Line,
                machine = first.Machine,
                status = MachineStatus(rows),
                severity = rows.Select(r => r.Severity).Max(),
                channels = rows,
            });
        }

        return new
        {
            now = _time.GetUtcNow(),
            windows = _tap.Windows,
            model = ModelId(),
            machines,
        };
    }

    public object? Machine(string key)
    {
        var list = MachineChannels(key, (c, i, alarms) => new
        {
            row = ChannelRow(c, i, alarms),
            bearing = c.Bearing?.Name,
            nominalShaftHz = c.NominalShaftHz,
            trend = Trend(i, 0),
            spectrum = Frame(i),
        });
        return list.Count == 0 ? null : new { key, channels = list, model = ModelId() };
    }

    /// <summary>One view object per channel of the machine <paramref name="key"/>, in channel order.</summary>
    private List<T> MachineChannels<T>(string key, Func<ChannelDescriptor, int, Dictionary<string, AlertSeverity>, T> view)
    {
        var channels = _tap.Channels;
        var alarms = ActiveAlarmSeverities();
        var list = new List<T>();
        for (var i = 0; i < channels.Count; i++)
        {
            if (channels[i].Id.MachineKey == key)
            {
                list.Add(view(channels[i], i, alarms));
            }
        }

        return list;
    }

    /// <summary>What a browser watching a machine gets on every push: latest values, the newest trend points, new frames.</summary>
    public object MachineLive(string key, long trendAfterMs, Func<int, bool> includeFrame)
    {
        var list = MachineChannels(key, (c, i, alarms) => new
        {
            row = ChannelRow(c, i, alarms),
            trend = Trend(i, trendAfterMs),
            spectrum = includeFrame(i) ? Frame(i) : null,
        });
        return new { key, channels = list };
    }

    public object? Frame(int channel) => _tap.Spectrum(channel) is { } f
        ? new
        {
            sourceTime = f.SourceTimeMs,
            sampleRateHz = f.SampleRateHz,
            unit = f.Unit,
            waveform = f.Waveform,
            waveformStepSeconds = f.WaveformStepSeconds,
            spectrumBinHz = f.SpectrumBinHz,
            spectrum = f.Spectrum,
            envelopeBinHz = f.EnvelopeBinHz,
            envelope = f.Envelope,
            envelopeReady = f.EnvelopeReady,
            envelopeBand = new[] { f.EnvelopeBandLowHz, f.EnvelopeBandHighHz },
            shaftHz = N(f.ShaftHz),
            bearing = f.Bearing,
            defects = f.Defects is { } d ? new { bpfo = d.Bpfo, bpfi = d.Bpfi, bsf = d.Bsf, ftf = d.Ftf } : null,
        }
        : null;

    public object Trend(int channel, long afterMs)
    {
        var points = _tap.Trend(channel, afterMs);
        return new
        {
            t = points.Select(p => p.TimeMs).ToArray(),
            rms = points.Select(p => N(p.Rms)).ToArray(),
            velocity = points.Select(p => N(p.Velocity)).ToArray(),
            score = points.Select(p => N(p.Score)).ToArray(),
            threshold = points.Select(p => N(p.Threshold)).ToArray(),
        };
    }

    public object Alarms()
    {
        // Without an alarm board (alerts adapter absent) the tap's active alerts are shown read-only.
        var board = Board;
        var alarms = board is not null
            ? board.Snapshot()
            : [.. _tap.ActiveAlerts().OrderByDescending(a => a.SourceTime).Select(static a => new AlarmView
            {
                AlertId = a.AlertId,
                Channel = a.Channel,
                State = a.State,
                Severity = a.Severity,
                RaisedAt = a.SourceTime,
                LastChangeAt = a.SourceTime,
                Score = a.Score,
                Threshold = a.Threshold,
                Message = a.Message,
                Explanation = a.Explanation,
            })];
        return new
        {
            board = board is not null,
            alarms = alarms.Select(a => new
            {
                id = a.AlertId,
                channel = a.Channel.ToString(),
                machine = a.Channel.MachineKey,
                state = a.State.ToString().ToLowerInvariant(),
                severity = a.Severity.ToString().ToLowerInvariant(),
                raisedAt = a.RaisedAt,
                lastChangeAt = a.LastChangeAt,
                score = N(a.Score),
                threshold = N(a.Threshold),
                message = a.Message,
                explanation = a.Explanation?.Summary,
                defect = a.Explanation?.Defect,
                defectHz = a.Explanation?.DefectFrequencyHz,
                acknowledged = a.Acknowledged,
                acknowledgedBy = a.AcknowledgedBy,
                acknowledgedAt = a.AcknowledgedAt,
                shelvedUntil = a.ShelvedUntil,
            }).ToList(),
        };
    }

    public object Models()
    {
        var scorer = _services.GetService<IAnomalyScorer>();
        var onnx = _services.GetService<OnnxAnomalyScorer>();
        var manager = _services.GetService<ModelManager>();
        var lines = onnx?.GetStatus().Select(s =>
        {
            var manifest = onnx.ActiveManifest(s.ModelId);
            var shadow = onnx.GetShadowReport(s.ModelId);
            return new
            {
                line = s.ModelId,
                active = s.Active,
                version = s.ActiveVersion,
                threshold = manifest?.Threshold,
                created = manifest?.CreatedUtc,
                channels = s.Channels,
                scoredWindows = s.ScoredWindows,
                swaps = s.Swaps,
                shadow = shadow is null
                    ? null
                    : new
                    {
                        model = shadow.ShadowModel,
                        windows = shadow.Windows,
                        shadowAnomalousRate = shadow.ShadowAnomalousRate,
                        activeAnomalousRate = shadow.ActiveAnomalousRate,
                        shadowAlerts = shadow.ShadowAlerts,
                        activeAlerts = shadow.ActiveAlerts,
                    },
            };
        }).ToList();
        return new
        {
            scorer = scorer?.ModelId,
            modelsDirectory = manager?.Directory,
            accepted = manager?.Accepted.Select(a => new { a.ModelId, a.Version, file = Path.GetFileName(a.Path) }).ToList(),
            lines = lines ?? [],
        };
    }

    private string? ModelId() => _services.GetService<IAnomalyScorer>()?.ModelId;

    private Dictionary<string, AlertSeverity> ActiveAlarmSeverities()
    {
        var result = new Dictionary<string, AlertSeverity>(StringComparer.Ordinal);
        if (Board is { } board)
        {
            foreach (var a in board.Snapshot())
            {
                if (a.State != AlertState.Cleared)
                {
                    Raise(result, a.Channel.ToString(), a.Severity);
                }
            }
        }
        else
        {
            foreach (var a in _tap.ActiveAlerts())
            {
                Raise(result, a.Channel.ToString(), a.Severity);
            }
        }

        return result;
    }

    private static void Raise(Dictionary<string, AlertSeverity> map, string key, AlertSeverity severity)
    {
        if (!map.TryGetValue(key, out var current) || severity > current)
        {
            map[key] = severity;
        }
    }

    private ChannelRowView ChannelRow(ChannelDescriptor c, int index, Dictionary<string, AlertSeverity> alarms)
    {
        var latest = _tap.Latest(index);
        var id = c.Id.ToString();
        double? age = latest is null ? null : Math.Round(_time.GetElapsedTime(latest.ReceivedTimestamp).TotalSeconds, 1);
        return new ChannelRowView(
            id, c.Id.Sensor, c.Id.Axis, c.Unit.Symbol(), c.SampleRateHz,
            age,
            latest is null ? null : N(latest.Rms),
            latest is null ? null : N(latest.Velocity),
            latest is null || latest.Zone == IsoZone.None ? null : latest.Zone.ToString(),
            latest is null ? null : N(latest.Score),
            latest is null ? null : N(latest.Threshold),
            latest?.Anomalous ?? false,
            latest?.WarmingUp ?? false,
            latest is null ? null : HealthText(latest.Health),
            latest?.State.ToString().ToLowerInvariant(),
            alarms.TryGetValue(id, out var severity) ? (int)severity : 0,
            alarms.TryGetValue(id, out var s2) ? s2.ToString().ToLowerInvariant() : null);
    }

    private static string MachineStatus(List<ChannelRowView> rows)
    {
        var severity = rows.Select(r => r.Severity).Max();
        if (severity > 0)
        {
            return ((AlertSeverity)severity).ToString().ToLowerInvariant();
        }

        if (rows.All(r => r.LastSampleAgeSeconds is null || r.LastSampleAgeSeconds > NoDataAfter.TotalSeconds))
        {
            return "nodata";
        }

        if (rows.Any(r => r.Health is { Length: > 0 } h && h != "gap"))
        {
            return "sensor";
        }

        return rows.All(r => r.State == "stopped") ? "stopped" : "normal";
    }

    private static string HealthText(ChannelHealthFlags flags)
    {
        if (flags == ChannelHealthFlags.None)
        {
            return "";
        }

        var parts = new List<string>();
        foreach (var flag in Enum.GetValues<ChannelHealthFlags>())
        {
            if (flag != ChannelHealthFlags.None && flags.HasFlag(flag))
            {
                parts.Add(flag == ChannelHealthFlags.GapBefore ? "gap" : flag.ToString());
            }
        }

        return string.Join(",", parts);
    }

    internal static double? N(double value) => double.IsFinite(value) ? Math.Round(value, 6) : null;

}

/// <summary>One channel in the overview.</summary>
public sealed record ChannelRowView(
    string Id, string Sensor, string Axis, string Unit, double SampleRateHz, double? LastSampleAgeSeconds,
    double? Rms, double? Velocity, string? IsoZone, double? Score, double? Threshold, bool Anomalous, bool WarmingUp,
    string? Health, string? State, int Severity, string? SeverityName);
