using System.Globalization;
using System.Text;
using System.Text.Json;
using FactoryEdge.Simulation;

namespace FactoryEdge.Simulator.Machines;

/// <summary>
/// One machine as the user described it: every setting optional (null = not given). The command
/// line's options form a spec too (the defaults of every machine); a <c>--machine</c> value or an
/// entry of a <c>--config</c> file is merged over them (<see cref="MergeOver"/>).
/// </summary>
internal sealed record MachineSpec
{
    public string? Name { get; init; }

    public int? Unit { get; init; }

    public string? Recording { get; init; }

    public int? Channel { get; init; }

    public bool? Loop { get; init; }

    public double? Scale { get; init; }

    public double? Rpm { get; init; }

    public double? RateHz { get; init; }

    public string? Bearing { get; init; }

    public FaultType? Fault { get; init; }

    public double? Severity { get; init; }

    public double? OnsetSeconds { get; init; }

    public double? RampSeconds { get; init; }

    public int? Seed { get; init; }

    public int? BlockSize { get; init; }

    public double? PeriodSeconds { get; init; }

    /// <summary>Keys given in this spec itself (not inherited), for the conflict checks.</summary>
    public IReadOnlySet<string> OwnKeys { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Keys that describe a source (the single-machine form is used when any is on the command line).</summary>
    public bool HasSourceKeys => OwnKeys.Any(MachineSpecKeys.SourceKeys.Contains);

    /// <summary>
    /// This spec over <paramref name="defaults"/>: a setting given here wins, else the default's.
    /// Name, unit and seed are not inherited: on the command line <c>--unit</c> and <c>--seed</c> are
    /// the first machine's, the others count up from them (see <see cref="MachineCatalog"/>).
    /// </summary>
    public MachineSpec MergeOver(MachineSpec defaults) => new()
    {
        Name = Name,
        Unit = Unit,
        Recording = Recording ?? defaults.Recording,
        Channel = Channel ?? defaults.Channel,
        Loop = Loop ?? defaults.Loop,
        Scale = Scale ?? defaults.Scale,
        Rpm = Rpm ?? defaults.Rpm,
        RateHz = RateHz ?? defaults.RateHz,
        Bearing = Bearing ?? defaults.Bearing,
        Fault = Fault ?? defaults.Fault,
        Severity = Severity ?? defaults.Severity,
        OnsetSeconds = OnsetSeconds ?? defaults.OnsetSeconds,
        RampSeconds = RampSeconds ?? defaults.RampSeconds,
        Seed = Seed,
        BlockSize = BlockSize ?? defaults.BlockSize,
        PeriodSeconds = PeriodSeconds ?? defaults.PeriodSeconds,
        OwnKeys = OwnKeys,
    };
}

/// <summary>The keys of a machine spec (<c>key=value</c>), the same words as the command-line options.</summary>
internal static class MachineSpecKeys
{
    public const string Name = "name";
    public const string Unit = "unit";
    public const string Recording = "recording";
    public const string Channel = "channel";
    public const string Loop = "loop";
    public const string Scale = "scale";
    public const string Rpm = "rpm";
    public const string Rate = "rate";
    public const string Bearing = "bearing";
    public const string Fault = "fault";
    public const string Severity = "severity";
    public const string Onset = "onset";
    public const string Ramp = "ramp";
    public const string Seed = "seed";
    public const string Block = "block";
    public const string Period = "period";

    public static readonly string[] All = [Name, Unit, Recording, Channel, Loop, Scale, Rpm, Rate, Bearing, Fault, Severity, Onset, Ramp, Seed, Block, Period];

    /// <summary>Keys that only a generated machine uses.</summary>
    public static readonly HashSet<string> GeneratorOnly = new(StringComparer.Ordinal) { Bearing, Fault, Severity, Onset, Ramp, Seed };

    /// <summary>Keys that only a recording uses.</summary>
    public static readonly HashSet<string> RecordingOnly = new(StringComparer.Ordinal) { Channel, Loop, Scale };

    /// <summary>Keys that describe the signal source.</summary>
    public static readonly HashSet<string> SourceKeys = new(StringComparer.Ordinal) { Recording, Channel, Loop, Scale, Rpm, Rate, Bearing, Fault, Severity, Onset, Ramp };

