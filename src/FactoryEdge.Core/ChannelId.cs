namespace FactoryEdge.Core;

/// <summary>
/// Identity of one measured signal: where it is (site, line, machine), which sensor (a measurement
/// point) and which axis of that sensor. Triaxial sensors have three channels that share the first
/// four parts and differ by <see cref="Axis"/>.
/// </summary>
public sealed record ChannelId(string Site, string Line, string Machine, string Sensor, string Axis)
{
    /// <summary>The measurement point (site/line/machine/sensor) this channel belongs to.</summary>
    public string MeasurementPoint => $"{Site}/{Line}/{Machine}/{Sensor}";

    /// <summary>Site/line/machine, the key alerts are grouped by.</summary>
    public string MachineKey => $"{Site}/{Line}/{Machine}";

    public override string ToString() => $"{Site}/{Line}/{Machine}/{Sensor}/{Axis}";

    /// <summary>Parses <c>site/line/machine/sensor/axis</c>.</summary>
    public static ChannelId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length != 5 || Array.Exists(parts, string.IsNullOrWhiteSpace))
        {
            throw new FormatException($"Channel id '{text}' must have the form site/line/machine/sensor/axis with five non-empty parts.");
        }

        return new ChannelId(parts[0], parts[1], parts[2], parts[3], parts[4]);
    }
}
