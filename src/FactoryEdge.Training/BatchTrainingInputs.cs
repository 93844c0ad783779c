using System.Security.Cryptography;
using System.Text;
using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Uplink;

namespace FactoryEdge.Training;

/// <summary>What <see cref="BatchTrainingInputs.Load"/> found in the batch folders.</summary>
/// <param name="Inputs">One training input per channel, its windows in source-time order.</param>
/// <param name="Files">Batch files read.</param>
/// <param name="Windows">Windows in those files.</param>
/// <param name="Used">Windows used (normal periodic samples: healthy, running, not anomalous).</param>
/// <param name="Problems">Files skipped, with the reason.</param>
/// <param name="WindowSizes">Sizes of the windows used (the model must be trained for the gateway's window size).</param>
public sealed record BatchLoadResult(IReadOnlyList<TrainingInput> Inputs, int Files, int Windows, int Used, IReadOnlyList<string> Problems, IReadOnlySet<int> WindowSizes);

/// <summary>
/// <c>train --input-batches DIR</c>: reads the training batches a receiver stored (any <c>*.feb</c>
/// below DIR, docs/uplink.md), keeps the periodic samples of normal operation (healthy, machine
/// running, not anomalous — the captures around alerts are the lead-up of faults, not normal data),
/// and gives their features — computed by the gateways' own pipelines, with the channels' full
/// envelope and speed histories — to the trainer, one input per channel, in source-time order.
/// </summary>
public static class BatchTrainingInputs
{
    public static BatchLoadResult Load(IReadOnlyList<string> directories, IReadOnlyList<string> schema, string? channelFilter = null)
    {
        ArgumentNullException.ThrowIfNull(directories);
        ArgumentNullException.ThrowIfNull(schema);
        var problems = new List<string>();
        var perChannel = new Dictionary<string, List<(DateTimeOffset Time, float[] Row, BatchChannel Channel, string Hash)>>(StringComparer.Ordinal);
        var files = 0;
        var windows = 0;
        var used = 0;
        var sizes = new HashSet<int>();
        foreach (var directory in directories)
        {
            if (!Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException($"--input-batches: folder '{directory}' not found");
            }

            foreach (var file in Directory.EnumerateFiles(directory, "*" + BatchFormat.FileExtension, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                TrainingBatch batch;
                var bytes = File.ReadAllBytes(file);
                try
                {
                    batch = BatchFormat.Read(bytes);
                }
                catch (InvalidDataException ex)
                {
                    problems.Add($"{file}: {ex.Message}");
                    continue;
                }

                files++;
                var m = batch.Manifest;
                var map = new int[schema.Count];
                var missing = new List<string>();
                for (var i = 0; i < schema.Count; i++)
                {
                    map[i] = m.FeatureNames.IndexOf(schema[i]);
                    if (map[i] < 0)
                    {
                        missing.Add(schema[i]);
                    }
                }

                if (missing.Count > 0)
                {
                    problems.Add($"{file}: feature schema mismatch, the batch lacks {string.Join(", ", missing.Take(5))} (captured by an older gateway?)");
                    continue;
                }

                var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
                foreach (var w in m.Windows)
                {
                    windows++;
                    var channel = m.Channels[w.Channel];
                    if (w.Reason != CaptureReason.Sample || w.Anomalous || ((ChannelHealthFlags)w.Health).ExcludesWindow() || w.MachineState == (int)MachineState.Stopped
                        || (channelFilter is not null && !channel.Id.StartsWith(channelFilter, StringComparison.Ordinal)))
                    {
                        continue;
                    }

                    var row = new float[schema.Count];
                    for (var i = 0; i < row.Length; i++)
                    {
                        row[i] = w.Features[map[i]];
                    }

                    if (!perChannel.TryGetValue(channel.Id, out var list))
                    {
                        perChannel[channel.Id] = list = [];
                    }

                    list.Add((w.SourceStartUtc, row, channel, hash));
                    sizes.Add(w.Samples);
                    used++;
                }
            }
        }

        var inputs = new List<TrainingInput>();
        foreach (var (id, list) in perChannel.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            list.Sort((a, b) => a.Time.CompareTo(b.Time));
            var channel = list[0].Channel;
            SignalUnits.TryParse(channel.Unit, out var unit);
            var parts = id.Split('/');
            // The trainer describes its inputs as recordings: a stand-in with the channel's rate and
            // the number of samples the windows cover (only their metadata is used).
            var recording = new Recording("batches " + id, channel.SampleRateHz, [new RecordingChannel(parts[^2], parts[^1], unit, new float[Math.Max(1, list.Count)])]);
            var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', list.Select(x => x.Hash).Distinct()))));
            inputs.Add(new TrainingInput(recording, "batches:" + id.Replace('/', '.'), digest)
            {
                PrecomputedFeatures = [.. list.Select(x => x.Row)],
            });
        }

        return new BatchLoadResult(inputs, files, windows, used, problems, sizes);
    }
}
