using FactoryEdge.Core;

namespace FactoryEdge.Signal;

/// <summary>
/// A small catalogue of common bearings, so that <c>bearing=</c> names in recordings and machine
/// files resolve to geometry. Lookup ignores case, spaces, '-' and '_'
/// (<c>SKF_6205-2RS_JEM</c> = <c>skf 6205 2rs jem</c> = <c>6205</c> when the designation is unique).
/// </summary>
public static class BearingCatalog
{
    // Geometry in inches as published by the CWRU Bearing Data Center for its test rig.
    private static readonly BearingGeometry[] Entries =
    [
        new("SKF 6205-2RS JEM", BallCount: 9, BallDiameter: 0.3126, PitchDiameter: 1.537, ContactAngleDegrees: 0),
        new("SKF 6203-2RS JEM", BallCount: 8, BallDiameter: 0.2656, PitchDiameter: 1.122, ContactAngleDegrees: 0),
    ];

    public static IReadOnlyList<BearingGeometry> All => Entries;

    public static bool TryGet(string? name, out BearingGeometry geometry)
    {
        var key = Normalize(name);
        if (key.Length > 0)
        {
            foreach (var entry in Entries)
            {
                var candidate = Normalize(entry.Name);
                if (candidate == key || candidate.StartsWith("skf" + key, StringComparison.Ordinal) || candidate == "skf" + key)
                {
                    geometry = entry;
                    return true;
                }
            }
        }

        geometry = null!;
        return false;
    }

    public static BearingGeometry Get(string name) =>
        TryGet(name, out var geometry)
            ? geometry
            : throw new KeyNotFoundException($"Bearing '{name}' is not in the catalogue. Known: {string.Join(", ", Array.ConvertAll(Entries, e => e.Name))}. Give the geometry (balls, ball and pitch diameter, contact angle) instead.");

    private static string Normalize(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return string.Empty;
        }

        Span<char> buffer = stackalloc char[name.Length];
        var n = 0;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                buffer[n++] = char.ToLowerInvariant(c);
            }
        }

        return new string(buffer[..n]);
    }
}
