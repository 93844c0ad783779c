using BenchmarkDotNet.Running;
using FactoryEdge.Scoring.Bench;

// dotnet run -c Release --project tests/bench/FactoryEdge.Scoring.Bench -- --filter '*' --job short
// dotnet run -c Release --project tests/bench/FactoryEdge.Scoring.Bench -- --latency
if (args.Length > 0 && args[0] == "--latency")
{
    LatencyRun.Run(Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ScoringBenchmarks).Assembly).Run(args);
