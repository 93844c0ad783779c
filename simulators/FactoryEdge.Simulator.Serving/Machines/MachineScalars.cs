namespace FactoryEdge.Simulator.Machines;

/// <summary>The scalar values a simulated machine exposes next to its waveform block.</summary>
internal readonly record struct MachineReadings(
    long Blocks,
    ushort Sequence,
    double Rms,
    double Peak,
    double TemperatureC,
    double Rpm,
    double Severity,
    bool Running,
    bool Ended);

/// <summary>
/// Simulated bearing-housing temperature: a first-order lag (time constant <see cref="TimeConstantSeconds"/>
/// of signal time) toward a target that rises with the fault, plus a slow ±0.3 °C wander (10 min
/// period). Target: 40 °C + 15 °C × fault severity for a generated machine; 40 °C + 10 °C per g of
/// block RMS for a recording (a recording carries no severity). The machine starts at 40 °C.
/// </summary>
internal sealed class TemperatureModel
{
    public const double BaseC = 40;
    public const double PerSeverityC = 15;
    public const double PerRmsC = 10;
    public const double MaxC = 150;
    public const double TimeConstantSeconds = 60;
    public const double WanderC = 0.3;
    public const double WanderPeriodSeconds = 600;

    private readonly double _phase;
    private double _lagged = BaseC;
    private double _lastSeconds;

    public TemperatureModel(int seed) => _phase = (seed & 0xFFFF) / 65536.0 * 2 * Math.PI;

    /// <summary>Advances to signal time <paramref name="seconds"/> and returns the temperature.</summary>
    public double Update(double seconds, double severity, double rms, bool isRecording)
    {
        var target = isRecording ? BaseC + (PerRmsC * (double.IsFinite(rms) ? rms : 0)) : BaseC + (PerSeverityC * severity);
        target = Math.Min(target, MaxC);
        var dt = Math.Max(0, seconds - _lastSeconds);
        _lastSeconds = seconds;
        _lagged += (target - _lagged) * (1 - Math.Exp(-dt / TimeConstantSeconds));
        return _lagged + (WanderC * Math.Sin((2 * Math.PI * seconds / WanderPeriodSeconds) + _phase));
    }
}

/// <summary>Block statistics.</summary>
internal static class BlockStatistics
{
    public static (double Rms, double Peak) Compute(ReadOnlySpan<float> block)
    {
        var sum = 0.0;
        var peak = 0.0;
        foreach (var v in block)
        {
            sum += (double)v * v;
            var a = Math.Abs((double)v);
            if (a > peak)
            {
                peak = a;
            }
        }

        return (block.Length == 0 ? 0 : Math.Sqrt(sum / block.Length), peak);
    }
}
