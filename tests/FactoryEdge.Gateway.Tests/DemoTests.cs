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
        var code = await DemoCommand.RunAsync(durationSeconds: 24, faultAtSeconds: 12, stdout, CancellationToken.None);
        var text = stdout.ToString();
        Assert.Equal(0, code);
        var alertLines = text.Split('\n').Where(l => l.Contains("ALERT Raised", StringComparison.Ordinal)).ToList();
        Assert.Contains(alertLines, l => l.Contains("/" + DemoCommand.FaultyMachine + "/", StringComparison.Ordinal));
        Assert.DoesNotContain(alertLines, l => l.Contains("/pump-1/", StringComparison.Ordinal) || l.Contains("/fan-2/", StringComparison.Ordinal));
        var summary = text.Split('\n').Single(l => l.TrimStart().StartsWith(DemoCommand.FaultyMachine, StringComparison.Ordinal));
        var after = double.Parse(summary.Split("first alert ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.InRange(after, 0, 10);
    }
}