    /// <summary>Fault names as written on the command line.</summary>
    public const string AllowedFaults = "none, outer-race, inner-race, ball, imbalance, misalignment, looseness";

    public static bool TryParseFault(string? text, out FaultType fault)
    {
        switch (text?.Trim().ToLowerInvariant().Replace('_', '-'))
        {
            case "none" or "healthy":
                fault = FaultType.None;
                return true;
            case "outer-race" or "outerrace" or "outer" or "bpfo":
                fault = FaultType.OuterRace;
                return true;
            case "inner-race" or "innerrace" or "inner" or "bpfi":
                fault = FaultType.InnerRace;
                return true;
            case "ball" or "bsf":
                fault = FaultType.Ball;
                return true;
            case "imbalance" or "unbalance":
                fault = FaultType.Imbalance;
                return true;
            case "misalignment":
                fault = FaultType.Misalignment;
                return true;
            case "looseness":
                fault = FaultType.Looseness;
                return true;
            default:
                fault = default;
                return false;
        }
    }

    public static string FaultName(FaultType fault) => fault switch
    {
        FaultType.OuterRace => "outer-race",
        FaultType.InnerRace => "inner-race",
        FaultType.Ball => "ball",
        FaultType.Imbalance => "imbalance",
        FaultType.Misalignment => "misalignment",
        FaultType.Looseness => "looseness",
        _ => "none",
    };
}

/// <summary>Parses machine specs: <c>NAME</c> or <c>key=value,key=value,…</c>, and <c>--config</c> JSON files.</summary>
internal static class MachineSpecParser
{
    /// <summary>
    /// Parses one <c>--machine</c> value. A value without '=' is a bare name; otherwise comma-separated
    /// <c>key=value</c> pairs (a bare <c>loop</c> means <c>loop=true</c>). Throws
    /// <see cref="SimulatorUsageException"/> naming the spec and the key.
    /// </summary>
    public static MachineSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new SimulatorUsageException("--machine: the value is empty (give a NAME or key=value pairs, e.g. name=m1,fault=outer-race,rpm=1780)");
        }

        if (!trimmed.Contains('=', StringComparison.Ordinal) && !trimmed.Contains(',', StringComparison.Ordinal))
        {
            return Build([(MachineSpecKeys.Name, trimmed)], $"--machine '{trimmed}'");
        }

        var pairs = new List<(string Key, string Value)>();
        foreach (var part in trimmed.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                throw new SimulatorUsageException($"--machine '{trimmed}': empty entry between commas");
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (string.Equals(part, MachineSpecKeys.Loop, StringComparison.OrdinalIgnoreCase))
                {
                    pairs.Add((MachineSpecKeys.Loop, "true"));
                    continue;
                }

                throw new SimulatorUsageException($"--machine '{trimmed}': '{part}' is not key=value (keys: {string.Join(", ", MachineSpecKeys.All)})");
            }

