using System.Numerics;
using Xunit.Abstractions;

namespace FactoryEdge.Signal.Tests;

public sealed class AllocationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(48_000, 4096, 2048, 0.25)]
    [InlineData(48_000, 16384, 4096, 0.0)]
    [InlineData(12_800, 4096, 4096, 0.25)] // no overlap: own envelope frame
    public void Extract_SteadyState_AllocatesNoMoreThanMathNetItself(double fs, int windowSize, int hop, double updateSeconds)
    {
        var calls = new Dictionary<(int Length, bool Inverse), int>();
        var options = new FeatureExtractorOptions
        {
            SampleRateHz = fs,
            WindowSize = windowSize,
            Hop = hop,
            NominalShaftHz = 29.93,
            Bearing = BearingCatalog.Get("6205"),
            LongSpectrumUpdateSeconds = updateSeconds,
        };
        var extractor = new FeatureExtractor(options, n => new CountingEngine(new MathNetFftEngine(n), calls));
        var signal = Signals.Machine((int)(fs * 8), fs, 29.93, seed: 1);
        var features = new float[extractor.FeatureCount];
        var windowCount = ((signal.Length - windowSize) / hop) + 1;

        // Warm-up: histories full, every code path jitted and tiered up.
        for (var round = 0; round < 3; round++)
        {
            extractor.Reset();
            for (var w = 0; w < windowCount; w++)
            {
                extractor.Extract(signal.AsSpan(w * hop, windowSize), features);
            }
        }

        // Measured rounds: the steady-state half of the signal. The runtime itself now and then
        // allocates a few kB on the thread (tiering); a per-window allocation of ours would show in
        // every round, so the least excess over MathNet's share is what counts.
        var bestExcess = long.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            extractor.Reset();
            for (var w = 0; w < windowCount / 2; w++)
            {
                extractor.Extract(signal.AsSpan(w * hop, windowSize), features);
            }

            Assert.True(extractor.IsWarmedUp);
            calls.Clear();
            var measured = 0;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var w = windowCount / 2; w < windowCount; w++)
            {
                extractor.Extract(signal.AsSpan(w * hop, windowSize), features);
                measured++;
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long mathNetBytes = 0;
            var fftCalls = 0;
            foreach (var ((length, inverse), count) in calls)
            {
                mathNetBytes += count * MathNetBytesPerCall(length, inverse);
                fftCalls += count;
            }

            Assert.True(fftCalls >= measured, "at least one FFT per window");
            Assert.All(features, f => Assert.True(float.IsFinite(f)));
            output.WriteLine($"round {round}: {allocated} B over {measured} windows ({allocated / (double)measured:0} B/window); MathNet alone for the same {fftCalls} FFTs: {mathNetBytes} B");
            bestExcess = Math.Min(bestExcess, allocated - mathNetBytes);
        }

        foreach (var ((length, inverse), count) in calls)
        {
            output.WriteLine($"  {(inverse ? "inverse" : "forward")} {length}: {count} calls, MathNet {MathNetBytesPerCall(length, inverse)} B/call");
        }

        Assert.True(bestExcess <= 0, $"Extract allocates {bestExcess} B more than MathNet's FFTs over the measured windows");
    }

    /// <summary>Bytes one MathNet transform allocates (least of a few measurements).</summary>
    private static long MathNetBytesPerCall(int length, bool inverse)
    {
        var engine = new MathNetFftEngine(length);
        FftSeamTests.RandomComplex(length, 1).CopyTo(engine.Buffer);
        Run(engine, inverse);
        const int repeats = 16;
        var best = long.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < repeats; i++)
            {
                Run(engine, inverse);
            }

            best = Math.Min(best, (GC.GetAllocatedBytesForCurrentThread() - before) / repeats);
        }

        return best;

        static void Run(MathNetFftEngine engine, bool inverse)
        {
            if (inverse)
            {
                engine.Inverse();
            }
            else
            {
                engine.Forward();
            }
        }
    }

    private sealed class CountingEngine(IFftEngine inner, Dictionary<(int Length, bool Inverse), int> calls) : IFftEngine
    {
        public int Length => inner.Length;

        public Span<Complex> Buffer => inner.Buffer;

        public void Forward()
        {
            inner.Forward();
            Count(false);
        }

        public void Inverse()
        {
            inner.Inverse();
            Count(true);
        }

        private void Count(bool inverse)
        {
            var key = (inner.Length, inverse);
            calls[key] = calls.GetValueOrDefault(key) + 1;
        }
    }
}
