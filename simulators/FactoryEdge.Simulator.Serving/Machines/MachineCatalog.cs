using System.Globalization;
using FactoryEdge.Recordings;
using FactoryEdge.Signal;
using FactoryEdge.Simulation;

namespace FactoryEdge.Simulator.Machines;

/// <summary>A machine ready to serve: its name, source and block geometry, all values checked.</summary>
internal sealed class MachineDefinition
{
    public required string Name { get; init; }

    /// <summary>Position in the list (0-based): the default unit is <c>--unit</c> + index, the default seed <c>--seed</c> + index.</summary>
    public required int Index { get; init; }

    /// <summary>The unit id the spec asked for, or null (the transport assigns one).</summary>
    public int? Unit { get; init; }

    public required int BlockSize { get; init; }

    public required int StrideSamples { get; init; }

    public required double SampleRateHz { get; init; }

    /// <summary>Shaft speed in rpm (0 = unknown, e.g. a recording without rpm in its header).</summary>
    public required double Rpm { get; init; }

    /// <summary>Generator settings, or null for a recording.</summary>
    public MachineSignalOptions? Generator { get; init; }

    /// <summary>The recording's samples (one channel), or empty for a generated machine.</summary>
    public ReadOnlyMemory<float> RecordingSamples { get; init; }

    public bool Loop { get; init; }

    /// <summary>One line for logs and <c>status</c>, e.g. <c>generator rpm=1796 fault=outer-race severity=1 onset=20 ramp=60 seed=1</c>.</summary>
    public required string Description { get; init; }

    public double PeriodSeconds => StrideSamples / SampleRateHz;

    public IBlockSource CreateSource() => Generator is not null
        ? new GeneratorBlockSource(Generator, BlockSize, StrideSamples)
        : new RecordingBlockSource(RecordingSamples, SampleRateHz, BlockSize, StrideSamples, Loop);
}

/// <summary>
/// Turns the command line (defaults), <c>--machine</c> specs and <c>--config</c> entries into checked
/// <see cref="MachineDefinition"/>s, loading each recording once. Every problem is a
/// <see cref="SimulatorUsageException"/> that names the option or key, the machine and the allowed range.
/// </summary>
internal static class MachineCatalog
{
    public const int DefaultBlockSize = 2048;
    public const double DefaultRateHz = 25600;
    public const double DefaultRpm = 1796;
    public const int DefaultSeed = 1;
    public const int MaxBlockSize = 32000;
    public const string SingleMachineName = "machine";

    /// <summary>The machines served when the command line names none and gives no source option.</summary>
    public static IReadOnlyList<MachineSpec> DefaultSet { get; } =
    [
        Spec(("name", "healthy")),
        Spec(("name", "outer-race"), ("fault", "outer-race"), ("severity", "1"), ("onset", "20"), ("ramp", "60")),
        Spec(("name", "imbalance"), ("fault", "imbalance"), ("severity", "0.5")),
    ];

    /// <summary>
    /// Resolves the machines. <paramref name="specs"/> are the <c>--machine</c> values and the
    /// <c>--config</c> entries in order; when empty, the command line is one machine if it carries a
    /// source option (<c>--recording</c>, <c>--rpm</c>, <c>--fault</c>, …), else the <see cref="DefaultSet"/>.
    /// </summary>
    public static IReadOnlyList<MachineDefinition> Resolve(MachineSpec commandLine, IReadOnlyList<MachineSpec> specs, int maxBlockSize = MaxBlockSize)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(specs);
        if (commandLine.OwnKeys.Contains(MachineSpecKeys.Recording))
        {
            foreach (var key in MachineSpecKeys.GeneratorOnly)
            {
                if (commandLine.OwnKeys.Contains(key))
                {
                    throw new SimulatorUsageException($"--{key} applies to a generated machine, not to --recording (remove one of them, or describe the machines with --machine)");
                }
            }
        }

        bool fromCommandLine;
        IReadOnlyList<MachineSpec> list;
        if (specs.Count > 0)
        {
            fromCommandLine = false;
            list = specs;
        }
        else if (commandLine.HasSourceKeys)
        {
            fromCommandLine = true;
            list = [commandLine with { Name = SingleMachineName }];
        }
        else
        {
            fromCommandLine = false;
            list = DefaultSet;
        }

