using Microsoft.Extensions.Logging;

namespace FactoryEdge.Gateway.Cli;

internal static class CliLogging
{
    /// <summary>Logs for CLI verbs: warnings and above, all to stderr so stdout carries only results.</summary>
    public static ILoggerFactory CreateStderrLoggerFactory(LogLevel minimum = LogLevel.Warning) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(minimum)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true));
}
