using System.CommandLine;
using FactoryEdge.Gateway.Hosting;
using FactoryEdge.Operations;
using Microsoft.Extensions.Configuration;

namespace FactoryEdge.Gateway.Cli;

/// <summary>
/// <c>factoryedge config check FILE [--site FILE] [--env] [--credentials DIR]</c>: validates a configuration offline exactly as
/// the service would at start (every section and its validator, unknown keys, sources constructed,
/// duplicate channels) and prints OK or one line per problem naming the key. Nothing is started and
/// no device is contacted. Exit code 0 when valid, 4 when not, 3 when a file cannot be read.
/// </summary>
public static class ConfigCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("FILE") { Description = "The configuration file to check (e.g. /etc/factoryedge/appsettings.json)." };
        var site = new Option<string?>("--site") { Description = "A site override file to lay over FILE, as the service does with site.json." };
        var env = new Option<bool>("--env") { Description = "Also apply FACTORYEDGE__ environment variables, as the service does." };
        var credentials = new Option<string?>("--credentials") { Description = "A credentials folder (secret files, e.g. /etc/factoryedge/credentials) laid over everything, as the service does." };
        var check = new Command("check", "Validate a configuration file offline, as the service would at start; print OK or one line per problem.") { file, site, env, credentials };
        check.SetAction((parse, ct) => CheckAsync(parse.GetValue(file)!, parse.GetValue(site), parse.GetValue(env), Console.Out, Console.Error, ct, parse.GetValue(credentials)));
        var config = new Command("config", "Configuration tools: check.");
        config.Subcommands.Add(check);
        return config;
    }

    public static async Task<int> CheckAsync(string path, string? sitePath, bool environment, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, string? credentialsDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        foreach (var f in new[] { path, sitePath })
        {
            if (f is not null && !File.Exists(f))
            {
                await stderr.WriteLineAsync($"configuration error: file '{f}' not found.").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }
        }

        IConfigurationRoot configuration;
        try
        {
            var builder = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
            if (sitePath is not null)
            {
                builder.AddJsonFile(Path.GetFullPath(sitePath), optional: false, reloadOnChange: false);
            }

            if (environment)
            {
                builder.AddEnvironmentVariables("FACTORYEDGE__");
            }

            if (credentialsDirectory is not null)
            {
                builder.Add(new CredentialsConfigurationSource(credentialsDirectory));
            }

            configuration = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or System.Text.Json.JsonException)
        {
            await stderr.WriteLineAsync("configuration error: " + ex.Message + (ex.InnerException is { } inner ? " " + inner.Message : "")).ConfigureAwait(false);
            return ExitCodes.BadConfig;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var failures = ConfigurationValidation.Validate(configuration, static (s, c) => s.AddFactoryEdgeGateway(c));
        if (failures.Count == 0)
        {
            await stdout.WriteLineAsync($"OK: {path}{(sitePath is null ? "" : " + " + sitePath)} is valid.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        foreach (var failure in failures)
        {
            await stderr.WriteLineAsync("configuration error: " + failure).ConfigureAwait(false);
        }

        return ExitCodes.BadConfig;
    }
}
