using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>
/// Finds sensor faults in a window: flat line, clipping/saturation, ski-slope, NaN/Inf, implausible
/// levels. Allocation-free; the thresholds are documented in docs/signal.md.
/// </summary>
public sealed class ChannelHealthChecker
{
    /// <summary>Share of the AC variance a straight line must explain to call the window a ski-slope.</summary>
    internal const double SkiSlopeTrendShare = 0.7;

    /// <summary>Samples within this fraction of the full scale count as pinned at the range.</summary>
    internal const double FullScaleMargin = 1e-3;

    /// <summary>Fewest samples at the full scale that mean clipping.</summary>
    internal const int MinSamplesAtFullScale = 2;

    /// <summary>Fewest plateau samples at an extreme that mean clipping when the full scale is unknown.</summary>
    internal const int MinPlateauSamples = 4;

    /// <summary>The pinned-extreme test needs at least this many quantisation steps between min and max.</summary>
    internal const double MinLevelsForPlateauTest = 64;

    /// <summary>Fewest identical consecutive samples (away from the extremes) that mean a stuck signal.</summary>
    internal const int MinStuckRun = 64;

    private readonly double _flatStd;
    private readonly double _implausibleLevel;
    private readonly double _lowestMachineHz;

    public ChannelHealthChecker(ChannelDescriptor channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (!(channel.SampleRateHz > 0))
        {
            throw new ArgumentException($"Channel {channel.Id}: SampleRateHz must be positive (was {channel.SampleRateHz}).", nameof(channel));
        }

        Channel = channel;
        _flatStd = FlatStandardDeviation(channel.Unit);
        if (channel.FullScale > 0)
        {
            _flatStd = Math.Max(_flatStd, 1e-6 * channel.FullScale);
        }

        _implausibleLevel = ImplausibleLevel(channel.Unit);
        _lowestMachineHz = channel.NominalShaftHz > 0 ? 0.4 * channel.NominalShaftHz : 10.0;
    }

    public ChannelDescriptor Channel { get; }

    /// <summary>Standard deviation below which a window counts as flat, in the channel's unit.</summary>
    public static double FlatStandardDeviation(SignalUnit unit) => unit switch
    {
        SignalUnit.G => 1e-5,
        SignalUnit.MetersPerSecondSquared => 1e-4,
        SignalUnit.MillimetersPerSecond => 1e-4,
        SignalUnit.Micrometers => 1e-3,
        _ => 1e-5,
    };

    /// <summary>Level (|x|) no sensor of this kind delivers on a machine, in the channel's unit.</summary>
    public static double ImplausibleLevel(SignalUnit unit) => unit switch
    {
        SignalUnit.G => 500.0,
        SignalUnit.MetersPerSecondSquared => 500.0 * SignalUnits.StandardGravity,
        SignalUnit.MillimetersPerSecond => 2000.0,
        SignalUnit.Micrometers => 10_000.0,
        _ => 500.0,
    };

    /// <summary>Checks a window (raw samples in the channel's unit).</summary>
    public ChannelHealthFlags Check(ReadOnlySpan<float> window)
    {
        var flags = ChannelHealthFlags.None;

        // Pass 1: finiteness, range, mean.
        var finite = 0;
        var sum = 0.0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        foreach (var v in window)
        {
            if (!float.IsFinite(v))
            {
                flags |= ChannelHealthFlags.NonFinite;
                continue;
            }

            finite++;
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        if (finite < 2 || max == min)
        {
            return flags | ChannelHealthFlags.FlatLine;
        }

        var mean = sum / finite;
        var peak = Math.Max(Math.Abs(max), Math.Abs(min));
        var fullScale = Channel.FullScale;
        if (peak > _implausibleLevel || (fullScale > 0 && peak > fullScale * (1 + FullScaleMargin)))
        {
            flags |= ChannelHealthFlags.Implausible;
        }

        // Pass 2: variance, trend, runs, plateaus at the extremes, quantisation step.
        var epsilon = 2e-7 * peak;
        var tMean = (window.Length - 1) / 2.0;
        double variance = 0, covariance = 0, tVariance = 0;
        var atFullScale = 0;
        var plateauHigh = 0;
        var plateauLow = 0;
        var longestRun = 0;
        var run = 0;
        var step = double.PositiveInfinity;
        var previous = double.NaN;
        for (var i = 0; i < window.Length; i++)
        {
            double v = window[i];
            if (!double.IsFinite(v))
            {
                run = 0;
                previous = double.NaN;
                continue;
            }

            var d = v - mean;
            var t = i - tMean;
            variance += d * d;
            covariance += d * t;
            tVariance += t * t;
            if (fullScale > 0 && Math.Abs(v) >= fullScale * (1 - FullScaleMargin))
            {
                atFullScale++;
            }

            var isHigh = max - v <= epsilon;
            var isLow = v - min <= epsilon;
            if (!double.IsNaN(previous))
            {
                var delta = Math.Abs(v - previous);
                if (delta > 0 && delta < step)
                {
                    step = delta;
                }

                if (isHigh && max - previous <= epsilon)
                {
                    plateauHigh++;
                }

                if (isLow && previous - min <= epsilon)
                {
                    plateauLow++;
                }

                run = v == previous ? run + 1 : 1;
            }
            else
            {
                run = 1;
            }

            if (!isHigh && !isLow && run > longestRun)
            {
                longestRun = run;
            }

            previous = v;
        }

        var std = Math.Sqrt(variance / finite);
        var stuckRun = Math.Max(MinStuckRun, window.Length / 16);
        if (std < _flatStd || longestRun >= stuckRun)
        {
            flags |= ChannelHealthFlags.FlatLine;
        }

        if (atFullScale >= MinSamplesAtFullScale)
        {
            flags |= ChannelHealthFlags.Clipping;
        }
        else
        {
            var levels = double.IsFinite(step) ? (max - min) / step : 0;
            var plateauNeeded = Math.Max(MinPlateauSamples, window.Length / 1024);
            if (levels >= MinLevelsForPlateauTest && Math.Max(plateauHigh, plateauLow) >= plateauNeeded)
            {
                flags |= ChannelHealthFlags.Clipping;
            }
        }

        // Ski-slope: a straight line explains most of the variance, over a window long enough that no
        // machine component (≥ 0.4× nominal speed, else ≥ 10 Hz) completes less than one cycle in it:
        // one cycle of a sine can explain at most 61 % of its variance with a line.
        var durationSeconds = window.Length / Channel.SampleRateHz;
        if (durationSeconds * _lowestMachineHz >= 1.0 && variance > 0 && tVariance > 0)
        {
            var trendShare = covariance * covariance / (variance * tVariance);
            if (trendShare >= SkiSlopeTrendShare)
            {
                flags |= ChannelHealthFlags.SkiSlope;
            }
        }

        return flags;
    }
}
