using System.Globalization;

namespace FactoryEdge.Simulator.Machines;

/// <summary>The progress line of a served machine (long replays), shared by every transport.</summary>
internal static class ReplayProgress
{
    /// <summary>Blocks in one pass of a recording (0 for the generator), as <see cref="RecordingBlockSource"/> counts them.</summary>
    public static int BlocksPerPass(MachineDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var length = definition.RecordingSamples.Length;
        return definition.Generator is not null || length < definition.BlockSize ? 0 : ((length - definition.BlockSize) / definition.StrideSamples) + 1;
    }

    /// <summary>
    /// <c>progress NAME: block 120/266  45.1 % (pass 2), 9.6/21.3 s</c> for a recording;
    /// <c>progress NAME: block 120, 9.6 s of signal</c> for the generator.
    /// </summary>
    public static string Line(MachineDefinition definition, in MachineReadings readings)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var perPass = BlocksPerPass(definition);
        if (perPass == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"progress {definition.Name}: block {readings.Blocks}, {readings.Blocks * definition.PeriodSeconds:0.0} s of signal");
        }

        var blocks = Math.Max(1, readings.Blocks);
        var pass = ((blocks - 1) / perPass) + 1;
        var inPass = ((blocks - 1) % perPass) + 1;
        var state = readings.Ended ? " (ended)" : definition.Loop ? $" (pass {pass})" : "";
        return string.Create(CultureInfo.InvariantCulture, $"progress {definition.Name}: block {inPass}/{perPass} {100.0 * inPass / perPass,5:0.0} %{state}, {inPass * definition.PeriodSeconds:0.0}/{perPass * definition.PeriodSeconds:0.0} s");
    }
}
