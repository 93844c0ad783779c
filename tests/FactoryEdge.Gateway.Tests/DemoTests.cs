using System.Globalization;
using FactoryEdge.Gateway.Cli;

namespace FactoryEdge.Gateway.Tests;

[Trait("Category", "Demo")]
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_FaultAt12Seconds_AlertsOnFaultyMachineWithin10SecondsAndNotOnHealthyOnes()
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture);
        var store = Path.Combine(Path.GetTempPath(), $"fe-demo-{Guid.NewGuid():N}.db");
        var code = await DemoCommand.RunAsync(durationSeconds: 24, faultAtSeconds: 12, stdout, CancellationToken.None, [new("FactoryEdge:Telemetry:Spool:Path", store)]);
        var text = stdout.ToString();
        Assert.Equal(0, code);
        var alertLines = text.Split('\n').Where(l => l.Contains("ALERT Raised", StringComparison.Ordinal)).ToList();
        Assert.Contains(alertLines, l => l.Contains("/" + DemoCommand.FaultyMachine + "/", StringComparison.Ordinal));
        Assert.DoesNotContain(alertLines, l => l.Contains("/pump-1/", StringComparison.Ordinal) || l.Contains("/fan-2/", StringComparison.Ordinal));
        var summary = text.Split('\n').Single(l => l.TrimStart().StartsWith(DemoCommand.FaultyMachine, StringComparison.Ordinal));
        var after = double.Parse(summary.Split("first alert ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.InRange(after, 0, 10);

        // Telemetry went to the embedded store by default: windows and the alert are there.
        Assert.Contains(store, text, StringComparison.Ordinal);
        var tail = new StringWriter(CultureInfo.InvariantCulture);
        var tailCode = await Telemetry.Cli.TelemetryCommands.TailAsync(new Telemetry.Cli.TelemetryTailSettings { SpoolPath = store, Machine = DemoCommand.FaultyMachine, Count = 5 }, tail, TextWriter.Null, CancellationToken.None);
        Assert.Equal(0, tailCode);
        Assert.Contains(DemoCommand.FaultyMachine, tail.ToString(), StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(store)!, Path.GetFileName(store) + "*"))
        {
            File.Delete(file);
        }
    }
}
