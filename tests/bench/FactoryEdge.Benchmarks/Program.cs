using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/bench/FactoryEdge.Benchmarks -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(FactoryEdge.Benchmarks.FftBenchmarks).Assembly).Run(args);
