using System.Text.Json;
using System.Text.Json.Serialization;
using FactoryEdge.Core;
using FactoryEdge.Signal;

namespace FactoryEdge.Gateway;

/// <summary>
/// What the features need to know about a machine: bearing (catalogue name or geometry), nominal
/// speed, ISO 20816-3 group and support. Read from a machine file in <c>config/machines/</c>.
/// </summary>
public sealed record MachineProfile
{
    public string? Name { get; init; }

    /// <summary>Catalogue name (see <see cref="BearingCatalog"/>), used when <see cref="BearingGeometry"/> is absent.</summary>
    public string? Bearing { get; init; }

    public BearingGeometryJson? BearingGeometry { get; init; }

    public double? NominalRpm { get; init; }

    public IsoMachineGroup? MachineGroup { get; init; }

    public IsoSupport? Support { get; init; }

    public BearingGeometry? ResolveBearing(string source)
    {
        if (BearingGeometry is { } g)
        {
            var geometry = new BearingGeometry(g.Name ?? Bearing ?? "custom", g.BallCount, g.BallDiameter, g.PitchDiameter, g.ContactAngleDegrees);
            var problem = geometry.Validate();
            return problem is null ? geometry : throw new MachineProfileException($"{source}: BearingGeometry: {problem}");
        }

        if (Bearing is { Length: > 0 } name)
        {
            return BearingCatalog.TryGet(name, out var found)
                ? found
                : throw new MachineProfileException($"{source}: Bearing '{name}' is not in the catalogue (known: {string.Join(", ", BearingCatalog.All.Select(b => b.Name))}); give BearingGeometry instead.");
        }

        return null;
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    public static MachineProfile Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var profile = JsonSerializer.Deserialize<MachineProfile>(stream, JsonOptions)
                ?? throw new MachineProfileException($"{path}: empty machine file");
            if (profile.NominalRpm is { } rpm && !(rpm > 0 && rpm < 1_000_000))
            {
                throw new MachineProfileException($"{path}: NominalRpm must be a positive number of revolutions per minute (was {rpm}).");
            }

            profile.ResolveBearing(path);
            return profile;
        }
        catch (JsonException ex)
        {
            throw new MachineProfileException($"{path}: {ex.Message} (allowed keys: Name, Bearing, BearingGeometry {{Name, BallCount, BallDiameter, PitchDiameter, ContactAngleDegrees}}, NominalRpm, MachineGroup [Group1|Group2], Support [Rigid|Flexible])", ex);
        }
        catch (IOException ex)
        {
            throw new MachineProfileException($"{path}: cannot read the machine file: {ex.Message}", ex);
        }
    }
}

public sealed record BearingGeometryJson(string? Name, int BallCount, double BallDiameter, double PitchDiameter, double ContactAngleDegrees);

public sealed class MachineProfileException : Exception
{
    public MachineProfileException()
    {
    }

    public MachineProfileException(string message)
        : base(message)
    {
    }

    public MachineProfileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
