namespace FactoryEdge.Signal;

/// <summary>A fixed-length history of the newest samples of a stream.</summary>
internal sealed class SampleRing
{
    private readonly float[] _data;
    private int _write;

    public SampleRing(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        _data = new float[length];
    }

    public int Length => _data.Length;

    /// <summary>Samples appended since the last reset (may exceed <see cref="Length"/>).</summary>
    public long Total { get; private set; }

    public bool IsFull => Total >= _data.Length;

    public void Reset()
    {
        _write = 0;
        Total = 0;
        Array.Clear(_data);
    }

    public void Append(ReadOnlySpan<float> samples)
    {
        if (samples.Length >= _data.Length)
        {
            samples[^_data.Length..].CopyTo(_data);
            _write = 0;
        }
        else
        {
            var first = Math.Min(samples.Length, _data.Length - _write);
            samples[..first].CopyTo(_data.AsSpan(_write));
            samples[first..].CopyTo(_data);
            _write = (_write + samples.Length) % _data.Length;
        }

        Total += samples.Length;
    }

    /// <summary>Sample i of the history, 0 = oldest (valid once full).</summary>
    public float this[int i]
    {
        get
        {
            var j = _write + i;
            return _data[j >= _data.Length ? j - _data.Length : j];
        }
    }

    /// <summary>Mean of the whole history.</summary>
    public double Mean()
    {
        var sum = 0.0;
        foreach (var v in _data)
        {
            sum += v;
        }

        return sum / _data.Length;
    }
}
