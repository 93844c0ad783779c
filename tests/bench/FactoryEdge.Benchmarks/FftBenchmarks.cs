using System.Numerics;
using BenchmarkDotNet.Attributes;
using FactoryEdge.Signal;
using MathNet.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace FactoryEdge.Benchmarks;

/// <summary>
/// The transforms of one analysis window of <see cref="WindowSize"/> real samples: MathNet called
/// directly (the reference), the default engine behind the seam (own radix-2, allocation-free), and the real-input FFT the extractor runs.
/// </summary>
[MemoryDiagnoser]
public class FftBenchmarks
{
    private Complex[] _direct = [];
    private Complex[] _source = [];
    private IFftEngine _engine = null!;
    private RealFft _realFft = null!;
    private float[] _signal = [];
    private Complex[] _spectrum = [];

    [Params(4096, 16384)]
    public int WindowSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Control.UseSingleThread();
        var random = new Random(1);
        _signal = new float[WindowSize];
        for (var i = 0; i < _signal.Length; i++)
        {
            _signal[i] = (float)((random.NextDouble() * 2) - 1);
        }

        // A real window of N samples is one complex transform of N/2 points.
        _source = new Complex[WindowSize / 2];
        for (var i = 0; i < _source.Length; i++)
        {
            _source[i] = new Complex(_signal[2 * i], _signal[(2 * i) + 1]);
        }

        _direct = new Complex[WindowSize / 2];
        _engine = FftEngines.Create(WindowSize / 2);
        _realFft = new RealFft(WindowSize, FftEngines.Default);
        _spectrum = new Complex[_realFft.SpectrumLength];
    }

    [Benchmark(Baseline = true, Description = "MathNet Fourier.Forward, N/2 complex (reference)")]
    public Complex MathNetDirect()
    {
        _source.CopyTo(_direct, 0);
        Fourier.Forward(_direct, FourierOptions.NoScaling);
        return _direct[1];
    }

    [Benchmark(Description = "IFftEngine (RadixTwoFftEngine, the default), N/2 complex")]
    public Complex Engine()
    {
        _source.CopyTo(_engine.Buffer);
        _engine.Forward();
        return _engine.Buffer[1];
    }

    [Benchmark(Description = "RealFft, N real → N/2+1 bins")]
    public Complex RealInput()
    {
        _realFft.Forward(_signal, 0.0, _spectrum);
        return _spectrum[1];
    }
}
