using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>Zone boundaries of ISO 20816-3 in mm/s RMS (broadband velocity, 10–1000 Hz).</summary>
/// <param name="AToB">Boundary between zones A and B.</param>
/// <param name="BToC">Boundary between zones B and C.</param>
/// <param name="CToD">Boundary between zones C and D.</param>
public readonly record struct IsoZoneBoundaries(double AToB, double BToC, double CToD);

/// <summary>
/// ISO 20816-3 evaluation zones (industrial machines above 15 kW, 120–30 000 rpm, measured on the
/// bearing housings). A value equal to a boundary belongs to the higher zone.
/// </summary>
public static class IsoZones
{
    /// <summary>Group 1 (300 kW – 50 MW), rigid support.</summary>
    public static readonly IsoZoneBoundaries Group1Rigid = new(2.3, 4.5, 7.1);

    /// <summary>Group 1 (300 kW – 50 MW), flexible support.</summary>
    public static readonly IsoZoneBoundaries Group1Flexible = new(3.5, 7.1, 11.0);

    /// <summary>Group 2 (15 kW – 300 kW), rigid support.</summary>
    public static readonly IsoZoneBoundaries Group2Rigid = new(1.4, 2.8, 4.5);

    /// <summary>Group 2 (15 kW – 300 kW), flexible support.</summary>
    public static readonly IsoZoneBoundaries Group2Flexible = new(2.3, 4.5, 7.1);

    public static IsoZoneBoundaries Boundaries(IsoMachineGroup group, IsoSupport support) => (group, support) switch
    {
        (IsoMachineGroup.Group1, IsoSupport.Rigid) => Group1Rigid,
        (IsoMachineGroup.Group1, IsoSupport.Flexible) => Group1Flexible,
        (IsoMachineGroup.Group2, IsoSupport.Rigid) => Group2Rigid,
        (IsoMachineGroup.Group2, IsoSupport.Flexible) => Group2Flexible,
        _ => throw new ArgumentOutOfRangeException(nameof(group), $"No ISO 20816-3 boundaries for {group}/{support}."),
    };

    /// <summary>Zone of a velocity RMS in mm/s; <see cref="IsoZone.None"/> for NaN or negative values.</summary>
    public static IsoZone Classify(double velocityRmsMmPerSecond, IsoMachineGroup group, IsoSupport support)
    {
        if (!(velocityRmsMmPerSecond >= 0))
        {
            return IsoZone.None;
        }

        var b = Boundaries(group, support);
        if (velocityRmsMmPerSecond < b.AToB)
        {
            return IsoZone.A;
        }

        if (velocityRmsMmPerSecond < b.BToC)
        {
            return IsoZone.B;
        }

        return velocityRmsMmPerSecond < b.CToD ? IsoZone.C : IsoZone.D;
    }
}
