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
}

/// <summary>Unit parsing and the explicit conversions between acceleration units.</summary>
public static class SignalUnits
{
    /// <summary>Standard gravity in m/s².</summary>
    public const double StandardGravity = 9.80665;

    /// <summary>Names accepted by <see cref="Parse"/>.</summary>
    public const string AllowedNames = "g, m/s2 (m/s², mps2), mm/s (mm_s), um (µm, micrometer)";

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
        _ => unit.ToString(),
    };

    public static bool IsAcceleration(this SignalUnit unit) => unit is SignalUnit.G or SignalUnit.MetersPerSecondSquared;

    /// <summary>Factor that turns a value in <paramref name="unit"/> into m/s². Throws for non-acceleration units.</summary>
    public static double ToMetersPerSecondSquaredFactor(this SignalUnit unit) => unit switch
    {
        SignalUnit.G => StandardGravity,
        SignalUnit.MetersPerSecondSquared => 1.0,
        _ => throw new InvalidOperationException($"Unit {unit.Symbol()} is not an acceleration; no conversion to m/s² exists."),
    };
}
