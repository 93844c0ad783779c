namespace FactoryEdge.Core;

/// <summary>
/// A measurement point: one sensor location on a machine with its axes (one channel for a uniaxial
/// accelerometer, three for a triaxial one). Channels group by everything in their id but the axis.
/// </summary>
public sealed record MeasurementPoint(string Site, string Line, string Machine, string Sensor, IReadOnlyList<ChannelDescriptor> Axes)
{
    public string Key => $"{Site}/{Line}/{Machine}/{Sensor}";

    /// <summary>Groups channels into measurement points, keeping the order of first appearance.</summary>
    public static IReadOnlyList<MeasurementPoint> Group(IEnumerable<ChannelDescriptor> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        var order = new List<string>();
        var groups = new Dictionary<string, List<ChannelDescriptor>>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            var key = channel.Id.MeasurementPoint;
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
                order.Add(key);
            }

            if (list.Exists(c => c.Id.Axis == channel.Id.Axis))
            {
                throw new ArgumentException($"Measurement point {key} has axis '{channel.Id.Axis}' twice.", nameof(channels));
            }

            list.Add(channel);
        }

        return [.. order.Select(k =>
        {
            var id = groups[k][0].Id;
            return new MeasurementPoint(id.Site, id.Line, id.Machine, id.Sensor, groups[k]);
        })];
    }
}
