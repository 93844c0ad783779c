using Microsoft.Extensions.Logging;

namespace FactoryEdge.Simulator;

/// <summary>Log messages of the simulator CLI (event ids 61xx). Logs go to stderr; stdout carries the ready line and control replies.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Machine {Name} on unit {Unit}: {Description}; block of {BlockSize} samples every {PeriodMs:0.###} ms")]
    public static partial void MachineServed(ILogger logger, string name, int unit, string description, int blockSize, double periodMs);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Replay of machine {Name} ended after {Blocks} blocks (no --loop); the last block stays")]
    public static partial void ReplayEnded(ILogger logger, string name, long blocks);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Control: '{Command}' -> {Reply}")]
    public static partial void ControlCommand(ILogger logger, string command, string reply);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Standard input closed: {Consequence}")]
    public static partial void InputClosed(ILogger logger, string consequence);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Information, Message = "Stopping: {Reason}")]
    public static partial void Stopping(ILogger logger, string reason);

    [LoggerMessage(EventId = 6105, Level = LogLevel.Error, Message = "The simulator failed")]
    public static partial void Failed(ILogger logger, Exception exception);
}
