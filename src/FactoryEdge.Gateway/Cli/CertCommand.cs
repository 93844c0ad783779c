using System.CommandLine;
using FactoryEdge.OpcUa;
using FactoryEdge.OpcUa.Pki;
using Microsoft.Extensions.Configuration;

namespace FactoryEdge.Gateway.Cli;

/// <summary>
/// <c>factoryedge cert trust|reject|list|show|renew|csr|import</c>: the OPC UA PKI directory
/// (<see cref="CertTool"/>). The directory is <c>--pki</c>, else <c>FactoryEdge:OpcUa:PkiDirectory</c> of
/// the configuration (<c>--config</c> or FACTORYEDGE_CONFIG), else the default; <c>renew</c> lists the
/// configured secure servers that must trust the new certificate.
/// </summary>
public static class CertCommand
{
    public static Command Build()
    {
        var command = new Command("cert", "OPC UA certificates and trust: list, show, trust, reject, renew, csr, import.\n" + CertTool.Usage)
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction((parse, ct) => RunAsync([.. parse.UnmatchedTokens], ct));
        return command;
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(words);
        var args = new List<string>(words);
        var configPath = Environment.GetEnvironmentVariable("FACTORYEDGE_CONFIG");
        var at = args.IndexOf("--config");
        if (at >= 0 && at + 1 < args.Count)
        {
            configPath = args[at + 1];
            args.RemoveRange(at, 2);
        }

        string? pki = null;
        var servers = new List<string>();
        if (!string.IsNullOrEmpty(configPath) && File.Exists(configPath))
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(configPath), optional: false, reloadOnChange: false).Build();
            var options = new OpcUaOptions();
            configuration.GetSection(OpcUaOptions.SectionName).Bind(options);
            pki = options.PkiDirectory;
            servers.AddRange(options.Servers
                .Where(static s => !string.Equals(s.SecurityPolicy, "None", StringComparison.OrdinalIgnoreCase))
                .Select(static s => $"{s.Name} ({s.EndpointUrl})"));
        }

        var tool = new CertTool { DefaultPkiDirectory = pki, ConfiguredServers = servers };
        return await tool.RunAsync(args, Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
    }
}
