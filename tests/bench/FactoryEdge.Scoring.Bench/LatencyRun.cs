using System.Diagnostics;
using System.Globalization;
using FactoryEdge.Training;

namespace FactoryEdge.Scoring.Bench;

/// <summary>
/// <c>--latency</c>: per-call latency distribution (p50/p99/max) and throughput of the three
/// scorers at batch 1 and 64, in one run, with Stopwatch around every call (BenchmarkDotNet gives
/// means; this gives the tail).
/// </summary>
public static class LatencyRun
{
    public static void Run(TextWriter output, int calls = 20_000)
    {
        using var setup = ScoringSetup.Create();
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"{calls} calls per case after {calls / 10} warm-up calls; .NET {Environment.Version}, {Environment.ProcessorCount} cores"));
        var probe = Stopwatch.GetTimestamp();
        for (var i = 0; i < 100_000; i++)
        {
            _ = Stopwatch.GetTimestamp();
        }

        var timerNs = (Stopwatch.GetTimestamp() - probe) * 1e9 / Stopwatch.Frequency / 100_000;
        output.WriteLine(string.Create(inv, $"timer: {timerNs:0} ns per Stopwatch.GetTimestamp (two per measured call)"));
        output.WriteLine("| scorer | batch | p50 µs | p99 µs | max µs | windows/s | B/call |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var size in new[] { 1, 64 })
        {
            var batch = setup.Batch(size);
            var mlBatch = setup.Batch(size);
            var inputIndex = setup.InputIndex();
            var input = new ModelTrainer.VectorRow { Features = new float[inputIndex.Length] };
            var prediction = new ModelTrainer.ClusterPrediction();
            Measure("ML.NET PredictionEngine", size, () => setup.PredictWithMlNet(mlBatch, input, ref prediction, inputIndex));
            Measure("statistical baseline", size, () => setup.Baseline.Score(batch));
            Measure("ONNX Runtime, IoBinding", size, () => setup.Onnx.Score(batch));
        }

        void Measure(string name, int size, Action call)
        {
            for (var i = 0; i < calls / 10; i++)
            {
                call();
            }

            var ticks = new long[calls];
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var total = Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                call();
                ticks[i] = Stopwatch.GetTimestamp() - start;
            }

            total.Stop();
            var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)calls;
            Array.Sort(ticks);
            double Us(long t) => t * 1e6 / Stopwatch.Frequency;
            output.WriteLine(string.Create(inv, $"| {name} | {size} | {Us(ticks[calls / 2]):0.0} | {Us(ticks[(int)(calls * 0.99)]):0.0} | {Us(ticks[^1]):0} | {size * calls / total.Elapsed.TotalSeconds:0} | {bytes:0} |"));
        }
    }
}
