namespace FactoryEdge.Core;

/// <summary>
/// Rolling-element bearing geometry. Diameters share one unit (any unit: only their ratio matters).
/// </summary>
/// <param name="Name">Catalogue name, e.g. SKF 6205-2RS JEM.</param>
/// <param name="BallCount">Number of rolling elements.</param>
/// <param name="BallDiameter">Rolling element diameter.</param>
/// <param name="PitchDiameter">Pitch (cage) diameter.</param>
/// <param name="ContactAngleDegrees">Contact angle in degrees (0 for deep-groove ball bearings under radial load).</param>
public sealed record BearingGeometry(string Name, int BallCount, double BallDiameter, double PitchDiameter, double ContactAngleDegrees)
{
    /// <summary>Checks the geometry and returns the first problem, or null.</summary>
    public string? Validate()
    {
        if (BallCount < 3)
        {
            return $"bearing '{Name}': BallCount must be at least 3 (was {BallCount})";
        }

        if (!(BallDiameter > 0) || !(PitchDiameter > 0) || BallDiameter >= PitchDiameter)
        {
            return $"bearing '{Name}': need 0 < BallDiameter < PitchDiameter (was {BallDiameter} and {PitchDiameter})";
        }

        if (!(ContactAngleDegrees >= 0 && ContactAngleDegrees < 90))
        {
            return $"bearing '{Name}': ContactAngleDegrees must be in [0, 90) (was {ContactAngleDegrees})";
        }

        return null;
    }
}

/// <summary>Bearing defect frequencies as multiples of shaft speed (orders).</summary>
/// <param name="Bpfo">Ball pass frequency, outer race.</param>
/// <param name="Bpfi">Ball pass frequency, inner race.</param>
/// <param name="Bsf">Ball spin frequency (once per ball revolution; CWRU tables list twice this).</param>
/// <param name="Ftf">Fundamental train (cage) frequency.</param>
public readonly record struct BearingOrders(double Bpfo, double Bpfi, double Bsf, double Ftf)
{
    /// <summary>Computes the orders from geometry (stationary outer race, rotating inner race).</summary>
    public static BearingOrders FromGeometry(BearingGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var ratio = geometry.BallDiameter / geometry.PitchDiameter * Math.Cos(geometry.ContactAngleDegrees * Math.PI / 180.0);
        var n = geometry.BallCount;
        return new BearingOrders(
            Bpfo: n / 2.0 * (1 - ratio),
            Bpfi: n / 2.0 * (1 + ratio),
            Bsf: geometry.PitchDiameter / (2.0 * geometry.BallDiameter) * (1 - (ratio * ratio)),
            Ftf: 0.5 * (1 - ratio));
    }
}

/// <summary>ISO 20816-3 machine group.</summary>
public enum IsoMachineGroup
{
    /// <summary>Group 1: large machines, 300 kW – 50 MW.</summary>
    Group1 = 1,
    /// <summary>Group 2: medium machines, 15 kW – 300 kW.</summary>
    Group2 = 2,
}

/// <summary>ISO 20816-3 support flexibility.</summary>
public enum IsoSupport
{
    Rigid,
    Flexible,
}

/// <summary>ISO 20816-3 evaluation zone of broadband velocity RMS.</summary>
public enum IsoZone
{
    /// <summary>Not evaluated (no velocity available).</summary>
    None = 0,
    /// <summary>Newly commissioned machines.</summary>
    A = 1,
    /// <summary>Acceptable for unrestricted long-term operation.</summary>
    B = 2,
    /// <summary>Unsatisfactory for long-term continuous operation.</summary>
    C = 3,
    /// <summary>Severe enough to cause damage.</summary>
    D = 4,
}
