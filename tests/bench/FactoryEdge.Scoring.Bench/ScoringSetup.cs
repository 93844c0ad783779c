using FactoryEdge.Core;
using FactoryEdge.Pipeline;
using FactoryEdge.Recordings;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;
using FactoryEdge.Training;

namespace FactoryEdge.Scoring.Bench;

/// <summary>
/// A generator model (3 runs of 8 s at 25.6 kHz), 128 channels, warmed-up feature rows of an
/// unseen run; the three scorers prepared and warmed.
/// </summary>
public sealed class ScoringSetup : IDisposable
{
    public const int Channels = 128;

    private ScoringSetup(TrainedModel trained, string directory, OnnxAnomalyScorer onnx, StatisticalBaselineScorer baseline, IReadOnlyList<float[]> rows)
    {
        Trained = trained;
        Directory = directory;
        Onnx = onnx;
        Baseline = baseline;
        Rows = rows;
        Engine = trained.CreatePredictionEngine();
    }

    public TrainedModel Trained { get; }

    public string Directory { get; }

    public OnnxAnomalyScorer Onnx { get; }

    public StatisticalBaselineScorer Baseline { get; }

    public Microsoft.ML.PredictionEngine<ModelTrainer.VectorRow, ModelTrainer.ClusterPrediction> Engine { get; }

    public IReadOnlyList<float[]> Rows { get; }

    public static ScoringSetup Create()
    {
        var inputs = new List<TrainingInput>();
        for (var i = 0; i < 3; i++)
        {
            inputs.Add(new TrainingInput(Machine(100 + i, 28 + i, 8), "bench", new string('0', 64)));
        }

        var trained = ModelTrainer.TrainAsync(inputs, new ModelTrainingOptions { ModelId = "bench", Version = 1 }, TimeProvider.System).GetAwaiter().GetResult();
        var directory = Path.Combine(Path.GetTempPath(), "fe-bench-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var path = Path.Combine(directory, "bench.onnx");
        trained.Save(path);
        var names = FeatureSchema.Names(FeatureExtractorOptions.DefaultBands);
        var descriptors = Enumerable.Range(0, Channels).Select(i => new ChannelDescriptor
        {
            Id = new ChannelId("plant", "line", "m" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "accel", "x"),
            SampleRateHz = 25600,
            NominalShaftHz = 30,
            Bearing = BearingCatalog.Get("SKF 6205-2RS JEM"),
        }).ToArray();
        var onnx = new OnnxAnomalyScorer([new ModelAssignment("*", "bench")], 4096);
        onnx.Stage(ModelLoader.Load(path, ModelLoadPolicy.Evaluation));
        onnx.Initialize(descriptors, names);
        var baseline = new StatisticalBaselineScorer(new BaselineOptions { WarmupWindows = 4 });
        baseline.Initialize(descriptors, names);
        var test = Machine(500, 29.5, 6);
        var results = FeatureReplay.RunAsync(test, FeatureReplay.Describe(test), 4096, 0.5).GetAwaiter().GetResult();
        var envRms = FeatureSchema.IndexOf("env_rms", FeatureExtractorOptions.DefaultBands.Count);
        var rows = results.Where(r => r.Features[envRms] > 0).Select(r => r.Features).ToList();

        // Warm the baseline (four windows per channel) so that both score in steady state.
        for (var pass = 0; pass < 4; pass++)
        {
            var warm = new ScoringBatch(Channels, names.Length);
            for (var c = 0; c < Channels; c++)
            {
                warm.Add(c, rows[(c + pass) % rows.Count]);
            }

            baseline.Score(warm);
        }
        return new ScoringSetup(trained, directory, onnx, baseline, rows);
    }

    /// <summary>
    /// What ML.NET's PredictionEngine needs per window, done without allocating: the same pre-step
    /// (log10 of amplitudes) into a preallocated input row, then Predict(in, ref out).
    /// </summary>
    public void PredictWithMlNet(ScoringBatch batch, ModelTrainer.VectorRow input, ref ModelTrainer.ClusterPrediction prediction, int[] inputIndex)
    {
        var inputs = Trained.Manifest.Inputs;
        for (var row = 0; row < batch.Count; row++)
        {
            var features = batch.Features(row);
            for (var j = 0; j < inputIndex.Length; j++)
            {
                input.Features[j] = FeatureTransforms.PreStep(features[inputIndex[j]], inputs[j]);
            }

            Engine.Predict(input, ref prediction);
            batch.Scores[row] = FeatureTransforms.NearestCentroidDistance(prediction.Distances);
        }
    }

    public int[] InputIndex() => [.. Trained.Manifest.Inputs.Select(i => Trained.Manifest.FeatureSchema.ToList().IndexOf(i.Name))];

    /// <summary>A batch of <paramref name="size"/> rows on channels 0…size−1.</summary>
    public ScoringBatch Batch(int size)
    {
        var batch = new ScoringBatch(Math.Max(size, 1), Rows[0].Length);
        for (var i = 0; i < size; i++)
        {
            batch.Add(i, Rows[i % Rows.Count]);
        }

        return batch;
    }

    public void Dispose()
    {
        Onnx.Dispose();
        Engine.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Recording Machine(int seed, double shaftHz, double seconds)
    {
        var options = new MachineSignalOptions { SampleRateHz = 25600, ShaftHz = shaftHz, Seed = seed };
        var samples = new float[(int)(seconds * options.SampleRateHz)];
        new MachineSignalGenerator(options).Generate(samples);
        return new Recording($"m{seed}.csv", options.SampleRateHz, [new RecordingChannel("accel", "x", SignalUnit.G, samples)]) { Bearing = options.Bearing, NominalShaftHz = 30 };
    }
}
