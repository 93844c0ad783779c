using FactoryEdge.Core;
using FactoryEdge.Pipeline.Hosting;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Gateway.Hosting;

/// <summary>
/// What the site knows about its machines (section <c>FactoryEdge:Machines</c>, a list): for each machine,
/// the bearing, nominal speed and ISO 20816-3 class, applied to every channel of that machine
/// whatever source declares it (Modbus, OPC UA, recordings, simulators). Values given here win over
/// what a source declares (e.g. a recording header).
/// </summary>
public sealed class MachinesOptions
{
    public const string SectionName = "FactoryEdge:Machines";

    public List<MachineConfig> Machines { get; set; } = [];
}

public sealed class MachineConfig
{
    /// <summary><c>site/line/machine</c>, or just <c>machine</c> for the gateway's default site and line.</summary>
    public string Machine { get; set; } = string.Empty;

    /// <summary>A machine file (config/machines/*.json); keys given here override it.</summary>
    public string? MachineFile { get; set; }

    public string? Bearing { get; set; }

    public BearingGeometryJson? BearingGeometry { get; set; }

    public double? NominalRpm { get; set; }

    public IsoMachineGroup? MachineGroup { get; set; }

    public IsoSupport? Support { get; set; }
}

/// <summary>Resolves <see cref="MachinesOptions"/> (machine files included) and enriches channel descriptors.</summary>
public sealed class MachineCatalog : IChannelDescriptorEnricher
{
    private readonly Dictionary<string, Resolved> _machines = new(StringComparer.Ordinal);

    public MachineCatalog(IOptions<MachinesOptions> options, IOptions<GatewayOptions> gateway)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(gateway);
        for (var i = 0; i < options.Value.Machines.Count; i++)
        {
            var (key, resolved) = Resolve(options.Value.Machines[i], i, gateway.Value);
            _machines[key] = resolved;
        }
    }

    public ChannelDescriptor Enrich(ChannelDescriptor channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (!_machines.TryGetValue(channel.Id.MachineKey, out var m))
        {
            return channel;
        }

        return channel with
        {
            Bearing = m.Bearing ?? channel.Bearing,
            NominalShaftHz = m.NominalRpm is { } rpm ? rpm / 60.0 : channel.NominalShaftHz,
            MachineGroup = m.Group ?? channel.MachineGroup,
            Support = m.Support ?? channel.Support,
        };
    }

    internal static (string Key, Resolved Machine) Resolve(MachineConfig config, int index, GatewayOptions gateway)
    {
        var key = $"{MachinesOptions.SectionName}:{index}";
        var parts = (config.Machine ?? string.Empty).Split('/');
        var machineKey = parts.Length switch
        {
            1 when parts[0].Length > 0 => $"{gateway.Site}/{gateway.Line}/{parts[0]}",
            3 when Array.TrueForAll(parts, p => p.Length > 0) => config.Machine,
            _ => throw new MachineProfileException($"{key}:Machine = '{config.Machine}' is not allowed: use site/line/machine, or a machine name for the gateway's own site and line."),
        };
        var file = config.MachineFile is { Length: > 0 } path ? MachineProfile.Load(path) : null;
        var profile = new MachineProfile
        {
            Name = machineKey,
            Bearing = config.Bearing ?? (config.BearingGeometry is null ? file?.Bearing : null),
            BearingGeometry = config.BearingGeometry ?? (config.Bearing is null ? file?.BearingGeometry : null),
            NominalRpm = config.NominalRpm ?? file?.NominalRpm,
            MachineGroup = config.MachineGroup ?? file?.MachineGroup,
            Support = config.Support ?? file?.Support,
        };
        if (profile.NominalRpm is { } rpm && !(rpm > 0 && rpm < 1_000_000))
        {
            throw new MachineProfileException($"{key}:NominalRpm = {rpm} is not allowed: use a positive number of revolutions per minute.");
        }

        return (machineKey!, new Resolved(profile.ResolveBearing(key), profile.NominalRpm, profile.MachineGroup, profile.Support));
    }

    internal sealed record Resolved(BearingGeometry? Bearing, double? NominalRpm, IsoMachineGroup? Group, IsoSupport? Support);
}

/// <summary>Checks every machine entry before start: the message names the key and what is allowed.</summary>
public sealed class MachinesOptionsValidator(IOptions<GatewayOptions> gateway) : IValidateOptions<MachinesOptions>
{
    public ValidateOptionsResult Validate(string? name, MachinesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Machines.Count; i++)
        {
            try
            {
                var (key, _) = MachineCatalog.Resolve(options.Machines[i], i, gateway.Value);
                if (!seen.Add(key))
                {
                    failures.Add($"{MachinesOptions.SectionName}:{i}:Machine = '{key}' is listed twice.");
                }
            }
            catch (MachineProfileException ex)
            {
                failures.Add(ex.Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
