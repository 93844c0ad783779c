using BenchmarkDotNet.Attributes;
using FactoryEdge.Core;
using FactoryEdge.Training;

namespace FactoryEdge.Scoring.Bench;

/// <summary>
/// One scoring tick of <see cref="BatchSize"/> windows: the ONNX scorer (pre-step, one IoBinding run,
/// post-step), the statistical baseline, and ML.NET's PredictionEngine on the same model with the
/// same pre- and post-step, one <c>Predict(in, ref out)</c> per window (it has no batched predict).
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private ScoringSetup _setup = null!;
    private ScoringBatch _batch = null!;
    private ModelTrainer.VectorRow _input = new();
    private ModelTrainer.ClusterPrediction _prediction = new();
    private int[] _inputIndex = [];

    [Params(1, 64, 100)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _setup = ScoringSetup.Create();
        _batch = _setup.Batch(BatchSize);
        _inputIndex = _setup.InputIndex();
        _input = new ModelTrainer.VectorRow { Features = new float[_inputIndex.Length] };
        _prediction = new ModelTrainer.ClusterPrediction();
        _setup.PredictWithMlNet(_batch, _input, ref _prediction, _inputIndex);
    }

    [GlobalCleanup]
    public void Cleanup() => _setup.Dispose();

    [Benchmark(Baseline = true)]
    public float StatisticalBaseline()
    {
        _setup.Baseline.Score(_batch);
        return _batch.Scores[0];
    }

    [Benchmark]
    public float OnnxRuntimeIoBinding()
    {
        _setup.Onnx.Score(_batch);
        return _batch.Scores[0];
    }

    [Benchmark]
    public float MlNetPredictionEngine()
    {
        _setup.PredictWithMlNet(_batch, _input, ref _prediction, _inputIndex);
        return _batch.Scores[0];
    }
}
