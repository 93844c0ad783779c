using FactoryEdge.Core;

namespace FactoryEdge.Signal.Tests;

public sealed class IsoZonesTests
{
    [Theory]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Rigid, 2.3, 4.5, 7.1)]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Flexible, 3.5, 7.1, 11.0)]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Rigid, 1.4, 2.8, 4.5)]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Flexible, 2.3, 4.5, 7.1)]
    public void Boundaries_EachGroupAndSupport_MatchIso20816Part3(IsoMachineGroup group, IsoSupport support, double ab, double bc, double cd)
    {
        var b = IsoZones.Boundaries(group, support);

        Assert.Equal(new IsoZoneBoundaries(ab, bc, cd), b);
    }

    [Theory]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Rigid)]
    [InlineData(IsoMachineGroup.Group1, IsoSupport.Flexible)]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Rigid)]
    [InlineData(IsoMachineGroup.Group2, IsoSupport.Flexible)]
    public void Classify_AroundEachBoundary_BoundaryBelongsToHigherZone(IsoMachineGroup group, IsoSupport support)
    {
        var b = IsoZones.Boundaries(group, support);

        Assert.Equal(IsoZone.A, IsoZones.Classify(0, group, support));
        Assert.Equal(IsoZone.A, IsoZones.Classify(b.AToB - 0.001, group, support));
        Assert.Equal(IsoZone.B, IsoZones.Classify(b.AToB, group, support));
        Assert.Equal(IsoZone.B, IsoZones.Classify(b.BToC - 0.001, group, support));
        Assert.Equal(IsoZone.C, IsoZones.Classify(b.BToC, group, support));
        Assert.Equal(IsoZone.C, IsoZones.Classify(b.CToD - 0.001, group, support));
        Assert.Equal(IsoZone.D, IsoZones.Classify(b.CToD, group, support));
        Assert.Equal(IsoZone.D, IsoZones.Classify(100, group, support));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-1.0)]
    public void Classify_NotAVelocity_IsNone(double value)
    {
        Assert.Equal(IsoZone.None, IsoZones.Classify(value, IsoMachineGroup.Group2, IsoSupport.Rigid));
    }
}
