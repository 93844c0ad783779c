using System.Globalization;
using FactoryEdge.Gateway.Cli;

namespace FactoryEdge.IntegrationTests.Demo;

/// <summary>
/// The demo end to end: the whole gateway host in process, reading six simulated machines through
/// its real OPC UA and Modbus sources from the in-process simulators (our servers) over loopback
/// sockets. The injected outer-race fault (OPC UA machine motor-3, from 12 s) must raise exactly one
/// alert, on motor-3's channel; the five healthy machines none; and every machine's windows must
/// reach the telemetry store (both transports deliver).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DemoOverTheWireTests
{
    [Fact]
    public async Task Demo_OverOpcUaAndModbus_FaultRaisesExactlyOneAlertOnItsChannelAndHealthyMachinesNone()
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture);
        var store = Path.Combine(Path.GetTempPath(), $"fe-demo-wire-{Guid.NewGuid():N}.db");
        try
        {
            var code = await DemoCommand.RunAsync(durationSeconds: 26, faultAtSeconds: 12, stdout, CancellationToken.None, [
                new("FactoryEdge:Telemetry:Spool:Path", store),

                // Other tests run gateways at the same time: no fixed HTTP ports.
                new("FactoryEdge:Dashboard:Enabled", "false"),
                new("FactoryEdge:Operations:Enabled", "false"),
            ]);
            var text = stdout.ToString();
            Assert.True(code == 0, text);
            var lines = text.Split('\n');
            Assert.Contains(lines, l => l.Contains("OPC UA opc.tcp://127.0.0.1:", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("Modbus TCP 127.0.0.1:", StringComparison.Ordinal));
            var raised = lines.Where(l => l.Contains("ALERT Raised", StringComparison.Ordinal)).ToList();
            var alert = Assert.Single(raised);
            Assert.Contains("plant/line-1/" + DemoCommand.FaultyMachine + "/de/x", alert, StringComparison.Ordinal);

            var machines = DemoCommand.Machines(12);
            Assert.Equal(4, machines.Count(m => m.Transport == DemoTransport.OpcUa));
            Assert.Equal(2, machines.Count(m => m.Transport == DemoTransport.Modbus));
            foreach (var machine in machines)
            {
                var summary = lines.Single(l => l.TrimStart().StartsWith(machine.Name + " ", StringComparison.Ordinal));
                if (machine.Name == DemoCommand.FaultyMachine)
                {
                    Assert.Contains("OPC UA", summary, StringComparison.Ordinal);
                    var after = double.Parse(summary.Split("first alert ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
                    Assert.InRange(after, 0, 10);
                }
                else
                {
                    Assert.Contains("no alert", summary, StringComparison.Ordinal);
                }

                var tail = new StringWriter(CultureInfo.InvariantCulture);
                var tailCode = await FactoryEdge.Telemetry.Cli.TelemetryCommands.TailAsync(new FactoryEdge.Telemetry.Cli.TelemetryTailSettings { SpoolPath = store, Machine = machine.Name, Count = 3 }, tail, TextWriter.Null, CancellationToken.None);
                Assert.Equal(0, tailCode);
                Assert.True(tail.ToString().Contains(machine.Name, StringComparison.Ordinal), $"no telemetry for {machine.Name} ({machine.TransportName}):\n{text}");
            }
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(store)!, Path.GetFileName(store) + "*"))
            {
                File.Delete(file);
            }
        }
    }
}