        var recordings = new Dictionary<(string Path, double? Rate, double? Scale), Recording>();
        var machines = new List<MachineDefinition>(list.Count);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < list.Count; i++)
        {
            var own = list[i];
            var merged = fromCommandLine ? own : own.MergeOver(commandLine);
            var context = new Context(merged.Name ?? string.Create(CultureInfo.InvariantCulture, $"machine{i + 1}"), fromCommandLine, own.OwnKeys);
            if (!IsValidName(context.Name))
            {
                throw new SimulatorUsageException($"{context.Where(MachineSpecKeys.Name)}: '{context.Name}' is not a valid machine name (1–64 letters, digits, '.', '_' or '-')");
            }

            if (!names.Add(context.Name))
            {
                throw new SimulatorUsageException($"machine name '{context.Name}' is used twice; give each machine its own name=");
            }

            var seed = own.Seed ?? ((commandLine.Seed ?? DefaultSeed) + i);
            machines.Add(Build(merged, context, i, seed, recordings, maxBlockSize));
        }

        return machines;
    }

    private static MachineDefinition Build(MachineSpec spec, Context context, int index, int seed, Dictionary<(string, double?, double?), Recording> recordings, int maxBlockSize)
    {
        var blockSize = spec.BlockSize ?? DefaultBlockSize;
        if (blockSize < 1 || blockSize > maxBlockSize)
        {
            throw context.Error(MachineSpecKeys.Block, string.Create(CultureInfo.InvariantCulture, $"must be 1–{maxBlockSize} samples (was {blockSize})"));
        }

        if (spec.Rpm is { } rpmGiven && !(rpmGiven > 0 && rpmGiven <= 100_000))
        {
            throw context.Error(MachineSpecKeys.Rpm, string.Create(CultureInfo.InvariantCulture, $"must be in (0, 100000] (was {rpmGiven})"));
        }

        if (spec.RateHz is { } rateGiven && !(rateGiven >= 100 && rateGiven <= 1_000_000))
        {
            throw context.Error(MachineSpecKeys.Rate, string.Create(CultureInfo.InvariantCulture, $"must be in [100, 1000000] Hz (was {rateGiven})"));
        }

        return spec.Recording is { } path
            ? BuildRecording(spec, context, index, path, blockSize, recordings)
            : BuildGenerator(spec, context, index, seed, blockSize);
    }

    private static MachineDefinition BuildGenerator(MachineSpec spec, Context context, int index, int seed, int blockSize)
    {
        foreach (var key in MachineSpecKeys.RecordingOnly)
        {
            if (context.OwnKeys.Contains(key))
            {
                throw context.Error(key, "applies to a recording (give recording= / --recording, or remove it)");
            }
        }

        var rate = spec.RateHz ?? DefaultRateHz;
        var rpm = spec.Rpm ?? DefaultRpm;
        if (!(rpm / 60 * 10 < rate / 2))
        {
            throw context.Error(MachineSpecKeys.Rpm, string.Create(CultureInfo.InvariantCulture, $"{rpm} is too fast for rate {rate} Hz: the 10th shaft harmonic must stay below Nyquist (rpm < {rate * 3:0.##})"));
        }

        var bearing = BearingCatalog.Get(MachineSignalOptions.DefaultBearingName);
        if (spec.Bearing is { } bearingName && !BearingCatalog.TryGet(bearingName, out bearing))
        {
            throw context.Error(MachineSpecKeys.Bearing, $"'{bearingName}' is not in the catalogue (known: {string.Join(", ", BearingCatalog.All.Select(b => b.Name))})");
        }

        var fault = spec.Fault ?? FaultType.None;
        var severity = spec.Severity ?? 1.0;
        var onset = spec.OnsetSeconds ?? 0;
        var ramp = spec.RampSeconds ?? 0;
        if (!(severity >= 0 && severity <= 10))
        {
            throw context.Error(MachineSpecKeys.Severity, string.Create(CultureInfo.InvariantCulture, $"must be in [0, 10] (1 = a developed fault; was {severity})"));
        }

        if (!(onset >= 0))
        {
            throw context.Error(MachineSpecKeys.Onset, string.Create(CultureInfo.InvariantCulture, $"must be zero or positive seconds (was {onset})"));
        }

        if (!(ramp >= 0))
        {
            throw context.Error(MachineSpecKeys.Ramp, string.Create(CultureInfo.InvariantCulture, $"must be zero or positive seconds (was {ramp})"));
        }

        var options = new MachineSignalOptions
        {
            SampleRateHz = rate,
            ShaftHz = rpm / 60,
            Bearing = bearing,
            Seed = seed,
            Faults = fault == FaultType.None ? [] : [new MachineFault(fault, severity, onset, ramp)],
        };
        if (options.Validate() is { } problem)
        {
            throw new SimulatorUsageException($"machine '{context.Name}': {problem}");
        }

        var description = fault == FaultType.None
            ? string.Create(CultureInfo.InvariantCulture, $"generator rpm={rpm:0.###} rate={rate:0.###} bearing='{bearing.Name}' fault=none seed={seed}")
            : string.Create(CultureInfo.InvariantCulture, $"generator rpm={rpm:0.###} rate={rate:0.###} bearing='{bearing.Name}' fault={MachineSpecKeys.FaultName(fault)} severity={severity:0.###} onset={onset:0.###} ramp={ramp:0.###} seed={seed}");
        return Define(spec, context, index, blockSize, rate, rpm, description, generator: options);
    }

    private static MachineDefinition BuildRecording(MachineSpec spec, Context context, int index, string path, int blockSize, Dictionary<(string, double?, double?), Recording> recordings)
    {
        foreach (var key in MachineSpecKeys.GeneratorOnly)
        {
            if (context.OwnKeys.Contains(key))
            {
                throw context.Error(key, "applies to a generated machine, not to a recording (remove it or recording=)");
            }
        }

        if (spec.Scale is { } scale && !(scale != 0 && double.IsFinite(scale)))
        {
            throw context.Error(MachineSpecKeys.Scale, string.Create(CultureInfo.InvariantCulture, $"must be a non-zero number (was {scale})"));
        }

        var cacheKey = (Path.GetFullPath(path), spec.RateHz, spec.Scale);
        if (!recordings.TryGetValue(cacheKey, out var recording))
        {
            try
            {
                recording = RecordingReader.Load(path, new RecordingReadOptions { SampleRateHz = spec.RateHz, Scale = spec.Scale ?? 1.0 });
            }
            catch (RecordingFormatException ex)
            {
                throw new SimulatorUsageException($"{context.Where(MachineSpecKeys.Recording)}: {ex.Message}", ExitCodes.BadInput);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SimulatorUsageException($"{context.Where(MachineSpecKeys.Recording)}: cannot read '{path}' ({ex.Message})", ExitCodes.BadInput);
            }

            recordings[cacheKey] = recording;
        }

        var channel = spec.Channel ?? 0;
        if (channel < 0 || channel >= recording.Channels.Count)
        {
            throw context.Error(MachineSpecKeys.Channel, string.Create(CultureInfo.InvariantCulture, $"{channel} does not exist: '{path}' has {recording.Channels.Count} channel(s) (0–{recording.Channels.Count - 1})"));
        }

        var samples = recording.Channels[channel].Samples;
        if (samples.Length < blockSize)
        {
            throw context.Error(MachineSpecKeys.Block, string.Create(CultureInfo.InvariantCulture, $"{blockSize} is longer than the recording '{path}' ({samples.Length} samples); give a smaller block"));
        }

        var rate = recording.SampleRateHz;
        var rpm = spec.Rpm ?? (recording.NominalShaftHz * 60);
        var loop = spec.Loop ?? false;
        var unit = recording.Channels[channel].Unit;
        var description = string.Create(CultureInfo.InvariantCulture, $"recording '{path}' channel={channel} rate={rate:0.###} unit={unit} samples={samples.Length} rpm={rpm:0.###} loop={(loop ? "yes" : "no")}");
        return Define(spec, context, index, blockSize, rate, rpm, description, recordingSamples: samples, loop: loop);
    }

    /// <summary>The definition both kinds of machine share (name, unit, block, stride, rate, rpm) plus their source.</summary>
    private static MachineDefinition Define(
        MachineSpec spec,
        Context context,
        int index,
        int blockSize,
        double rate,
        double rpm,
        string description,
        MachineSignalOptions? generator = null,
        ReadOnlyMemory<float> recordingSamples = default,
        bool loop = false) => new()
        {
            Name = context.Name,
            Index = index,
            Unit = spec.Unit,
            BlockSize = blockSize,
            StrideSamples = Stride(spec, context, rate, blockSize),
            SampleRateHz = rate,
            Rpm = rpm,
            Generator = generator,
            RecordingSamples = recordingSamples,
            Loop = loop,
            Description = description,
        };

    /// <summary>Samples from one block's start to the next: the period × rate, at least the block.</summary>
    private static int Stride(MachineSpec spec, Context context, double rate, int blockSize)
    {
        if (spec.PeriodSeconds is not { } period)
        {
            return blockSize;
        }

        var blockSeconds = blockSize / rate;
        if (!(period >= blockSeconds * (1 - 1e-9)) || !(period <= 3600))
        {
            throw context.Error(MachineSpecKeys.Period, string.Create(CultureInfo.InvariantCulture, $"must be at least the block's duration ({blockSize} samples / {rate:0.###} Hz = {blockSeconds:0.######} s) and at most 3600 s (was {period})"));
        }

        var stride = (long)Math.Round(period * rate);
        return (int)Math.Clamp(stride, blockSize, int.MaxValue);
    }

    private static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static MachineSpec Spec(params (string Key, string Value)[] pairs) =>
        MachineSpecParser.Parse(string.Join(',', pairs.Select(p => p.Key + "=" + p.Value)));

    /// <summary>Where a value came from, for messages: the machine's own spec, or the command line.</summary>
    private sealed record Context(string Name, bool FromCommandLine, IReadOnlySet<string> OwnKeys)
    {
        public string Where(string key) => FromCommandLine
            ? "--" + key
            : OwnKeys.Contains(key) ? $"machine '{Name}': {key}" : $"--{key} (machine '{Name}')";

        public SimulatorUsageException Error(string key, string problem) => new($"{Where(key)} {problem}");
    }
}
