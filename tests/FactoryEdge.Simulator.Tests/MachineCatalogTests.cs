using System.Globalization;
using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Machines;

namespace FactoryEdge.Simulator.Tests;

public sealed class MachineCatalogTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fe-sim-catalog");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void Resolve_NothingGiven_DefaultSetOfThreeGeneratedMachines()
    {
        var machines = MachineCatalog.Resolve(new MachineSpec(), []);

        Assert.Equal(["healthy", "outer-race", "imbalance"], machines.Select(m => m.Name));
        Assert.All(machines, m => Assert.NotNull(m.Generator));
        Assert.Empty(machines[0].Generator!.Faults);
        Assert.Equal(new MachineFault(FaultType.OuterRace, 1, 20, 60), machines[1].Generator!.Faults.Single());
        Assert.Equal([1, 2, 3], machines.Select(m => m.Generator!.Seed));
        Assert.All(machines, m => Assert.Equal(2048, m.BlockSize));
        Assert.All(machines, m => Assert.Equal(2048, m.StrideSamples));
    }

    [Fact]
    public void Resolve_SourceOptionOnCommandLine_OneMachineNamedMachine()
    {
        var machines = MachineCatalog.Resolve(MachineSpecParser.Parse("rpm=1500,seed=4,rate=51200"), []);

        var machine = Assert.Single(machines);
        Assert.Equal("machine", machine.Name);
        Assert.Equal(1500, machine.Rpm);
        Assert.Equal(25, machine.Generator!.ShaftHz);
        Assert.Equal(51200, machine.SampleRateHz);
        Assert.Equal(4, machine.Generator.Seed);
    }

    [Fact]
    public void Resolve_SpecsInheritCommandLine_SeedsCountUpUnlessGiven()
    {
        var commandLine = MachineSpecParser.Parse("rpm=1200,seed=10,block=512");

        var machines = MachineCatalog.Resolve(commandLine, [MachineSpecParser.Parse("a"), MachineSpecParser.Parse("name=b,rpm=900"), MachineSpecParser.Parse("name=c,seed=3")]);

        Assert.Equal([1200.0, 900.0, 1200.0], machines.Select(m => m.Rpm));
        Assert.Equal([10, 11, 3], machines.Select(m => m.Generator!.Seed));
        Assert.All(machines, m => Assert.Equal(512, m.BlockSize));
        Assert.Equal([0, 1, 2], machines.Select(m => m.Index));
    }

    [Fact]
    public void Resolve_Period_StrideIsPeriodTimesRate()
    {
        var machine = Assert.Single(MachineCatalog.Resolve(MachineSpecParser.Parse("rpm=1800,block=1024,period=0.25"), []));

        Assert.Equal(6400, machine.StrideSamples);
        Assert.Equal(0.25, machine.PeriodSeconds, 12);
    }

    [Fact]
    public void Resolve_Recording_LoadsChannelRateAndRpmFromHeader()
    {
        var path = WriteCsv("r.csv", "# sampling_rate_hz=2000 rpm_measured=1750", 500);

        var machine = Assert.Single(MachineCatalog.Resolve(MachineSpecParser.Parse($"recording={path},loop=true,block=100"), []));

        Assert.Null(machine.Generator);
        Assert.Equal(2000, machine.SampleRateHz);
        Assert.Equal(1750, machine.Rpm, 9);
        Assert.True(machine.Loop);
        Assert.Equal(500, machine.RecordingSamples.Length);
    }

    [Fact]
    public void Resolve_RecordingWithInheritedGeneratorOption_Ignored()
    {
        var path = WriteCsv("r.csv", "# sampling_rate_hz=2000", 500);

        var machines = MachineCatalog.Resolve(MachineSpecParser.Parse("fault=ball,block=100"), [MachineSpecParser.Parse("gen"), MachineSpecParser.Parse($"name=rec,recording={path}")]);

        Assert.Equal(FaultType.Ball, machines[0].Generator!.Faults.Single().Type);
        Assert.Null(machines[1].Generator);
    }

    [Theory]
    [InlineData("name=a,recording=R,fault=ball", "machine 'a': fault applies to a generated machine")]
    [InlineData("name=a,channel=1", "machine 'a': channel applies to a recording")]
    [InlineData("name=a,recording=R,channel=3,block=10", "machine 'a': channel 3 does not exist")]
    [InlineData("name=a,recording=R,block=900", "machine 'a': block 900 is longer than the recording")]
    [InlineData("name=a,rpm=20000,rate=1000", "machine 'a': rpm 20000 is too fast for rate 1000 Hz")]
    [InlineData("name=a b", "'a b' is not a valid machine name")]
    [InlineData("name=a,onset=-1", "machine 'a': onset must be zero or positive")]
    [InlineData("name=a,ramp=-2", "machine 'a': ramp must be zero or positive")]
    [InlineData("name=a,period=5000", "machine 'a': period must be at least")]
    [InlineData("name=a,recording=R,scale=0,block=10", "machine 'a': scale must be a non-zero number")]
    public void Resolve_BadMachine_ThrowsNamingMachineAndKey(string spec, string expected)
    {
        var path = WriteCsv("r.csv", "# sampling_rate_hz=2000", 500);

        var ex = Assert.Throws<SimulatorUsageException>(() => MachineCatalog.Resolve(new MachineSpec(), [MachineSpecParser.Parse(spec.Replace("R", path, StringComparison.Ordinal))]));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void Resolve_InheritedBadValue_NamesOptionAndMachine()
    {
        var ex = Assert.Throws<SimulatorUsageException>(() => MachineCatalog.Resolve(MachineSpecParser.Parse("severity=12"), [MachineSpecParser.Parse("m1")]));

        Assert.StartsWith("--severity (machine 'm1') must be in [0, 10]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SameRecordingTwice_LoadedOnceSharedSamples()
    {
        var path = WriteCsv("r.csv", "# sampling_rate_hz=2000", 500);

        var machines = MachineCatalog.Resolve(new MachineSpec { BlockSize = 100 }, [MachineSpecParser.Parse($"name=a,recording={path}"), MachineSpecParser.Parse($"name=b,recording={path},loop")]);

        Assert.True(machines[0].RecordingSamples.Equals(machines[1].RecordingSamples));
    }

    private string WriteCsv(string name, string header, int count)
    {
        var path = Path.Combine(_temp.FullName, name);
        File.WriteAllLines(path, [header, .. Enumerable.Range(0, count).Select(i => (i * 0.01).ToString(CultureInfo.InvariantCulture))]);
        return path;
    }
}
