using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Modbus.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void ExampleConfig_BindsAndValidates()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "modbus.example.json")).Build();
        using var provider = new ServiceCollection().AddLogging().AddFactoryEdgeModbus(configuration).BuildServiceProvider();
        var source = provider.GetServices<ISensorSource>().OfType<ModbusSensorSource>().Single();
        Assert.Equal(3, source.Devices.Count);
        Assert.Equal(9, source.Channels.Count);
        var rms = source.Devices[0].Points[0];
        Assert.Equal(0, rms.Address.Address);
        Assert.Equal("CDAB", rms.Address.Format.OrderName);
        Assert.Equal(1, source.Devices[2].Client.MaxInFlightPerUnit);
        Assert.Equal(25600, source.Channels.Single(c => c.Id.Axis == "accel").SampleRateHz);
    }

    [Fact]
    public void AddFactoryEdgeModbus_Twice_RegistersOneSource()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "modbus.example.json")).Build();
        using var provider = new ServiceCollection().AddFactoryEdgeModbus(configuration).AddFactoryEdgeModbus(configuration).BuildServiceProvider();
        Assert.Single(provider.GetServices<ISensorSource>());
        Assert.Same(provider.GetRequiredService<ModbusSensorSource>(), provider.GetServices<ISensorSource>().Single());
    }

    [Theory]
    [InlineData("FactoryEdge:Modbus:Devices:0:Points:0:Type", "float16", "FactoryEdge:Modbus:Devices:0:Points:0:Type: 'float16' is not allowed; allowed: bool, int16")]
    [InlineData("FactoryEdge:Modbus:Devices:0:Points:0:Order", "ABDC", "FactoryEdge:Modbus:Devices:0:Points:0:Order: 'ABDC' is not allowed; allowed: ABCD")]
    [InlineData("FactoryEdge:Modbus:Devices:0:Points:0:Table", "Registers", "FactoryEdge:Modbus:Devices:0:Points:0:Table: 'Registers' is not allowed; allowed: Holding, Input, Coils, Discrete")]
    [InlineData("FactoryEdge:Modbus:Devices:0:AddressBase", "2", "FactoryEdge:Modbus:Devices:0:AddressBase: 2 is not allowed; allowed: 0 or 1")]
    [InlineData("FactoryEdge:Modbus:Devices:0:MaxRegistersPerRead", "200", "FactoryEdge:Modbus:Devices:0:MaxRegistersPerRead: 200 is not allowed; allowed: 4..125")]
    [InlineData("FactoryEdge:Modbus:Devices:0:Framing", "udp", "FactoryEdge:Modbus:Devices:0:Framing: 'udp' is not allowed; allowed: Tcp, RtuOverTcp, RtuSerial")]
    [InlineData("FactoryEdge:Modbus:Devices:0:Points:0:Channel", "a/b", "FactoryEdge:Modbus:Devices:0:Points:0:Channel: Channel id 'a/b' must have the form")]
    [InlineData("FactoryEdge:Modbus:Devices:0:UnitId", "300", "FactoryEdge:Modbus:Devices:0:UnitId: 300 is not allowed; allowed: 0..255")]
    public void Validation_BadValue_StartupFailsNamingKeyAndAllowedValues(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FactoryEdge:Modbus:Devices:0:Name"] = "d1",
            ["FactoryEdge:Modbus:Devices:0:Host"] = "127.0.0.1",
            ["FactoryEdge:Modbus:Devices:0:Points:0:Channel"] = "s/l/m/p/x",
            ["FactoryEdge:Modbus:Devices:0:Points:0:Address"] = "0",
            [key] = value,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddFactoryEdgeModbus(configuration).BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ModbusOptions>>().Value);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_AddressBelowBase_Named()
    {
        var options = SourceTests.Options(502, d =>
        {
            d.AddressBase = 1;
            d.Points.Add(SourceTests.Point("s/l/m/p/x", "Holding", 0, "uint16"));
        });
        var errors = ModbusDeviceMap.Build(options, out _, out _);
        Assert.Contains(errors, e => e.StartsWith("FactoryEdge:Modbus:Devices:0:Points:0:Address: 0 is not allowed; allowed: 1..65536", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_DuplicateChannelsAndNames_Reported()
    {
        var a = new ModbusDeviceOptions { Name = "x", Host = "h", Points = [SourceTests.Point("s/l/m/p/x", "Holding", 0, "uint16")] };
        var b = new ModbusDeviceOptions { Name = "x", Host = "h", Points = [SourceTests.Point("s/l/m/p/x", "Holding", 1, "uint16")] };
        var errors = ModbusDeviceMap.Build(new ModbusOptions { Devices = [a, b] }, out _, out _);
        Assert.Contains(errors, e => e.Contains("names must be unique", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("declared twice", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_FloatInCoilTable_Rejected()
    {
        var options = SourceTests.Options(502, d => d.Points.Add(SourceTests.Point("s/l/m/p/x", "Coils", 0, "float32")));
        var errors = ModbusDeviceMap.Build(options, out _, out _);
        Assert.Contains(errors, e => e.Contains("a bit table holds bool only", StringComparison.Ordinal));
    }

    [Fact]
    public void Validation_WaveformPastAddressSpace_Rejected()
    {
        var options = SourceTests.Options(502, d => d.Waveforms.Add(new ModbusWaveformOptions { Channel = "s/l/m/p/w", Address = 65000, SampleCount = 1024, SampleRateHz = 1000 }));
        var errors = ModbusDeviceMap.Build(options, out _, out _);
        Assert.Contains(errors, e => e.StartsWith("FactoryEdge:Modbus:Devices:0:Waveforms:0:Address", StringComparison.Ordinal));
    }

    [Fact]
    public void Disabled_NoChannels()
    {
        var options = SourceTests.Options(502, d => d.Points.Add(SourceTests.Point("s/l/m/p/x", "Holding", 0, "uint16")));
        options.Enabled = false;
        Assert.Empty(new ModbusSensorSource(options).Channels);
    }

    [Fact]
    public void ScalarUnits_VibrationUnitsMapped()
    {
        var options = SourceTests.Options(502, d => d.Points.Add(new ModbusPointOptions { Channel = "s/l/m/p/x", Address = 0, Unit = "mm/s" }));
        Assert.Equal(SignalUnit.MillimetersPerSecond, new ModbusSensorSource(options).Channels[0].Unit);
    }
}
