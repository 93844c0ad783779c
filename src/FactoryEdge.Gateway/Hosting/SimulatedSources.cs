using FactoryEdge.Core;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;

namespace FactoryEdge.Gateway.Hosting;

/// <summary>Turns <see cref="SimulatedMachineConfig"/> entries into simulator objects.</summary>
public static class SimulatedSources
{
    public static string FaultNames { get; } = string.Join(", ", Enum.GetNames<FaultType>());

    public static bool TryParseFault(string? text, out FaultType fault) =>
        Enum.TryParse(text, ignoreCase: true, out fault) && Enum.IsDefined(fault);

    public static SimulatedMachine ToMachine(SimulatedMachineConfig config, string site, string line)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!TryParseFault(config.Fault, out var fault))
        {
            throw new ArgumentException($"Fault '{config.Fault}' is not one of {FaultNames}.", nameof(config));
        }

        var signal = new MachineSignalOptions
        {
            SampleRateHz = config.SampleRateHz,
            ShaftHz = config.ShaftRpm / 60.0,
            Bearing = BearingCatalog.Get(config.Bearing),
            Seed = config.Seed,
            Faults = fault == FaultType.None
                ? []
                : [new MachineFault(fault, config.FaultSeverity, config.FaultOnsetSeconds, config.FaultRampSeconds)],
        };
        return SimulatedMachine.Create(new ChannelId(site, line, config.Machine, "de", "x"), signal);
    }

    /// <summary>One real-time source serving every configured machine (all channels publish together).</summary>
    public static ISensorSource Create(IEnumerable<SimulatedMachineConfig> machines, string site, string line, TimeProvider time) =>
        new SimulatedSource(
            [.. machines.Select(m => ToMachine(m, site, line))],
            new SimulatedSourceOptions { Name = "simulated", Pacing = SimulationPacing.RealTime, BlockSize = 1024 },
            time);

    /// <summary>Generates <paramref name="samples"/> samples of one machine (for benchmarks).</summary>
    public static (ChannelDescriptor Channel, float[] Samples) Generate(SimulatedMachineConfig config, string site, string line, int samples)
    {
        var machine = ToMachine(config, site, line);
        var generator = new MachineSignalGenerator(machine.Signal);
        var data = new float[samples];
        generator.Generate(data);
        return (machine.Channel, data);
    }
}
