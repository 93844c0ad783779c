using FactoryEdge.Simulation;
using FactoryEdge.Simulator.Machines;

namespace FactoryEdge.Simulator.Tests;

public sealed class MachineSpecTests
{
    [Fact]
    public void Parse_BareName_OnlyNameSet()
    {
        var spec = MachineSpecParser.Parse("pump7");

        Assert.Equal("pump7", spec.Name);
        Assert.Null(spec.Rpm);
        Assert.Equal(["name"], spec.OwnKeys);
    }

    [Fact]
    public void Parse_KeyValuePairs_EverySettingRead()
    {
        var spec = MachineSpecParser.Parse("name=m1, fault=outer-race,rpm=1780,severity=0.5,onset=20,ramp=60,seed=9,unit=4,block=1024,period=0.5,bearing=6203");

        Assert.Equal("m1", spec.Name);
        Assert.Equal(FaultType.OuterRace, spec.Fault);
        Assert.Equal(1780, spec.Rpm);
        Assert.Equal(0.5, spec.Severity);
        Assert.Equal(20, spec.OnsetSeconds);
        Assert.Equal(60, spec.RampSeconds);
        Assert.Equal(9, spec.Seed);
        Assert.Equal(4, spec.Unit);
        Assert.Equal(1024, spec.BlockSize);
        Assert.Equal(0.5, spec.PeriodSeconds);
        Assert.Equal("6203", spec.Bearing);
    }

    [Fact]
    public void Parse_BareLoopFlag_LoopTrue()
    {
        var spec = MachineSpecParser.Parse("name=r,recording=a.csv,loop,channel=1");

        Assert.True(spec.Loop);
        Assert.Equal("a.csv", spec.Recording);
        Assert.Equal(1, spec.Channel);
    }

    [Theory]
    [InlineData("name=a,colour=red", "unknown key 'colour'")]
    [InlineData("name=a,name=b", "key 'name' is given twice")]
    [InlineData("name=a,rpm=1,5", "'5' is not key=value")]
    [InlineData("name=a,rpm=x", "rpm='x' is not a number")]
    [InlineData("name=a,unit=1.5", "unit='1.5' is not an integer")]
    [InlineData("name=a,fault=bent", "fault='bent' is not one of none, outer-race")]
    [InlineData("name=a,loop=maybe", "loop='maybe' is not true or false")]
    [InlineData("name=a,,rpm=1", "empty entry between commas")]
    [InlineData("  ", "the value is empty")]
    public void Parse_BadSpec_ThrowsNamingTheProblem(string text, string expected)
    {
        var ex = Assert.Throws<SimulatorUsageException>(() => MachineSpecParser.Parse(text));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void ParseConfig_MachinesArray_SameKeysAsCommandLine()
    {
        var specs = MachineSpecParser.ParseConfig(
            """
            // comments and trailing commas are accepted
            { "Machines": [
                { "name": "m1", "fault": "inner-race", "rpm": 1500, "unit": 3 },
                { "name": "m2", "recording": "x.wav", "loop": true, "scale": 50, },
            ] }
            """,
            "m.json");

        Assert.Equal(2, specs.Count);
        Assert.Equal(FaultType.InnerRace, specs[0].Fault);
        Assert.Equal(1500, specs[0].Rpm);
        Assert.Equal(3, specs[0].Unit);
        Assert.True(specs[1].Loop);
        Assert.Equal(50, specs[1].Scale);
    }

    [Theory]
    [InlineData("{ \"machines\": [ { \"name\": [1] } ] }", "\"name\" must be a string, a number or a boolean", 2)]
    [InlineData("{ \"devices\": [] }", "expected an object with a \"machines\" array", 2)]
    [InlineData("{ \"machines\": [] }", "the \"machines\" array is empty", 2)]
    [InlineData("{ \"machines\": [ { \"speed\": 3 } ] }", "machines[0]: unknown key 'speed'", 2)]
    [InlineData("{ \"machines\": [", "not valid JSON", 3)]
    public void ParseConfig_BadContent_ThrowsNamingFile(string json, string expected, int exitCode)
    {
        var ex = Assert.Throws<SimulatorUsageException>(() => MachineSpecParser.ParseConfig(json, "bad.json"));

        Assert.Contains("--config 'bad.json'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(exitCode, ex.ExitCode);
    }

    [Fact]
    public void MergeOver_SpecWinsDefaultsFillNameUnitSeedNotInherited()
    {
        var defaults = MachineSpecParser.Parse("rpm=1500,fault=ball,seed=5,unit=3,block=512");
        var spec = MachineSpecParser.Parse("name=m,rpm=1200");

        var merged = spec.MergeOver(defaults);

        Assert.Equal("m", merged.Name);
        Assert.Equal(1200, merged.Rpm);
        Assert.Equal(FaultType.Ball, merged.Fault);
        Assert.Equal(512, merged.BlockSize);
        Assert.Null(merged.Seed);
        Assert.Null(merged.Unit);
        Assert.Equal(["name", "rpm"], merged.OwnKeys.Order());
    }
}
