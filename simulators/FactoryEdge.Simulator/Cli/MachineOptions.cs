using System.CommandLine;
using FactoryEdge.Simulator.Machines;

namespace FactoryEdge.Simulator.Cli;

/// <summary>
/// The machine options every transport subcommand shares (<c>modbus</c> now, <c>opcua</c> next):
/// the source of one machine on the command line, <c>--machine</c> specs and <c>--config</c>.
/// </summary>
internal sealed class MachineOptions
{
    public Option<string[]> Machine { get; } = new("--machine", "-m")
    {
        Description = "A machine: NAME (takes the source options below) or key=value pairs, e.g. name=m1,fault=outer-race,rpm=1780 "
            + "(keys: " + string.Join(", ", MachineSpecKeys.All) + "). Repeat for several machines.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "JSON file with machines: { \"machines\": [ { \"name\": \"m1\", \"fault\": \"outer-race\", \"rpm\": 1780 } ] } (same keys as --machine).",
    };

    public Option<string?> Recording { get; } = new("--recording") { Description = "Replay this recording (CSV as in docs/recordings.md, or WAV) instead of the generator." };

    public Option<int?> Channel { get; } = new("--channel") { Description = "Channel of the recording (0-based; default 0)." };

    public Option<bool> Loop { get; } = new("--loop") { Description = "Start the recording again at its end (default: the last block stays)." };

    public Option<double?> Scale { get; } = new("--scale") { Description = "WAV full scale in the unit (a ±50 g recorder: 50); default 1." };

    public Option<double?> Rpm { get; } = new("--rpm") { Description = "Shaft speed in rpm (generator: default 1796; recording: overrides its header)." };

    public Option<double?> Rate { get; } = new("--rate") { Description = "Sample rate in Hz (generator: default 25600; recording: overrides its header)." };

    public Option<string?> Bearing { get; } = new("--bearing") { Description = "Bearing catalogue name (default 'SKF 6205-2RS JEM')." };

    public Option<string?> Fault { get; } = new("--fault") { Description = "Fault to develop: " + MachineSpecKeys.AllowedFaults + " (default none)." };

    public Option<double?> Severity { get; } = new("--severity") { Description = "Fault severity reached after the ramp, 0–10 (1 = developed fault; default 1)." };

    public Option<double?> Onset { get; } = new("--onset") { Description = "Seconds of signal time before the fault appears (default 0)." };

    public Option<double?> Ramp { get; } = new("--ramp") { Description = "Seconds from onset to full severity (default 0: a step)." };

    public Option<int?> Seed { get; } = new("--seed") { Description = "Random seed of the first machine; machine i gets seed + i unless its spec sets seed= (default 1)." };

    public Option<int?> Block { get; } = new("--block") { Description = "Samples per waveform block (default 2048)." };

    public Option<double?> Period { get; } = new("--period") { Description = "Acquisition period in seconds between block starts (default: the block's duration, blocks back to back)." };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in (Option[])[Machine, Config, Recording, Channel, Loop, Scale, Rpm, Rate, Bearing, Fault, Severity, Onset, Ramp, Seed, Block, Period])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The command line's machine settings as a spec (the defaults of every machine).</summary>
    public MachineSpec ReadDefaults(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var own = new HashSet<string>(StringComparer.Ordinal);
        T? Given<T>(Option<T?> option, string key)
            where T : struct
        {
            var value = parse.GetValue(option);
            if (value is not null)
            {
                own.Add(key);
            }

            return value;
        }

        string? GivenText(Option<string?> option, string key)
        {
            var value = parse.GetValue(option);
            if (value is not null)
            {
                own.Add(key);
            }

            return value;
        }

        var faultText = GivenText(Fault, MachineSpecKeys.Fault);
        Simulation.FaultType? fault = null;
        if (faultText is not null)
        {
            fault = MachineSpecKeys.TryParseFault(faultText, out var parsed)
                ? parsed
                : throw new SimulatorUsageException($"--fault '{faultText}' is not one of {MachineSpecKeys.AllowedFaults}");
        }

        bool? loop = null;
        if (parse.GetResult(Loop) is { Implicit: false })
        {
            loop = parse.GetValue(Loop);
            own.Add(MachineSpecKeys.Loop);
        }

        return new MachineSpec
        {
            Recording = GivenText(Recording, MachineSpecKeys.Recording),
            Channel = Given(Channel, MachineSpecKeys.Channel),
            Loop = loop,
            Scale = Given(Scale, MachineSpecKeys.Scale),
            Rpm = Given(Rpm, MachineSpecKeys.Rpm),
            RateHz = Given(Rate, MachineSpecKeys.Rate),
            Bearing = GivenText(Bearing, MachineSpecKeys.Bearing),
            Fault = fault,
            Severity = Given(Severity, MachineSpecKeys.Severity),
            OnsetSeconds = Given(Onset, MachineSpecKeys.Onset),
            RampSeconds = Given(Ramp, MachineSpecKeys.Ramp),
            Seed = Given(Seed, MachineSpecKeys.Seed),
            BlockSize = Given(Block, MachineSpecKeys.Block),
            PeriodSeconds = Given(Period, MachineSpecKeys.Period),
            OwnKeys = own,
        };
    }

    /// <summary>The <c>--machine</c> specs, then the <c>--config</c> file's, in order.</summary>
    public IReadOnlyList<MachineSpec> ReadSpecs(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var specs = new List<MachineSpec>();
        foreach (var text in parse.GetValue(Machine) ?? [])
        {
            specs.Add(MachineSpecParser.Parse(text));
        }

        if (parse.GetValue(Config) is { } path)
        {
            specs.AddRange(MachineSpecParser.ParseConfigFile(path));
        }

        return specs;
    }
}