            pairs.Add((part[..eq].Trim().ToLowerInvariant(), part[(eq + 1)..].Trim()));
        }

        return Build(pairs, $"--machine '{trimmed}'");
    }

    /// <summary>
    /// Reads a <c>--config</c> file: <c>{ "machines": [ { "name": "m1", "fault": "outer-race", "rpm": 1780 }, … ] }</c>
    /// (the same keys as <c>--machine</c>; values as JSON strings, numbers or booleans).
    /// </summary>
    public static IReadOnlyList<MachineSpec> ParseConfigFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SimulatorUsageException($"--config '{path}': cannot read the file ({ex.Message})", ExitCodes.BadInput);
        }

        return ParseConfig(json, path);
    }

    public static IReadOnlyList<MachineSpec> ParseConfig(string json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new SimulatorUsageException($"--config '{path}': not valid JSON (line {ex.LineNumber + 1}: {ex.Message})", ExitCodes.BadInput);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !TryGetPropertyIgnoreCase(document.RootElement, "machines", out var machines)
                || machines.ValueKind != JsonValueKind.Array)
            {
                throw new SimulatorUsageException($"--config '{path}': expected an object with a \"machines\" array, e.g. {{ \"machines\": [ {{ \"name\": \"m1\", \"fault\": \"outer-race\" }} ] }}");
            }

            var specs = new List<MachineSpec>();
            var index = 0;
            foreach (var machine in machines.EnumerateArray())
            {
                var where = string.Create(CultureInfo.InvariantCulture, $"--config '{path}', machines[{index}]");
                if (machine.ValueKind != JsonValueKind.Object)
                {
                    throw new SimulatorUsageException($"{where}: expected an object of key/value pairs");
                }

                var pairs = new List<(string Key, string Value)>();
                foreach (var property in machine.EnumerateObject())
                {
                    var value = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString()!,
                        JsonValueKind.Number => property.Value.GetRawText(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => throw new SimulatorUsageException($"{where}: \"{property.Name}\" must be a string, a number or a boolean"),
                    };
                    pairs.Add((property.Name.ToLowerInvariant(), value));
                }

                specs.Add(Build(pairs, where));
                index++;
            }

            if (specs.Count == 0)
            {
                throw new SimulatorUsageException($"--config '{path}': the \"machines\" array is empty");
            }

            return specs;
        }
    }

    private static bool TryGetPropertyIgnoreCase(JsonElement element, string name, out JsonElement value)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static MachineSpec Build(IReadOnlyList<(string Key, string Value)> pairs, string where)
    {
        var spec = new MachineSpec();
        var own = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            if (!own.Add(key))
            {
                throw new SimulatorUsageException($"{where}: key '{key}' is given twice");
            }

            spec = key switch
            {
                MachineSpecKeys.Name => spec with { Name = value },
                MachineSpecKeys.Unit => spec with { Unit = ParseInt(where, key, value) },
                MachineSpecKeys.Recording => spec with { Recording = value },
                MachineSpecKeys.Channel => spec with { Channel = ParseInt(where, key, value) },
                MachineSpecKeys.Loop => spec with { Loop = ParseBool(where, key, value) },
                MachineSpecKeys.Scale => spec with { Scale = ParseDouble(where, key, value) },
                MachineSpecKeys.Rpm => spec with { Rpm = ParseDouble(where, key, value) },
                MachineSpecKeys.Rate => spec with { RateHz = ParseDouble(where, key, value) },
                MachineSpecKeys.Bearing => spec with { Bearing = value },
                MachineSpecKeys.Fault => spec with { Fault = ParseFault(where, value) },
                MachineSpecKeys.Severity => spec with { Severity = ParseDouble(where, key, value) },
                MachineSpecKeys.Onset => spec with { OnsetSeconds = ParseDouble(where, key, value) },
                MachineSpecKeys.Ramp => spec with { RampSeconds = ParseDouble(where, key, value) },
                MachineSpecKeys.Seed => spec with { Seed = ParseInt(where, key, value) },
                MachineSpecKeys.Block => spec with { BlockSize = ParseInt(where, key, value) },
                MachineSpecKeys.Period => spec with { PeriodSeconds = ParseDouble(where, key, value) },
                _ => throw new SimulatorUsageException($"{where}: unknown key '{key}' (keys: {string.Join(", ", MachineSpecKeys.All)})"),
            };
        }

        return spec with { OwnKeys = own };
    }

    private static int ParseInt(string where, string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result)
            ? result
            : throw new SimulatorUsageException($"{where}: {key}='{value}' is not an integer");

    private static double ParseDouble(string where, string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && double.IsFinite(result)
            ? result
            : throw new SimulatorUsageException($"{where}: {key}='{value}' is not a number (invariant culture, '.' as decimal point)");

    private static bool ParseBool(string where, string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "yes" or "1" or "on" => true,
        "false" or "no" or "0" or "off" => false,
        _ => throw new SimulatorUsageException($"{where}: {key}='{value}' is not true or false"),
    };

    private static FaultType ParseFault(string where, string value) =>
        MachineSpecKeys.TryParseFault(value, out var fault)
            ? fault
            : throw new SimulatorUsageException($"{where}: fault='{value}' is not one of {MachineSpecKeys.AllowedFaults}");
}
