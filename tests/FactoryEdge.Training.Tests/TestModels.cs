using FactoryEdge.Core;
using FactoryEdge.Recordings;
using FactoryEdge.Scoring;
using FactoryEdge.Simulation;
using FactoryEdge.Training;

namespace FactoryEdge.Tests.Shared;

/// <summary>Generator recordings and small models trained on them (seconds, not minutes).</summary>
internal static class TestModels
{
    public const double SampleRateHz = 25600;
    public const double NominalShaftHz = 30;

    /// <summary>
    /// One accelerometer on a generator machine (SKF 6205) at <paramref name="shaftHz"/>, with every
    /// level scaled by <paramref name="load"/>; nominal speed 30 Hz in the header.
    /// </summary>
    public static Recording Machine(int seed, double shaftHz, double load, double seconds, FaultType fault = FaultType.None, double severity = 1, double sampleRateHz = SampleRateHz)
    {
        var options = new MachineSignalOptions
        {
            SampleRateHz = sampleRateHz,
            ShaftHz = shaftHz,
            Seed = seed,
            NoiseRmsG = 0.04 * load,
            OneXAmplitudeG = 0.03 * load,
            TwoXAmplitudeG = 0.012 * load,
            ResonanceNoiseRmsG = 0.03 * load,
            Faults = fault == FaultType.None ? [] : [new MachineFault(fault, severity)],
        };
        var samples = new float[(int)(seconds * sampleRateHz)];
        new MachineSignalGenerator(options).Generate(samples);
        return new Recording($"machine-{seed}.csv", sampleRateHz, [new RecordingChannel("accel", "x", SignalUnit.G, samples)])
        {
            Bearing = options.Bearing,
            NominalShaftHz = NominalShaftHz,
        };
    }

    /// <summary>Trains on <paramref name="count"/> normal generator recordings of <paramref name="seconds"/> s at speeds 27–33 Hz and loads 0.8–1.25.</summary>
    public static Task<TrainedModel> TrainGeneratorAsync(string modelId = "machine", long version = 1, int count = 4, double seconds = 10, int seed = 100, TimeProvider? time = null)
    {
        var random = new Random(seed);
        var inputs = new List<TrainingInput>();
        for (var i = 0; i < count; i++)
        {
            var recording = Machine(seed + i, 27 + (6 * random.NextDouble()), 0.8 + (0.45 * random.NextDouble()), seconds);
            inputs.Add(new TrainingInput(recording, recording.Name, new string('0', 64)));
        }

        return ModelTrainer.TrainAsync(inputs, new ModelTrainingOptions { ModelId = modelId, Version = version }, time ?? TimeProvider.System);
    }

    /// <summary>Writes the model under <paramref name="directory"/> as NAME.onnx with a manifest of the given version (same graph).</summary>
    public static string Write(TrainedModel model, string directory, string name, long? version = null, Func<ModelManifest, ModelManifest>? edit = null)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".onnx");
        var manifest = model.Manifest with { ModelFile = name + ".onnx", Version = version ?? model.Manifest.Version };
        manifest = edit?.Invoke(manifest) ?? manifest;
        File.WriteAllBytes(path, model.Onnx);
        File.WriteAllBytes(ModelFiles.ManifestPath(path), manifest.ToJsonBytes());
        return path;
    }
}

/// <summary>A temporary folder deleted at dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fe-models-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
