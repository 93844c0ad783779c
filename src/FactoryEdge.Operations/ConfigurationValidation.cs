using FactoryEdge.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FactoryEdge.Operations;

/// <summary>
/// Validates a configuration exactly as the service would at start, without starting anything:
/// every options section through its validator (unknown keys included), then every sensor source
/// is constructed and channel ids are checked for duplicates. Used by configuration reload (before
/// anything changes) and by <c>factoryedge config check</c>.
/// </summary>
public static class ConfigurationValidation
{
    /// <summary>The problems found, one line each naming the key; empty when the configuration is valid.</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration, GatewayRegistrar registrar)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(registrar);
        var failures = new List<string>();
        ServiceProvider? provider = null;
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton(new NestedGatewayMarker());
            services.AddSingleton(configuration);
            services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
            services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            services.AddSingleton(TimeProvider.System);
            services.AddSingleton<IHostEnvironment>(new HostingEnvironment
            {
                ApplicationName = "factoryedge",
                EnvironmentName = Environments.Production,
                ContentRootPath = AppContext.BaseDirectory,
                ContentRootFileProvider = new NullFileProvider(),
            });
            services.AddOptions();
            registrar(services, configuration);
            provider = services.BuildServiceProvider();
            provider.GetService<IStartupValidator>()?.Validate();

            var seen = new HashSet<ChannelId>();
            foreach (var source in provider.GetServices<ISensorSource>())
            {
                foreach (var channel in source.Channels)
                {
                    if (!seen.Add(channel.Id))
                    {
                        failures.Add($"Channel {channel.Id} is declared twice (again by source '{source.Name}'): channel ids must be unique.");
                    }
                }
            }
        }
        catch (Exception ex)
        {
            Collect(ex, failures);
        }
        finally
        {
            if (provider is not null)
            {
                // Sources may hold nothing yet, but dispose what was built.
                provider.Dispose();
            }
        }

        return failures;
    }

    /// <summary>
    /// A new configuration read from the same sources as <paramref name="running"/> (files read again,
    /// environment variables, in-memory overrides), in the same order. Throws on unreadable JSON.
    /// </summary>
    public static IConfigurationRoot Reread(IConfiguration running)
    {
        ArgumentNullException.ThrowIfNull(running);
        if (running is not IConfigurationBuilder builder)
        {
            throw new ArgumentException("The configuration does not expose its sources.", nameof(running));
        }

        var fresh = new ConfigurationBuilder();
        foreach (var source in builder.Sources)
        {
            fresh.Add(source);
        }

        return fresh.Build();
    }

    /// <summary>Full paths of the JSON files a configuration reads (optional ones too).</summary>
    public static IReadOnlyList<string> Files(IConfiguration configuration)
    {
        if (configuration is not IConfigurationBuilder builder)
        {
            return [];
        }

        var files = new List<string>();
        foreach (var source in builder.Sources.OfType<FileConfigurationSource>())
        {
            if (source.Path is null)
            {
                continue;
            }

            var root = (source.FileProvider as PhysicalFileProvider)?.Root;
            files.Add(root is null ? Path.GetFullPath(source.Path) : Path.GetFullPath(Path.Combine(root, source.Path)));
        }

        return files;
    }

    /// <summary>Adds an optional JSON file after the last JSON file (so environment variables still win). No-op when already present.</summary>
    public static void InsertJsonFileAfterLastFile(IConfigurationBuilder builder, string fullPath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var sources = builder.Sources;
        if (Files((IConfiguration)builder).Contains(fullPath, StringComparer.Ordinal))
        {
            return;
        }

        var index = 0;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is FileConfigurationSource)
            {
                index = i + 1;
            }
        }

        var directory = Path.GetDirectoryName(fullPath)!;
        var source = new JsonConfigurationSource
        {
            Path = Path.GetFileName(fullPath),
            Optional = true,
            ReloadOnChange = false,
            FileProvider = Directory.Exists(directory) ? new PhysicalFileProvider(directory) : null,
        };
        if (source.FileProvider is null)
        {
            source.Path = fullPath;
            source.ResolveFileProvider();
        }

        sources.Insert(index, source);
    }

    private static void Collect(Exception ex, List<string> failures)
    {
        switch (ex)
        {
            case OptionsValidationException o:
                failures.AddRange(o.Failures);
                break;
            case AggregateException a:
                foreach (var inner in a.InnerExceptions)
                {
                    Collect(inner, failures);
                }

                break;
            case InvalidOperationException { InnerException: { } inner } when inner is FormatException or InvalidOperationException or ArgumentException:
                failures.Add(ex.Message + " " + inner.Message);
                break;
            default:
                failures.Add(ex.Message);
                break;
        }
    }
}
