namespace FactoryEdge.Core;

/// <summary>Physical unit of a vibration channel. Conversions are always explicit.</summary>
public enum SignalUnit
{
    /// <summary>Acceleration in standard gravity (9.80665 m/s²).</summary>
    G,
    /// <summary>Acceleration in m/s².</summary>
    MetersPerSecondSquared,
    /// <summary>Velocity in mm/s.</summary>
    MillimetersPerSecond,
    /// <summary>Displacement in µm.</summary>
    Micrometers,
    /// <summary>Rotational speed in revolutions per minute (scalar speed channels).</summary>
    Rpm,
    /// <summary>Frequency or rotational speed in Hz (scalar speed channels).</summary>
    Hertz,
    /// <summary>Temperature in °C (scalar channels).</summary>
    DegreesCelsius,
    /// <summary>A number without unit (states, counters, ratios).</summary>
    Dimensionless,
}

/// <summary>Unit parsing and the explicit conversions between acceleration units.</summary>
public static class SignalUnits
{
    /// <summary>Standard gravity in m/s².</summary>
    public const double StandardGravity = 9.80665;

    /// <summary>Names accepted by <see cref="Parse"/>.</summary>
    public const string AllowedNames = "g, m/s2 (m/s², mps2), mm/s (mm_s), um (µm, micrometer), rpm, Hz, degC (°C), 1 (none)";

    public static bool TryParse(string? text, out SignalUnit unit)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "g":
                unit = SignalUnit.G;
                return true;
            case "m/s2" or "m/s²" or "mps2" or "m/s^2" or "ms2":
                unit = SignalUnit.MetersPerSecondSquared;
                return true;
            case "mm/s" or "mm_s" or "mmps":
                unit = SignalUnit.MillimetersPerSecond;
                return true;
            case "um" or "µm" or "μm" or "micrometer" or "micrometre" or "microns":
                unit = SignalUnit.Micrometers;
                return true;
            case "rpm" or "r/min" or "1/min":
                unit = SignalUnit.Rpm;
                return true;
            case "hz" or "1/s":
                unit = SignalUnit.Hertz;
                return true;
            case "degc" or "°c" or "c" or "celsius" or "deg c":
                unit = SignalUnit.DegreesCelsius;
                return true;
            case "1" or "none" or "-" or "dimensionless":
                unit = SignalUnit.Dimensionless;
                return true;
            default:
                unit = default;
                return false;
        }
    }

    public static SignalUnit Parse(string text) =>
        TryParse(text, out var unit)
            ? unit
            : throw new FormatException($"Unknown unit '{text}'. Allowed: {AllowedNames}.");

    public static string Symbol(this SignalUnit unit) => unit switch
    {
        SignalUnit.G => "g",
        SignalUnit.MetersPerSecondSquared => "m/s²",
        SignalUnit.MillimetersPerSecond => "mm/s",
        SignalUnit.Micrometers => "µm",
        SignalUnit.Rpm => "rpm",
        SignalUnit.Hertz => "Hz",
        SignalUnit.DegreesCelsius => "°C",
        SignalUnit.Dimensionless => "1",
        _ => unit.ToString(),
    };

    public static bool IsAcceleration(this SignalUnit unit) => unit is SignalUnit.G or SignalUnit.MetersPerSecondSquared;

    /// <summary>True for units a vibration waveform can have (acceleration, velocity, displacement).</summary>
    public static bool IsVibration(this SignalUnit unit) => unit is SignalUnit.G or SignalUnit.MetersPerSecondSquared or SignalUnit.MillimetersPerSecond or SignalUnit.Micrometers;

    /// <summary>True for speed units (a scalar channel in these can act as the machine's tachometer).</summary>
    public static bool IsSpeed(this SignalUnit unit) => unit is SignalUnit.Rpm or SignalUnit.Hertz;

    /// <summary>Converts a speed value to Hz (rpm / 60). Throws for non-speed units.</summary>
    public static double ToHertz(this SignalUnit unit, double value) => unit switch
    {
        SignalUnit.Hertz => value,
        SignalUnit.Rpm => value / 60.0,
        _ => throw new InvalidOperationException($"Unit {unit.Symbol()} is not a speed."),
    };

    /// <summary>Factor that turns a value in <paramref name="unit"/> into m/s². Throws for non-acceleration units.</summary>
    public static double ToMetersPerSecondSquaredFactor(this SignalUnit unit) => unit switch
    {
        SignalUnit.G => StandardGravity,
        SignalUnit.MetersPerSecondSquared => 1.0,
        _ => throw new InvalidOperationException($"Unit {unit.Symbol()} is not an acceleration; no conversion to m/s² exists."),
    };
}
