using FactoryEdge.Core;

namespace FactoryEdge.Simulation;

/// <summary>One simulated channel: what the pipeline sees (<see cref="Channel"/>) and how its signal is made (<see cref="Signal"/>).</summary>
public sealed record SimulatedMachine
{
    public SimulatedMachine(ChannelDescriptor channel, MachineSignalOptions signal)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(signal);
        if (signal.Validate() is { } problem)
        {
            throw new ArgumentException($"Simulated channel {channel.Id}: {problem}.", nameof(signal));
        }

        if (Math.Abs(channel.SampleRateHz - signal.SampleRateHz) > 1e-9 * signal.SampleRateHz)
        {
            throw new ArgumentException($"Simulated channel {channel.Id} declares {channel.SampleRateHz} Hz but its signal is generated at {signal.SampleRateHz} Hz.", nameof(channel));
        }

        if (channel.Unit != SignalUnit.G)
        {
            throw new ArgumentException($"Simulated channel {channel.Id} must be in g (the generator's unit), not {channel.Unit.Symbol()}.", nameof(channel));
        }

        Channel = channel;
        Signal = signal;
    }

    public ChannelDescriptor Channel { get; }

    public MachineSignalOptions Signal { get; }

    /// <summary>A channel whose descriptor takes rate, shaft speed and bearing from <paramref name="signal"/>.</summary>
    public static SimulatedMachine Create(ChannelId id, MachineSignalOptions signal)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(signal);
        return new SimulatedMachine(
            new ChannelDescriptor
            {
                Id = id,
                SampleRateHz = signal.SampleRateHz,
                Unit = SignalUnit.G,
                NominalShaftHz = signal.ShaftHz,
                Bearing = signal.Bearing,
            },
            signal);
    }
}
