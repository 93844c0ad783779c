using FactoryEdge.Simulation;

namespace FactoryEdge.Simulator.Machines;

/// <summary>What a block source says about the block it just produced.</summary>
internal readonly record struct BlockInfo(double SignalSeconds, double Severity);

/// <summary>
/// Produces a machine's waveform blocks, one per acquisition period. Block k (k = 1, 2, …) holds
/// the samples [(k−1)·stride, (k−1)·stride + N) of the source's signal, stride = period × rate
/// (stride = N when the blocks are back to back).
/// </summary>
internal interface IBlockSource
{
    double SampleRateHz { get; }

    int BlockSize { get; }

    int StrideSamples { get; }

    bool IsRecording { get; }

    /// <summary>True once a non-looping recording has no further block.</summary>
    bool Ended { get; }

    /// <summary>Fills <paramref name="block"/> (length <see cref="BlockSize"/>) with the next block; false when the source has ended.</summary>
    bool TryNext(Span<float> block, out BlockInfo info);
}

/// <summary>Blocks from the physics generator: continuous signal, samples between snapshots generated and discarded.</summary>
internal sealed class GeneratorBlockSource : IBlockSource
{
    private readonly MachineSignalGenerator _generator;
    private readonly float[] _discard;
    private readonly int _faultCount;
    private long _blocks;

    public GeneratorBlockSource(MachineSignalOptions options, int blockSize, int strideSamples)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strideSamples, blockSize);
        _generator = new MachineSignalGenerator(options);
        _faultCount = options.Faults.Count;
        BlockSize = blockSize;
        StrideSamples = strideSamples;
        _discard = strideSamples > blockSize ? new float[Math.Min(strideSamples - blockSize, 8192)] : [];
    }

    public double SampleRateHz => _generator.Options.SampleRateHz;

    public int BlockSize { get; }

    public int StrideSamples { get; }

    public bool IsRecording => false;

    public bool Ended => false;

    public bool TryNext(Span<float> block, out BlockInfo info)
    {
        if (_blocks > 0)
        {
            // Snapshot mode: the signal runs on between blocks; generate the gap and drop it.
            var skip = StrideSamples - BlockSize;
            while (skip > 0)
            {
                var n = Math.Min(skip, _discard.Length);
                _generator.Generate(_discard.AsSpan(0, n));
                skip -= n;
            }
        }

        _generator.Generate(block[..BlockSize]);
        _blocks++;
        var seconds = _generator.TimeSeconds;
        var severity = 0.0;
        for (var i = 0; i < _faultCount; i++)
        {
            severity += _generator.SeverityAt(i, seconds);
        }

        info = new BlockInfo(seconds, severity);
        return true;
    }
}

/// <summary>
/// Blocks from one channel of a recording. A pass holds P = ⌊(L − N) / stride⌋ + 1 blocks (a block
/// never spans the end of the recording); with looping the next pass starts again at sample 0.
/// </summary>
internal sealed class RecordingBlockSource : IBlockSource
{
    private readonly ReadOnlyMemory<float> _samples;
    private readonly bool _loop;
    private long _blocks;

    public RecordingBlockSource(ReadOnlyMemory<float> samples, double sampleRateHz, int blockSize, int strideSamples, bool loop)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strideSamples, blockSize);
        if (samples.Length < blockSize)
        {
            throw new ArgumentException("The recording is shorter than one block.", nameof(samples));
        }

        _samples = samples;
        SampleRateHz = sampleRateHz;
        BlockSize = blockSize;
        StrideSamples = strideSamples;
        _loop = loop;
        BlocksPerPass = ((samples.Length - blockSize) / strideSamples) + 1;
    }

    public double SampleRateHz { get; }

    public int BlockSize { get; }

    public int StrideSamples { get; }

    public bool IsRecording => true;

    public bool Ended { get; private set; }

    public int BlocksPerPass { get; }

    /// <summary>First sample (in the recording) of block <paramref name="blockNumber"/> (1-based), looping.</summary>
    public static long StartOf(long blockNumber, int blocksPerPass, int strideSamples) => (blockNumber - 1) % blocksPerPass * strideSamples;

    public bool TryNext(Span<float> block, out BlockInfo info)
    {
        if (Ended || (!_loop && _blocks >= BlocksPerPass))
        {
            Ended = true;
            info = default;
            return false;
        }

        _blocks++;
        var start = (int)StartOf(_blocks, BlocksPerPass, StrideSamples);
        _samples.Span.Slice(start, BlockSize).CopyTo(block);

        // Signal time runs on across loops.
        info = new BlockInfo((((_blocks - 1) * (double)StrideSamples) + BlockSize) / SampleRateHz, 0);
        return true;
    }
}
