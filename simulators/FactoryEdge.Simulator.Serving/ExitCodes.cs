namespace FactoryEdge.Simulator;

/// <summary>Exit codes of <c>factoryedge-sim</c> (documented in docs/simulators.md).</summary>
internal static class ExitCodes
{
    /// <summary>Stopped cleanly (Ctrl+C, SIGTERM, <c>quit</c>, stdin closed with <c>--exit-on-eof</c>).</summary>
    public const int Ok = 0;

    /// <summary>An unexpected failure while running.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line: unknown option, bad value, bad machine spec or config content.</summary>
    public const int Usage = 2;

    /// <summary>An input file cannot be used: missing, unreadable or corrupt recording or config file.</summary>
    public const int BadInput = 3;

    /// <summary>The server cannot listen (address in use, not a local address, no permission).</summary>
    public const int CannotListen = 4;

    /// <summary><c>record</c>: the OPC UA server's certificate was refused (not trusted, expired, wrong host); stderr gives its thumbprint and the trust command.</summary>
    public const int Certificate = 5;
}

/// <summary>A problem with what the user gave; the message names the option or file. Ends the process with <see cref="ExitCode"/>.</summary>
internal sealed class SimulatorUsageException : Exception
{
    public SimulatorUsageException(string message, int exitCode = ExitCodes.Usage)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public SimulatorUsageException()
        : this("bad usage")
    {
    }

    public SimulatorUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Usage;
    }

    public int ExitCode { get; }
}
