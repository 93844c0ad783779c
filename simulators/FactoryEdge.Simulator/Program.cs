using System.CommandLine;
using System.Runtime.InteropServices;
using FactoryEdge.Simulator.Cli;

namespace FactoryEdge.Simulator;

/// <summary>
/// <c>factoryedge-sim</c>: serves simulated machines over the wire. One subcommand per transport
/// (<c>modbus</c>, <c>opcua</c>, sharing <see cref="MachineOptions"/>) and <c>record</c>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = BuildCommandLine(Console.In, Console.Out, Console.Error, TimeProvider.System);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"factoryedge-sim: {problem.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Try 'factoryedge-sim --help' or 'factoryedge-sim modbus --help' / 'opcua --help'.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Ctrl+C / SIGTERM: stop serving, close connections, exit 0. A second signal terminates at once.
        using var stop = new CancellationTokenSource();
        Action<PosixSignalContext> handler = context =>
        {
            if (!stop.IsCancellationRequested)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        };
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, handler);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, handler);
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token).ConfigureAwait(false);
    }

    internal static RootCommand BuildCommandLine(TextReader input, TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var root = new RootCommand("FactoryEdge simulators: serve machines — from the physics-based generator or from recordings — over Modbus TCP and OPC UA. See docs/simulators.md.");
        root.Subcommands.Add(ModbusCommand.Build(input, output, error, timeProvider));
        root.Subcommands.Add(OpcUaCommand.Build(input, output, error, timeProvider));
        root.Subcommands.Add(RecordCommand.Build(output, error, timeProvider));
        return root;
    }
}
