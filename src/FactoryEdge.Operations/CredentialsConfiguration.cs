using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace FactoryEdge.Operations;

/// <summary>
/// Secrets as files, never in the configuration files: one file per secret in the credentials
/// directory. On Linux that is systemd's <c>$CREDENTIALS_DIRECTORY</c> (the unit's <c>LoadCredential=</c>:
/// a private, non-swappable, read-only mount only the service user can read); on Windows
/// <c>%ProgramData%\FactoryEdge\credentials</c>, each file DPAPI-protected (<c>NAME.dpapi</c>, machine
/// scope, readable only by the service's virtual account and administrators). A file named like a
/// configuration key with <c>__</c> for <c>:</c> (<c>FactoryEdge__Alerts__Mqtt__Password</c>) sets that
/// key; a file named like an environment variable (<c>FACTORYEDGE_INFLUX_TOKEN</c>) sets that variable
/// for the process (what <c>TokenEnv</c>/<c>PasswordEnv</c> options read). A <c>factoryedge_</c> prefix
/// (systemd's name for files of a credential directory) is dropped. Values are never logged.
/// </summary>
public sealed class CredentialsConfigurationSource : IConfigurationSource
{
    public const string DirectoryVariable = "FACTORYEDGE_CREDENTIALS_DIRECTORY";
    internal const string SystemdPrefix = "factoryedge_";

    public CredentialsConfigurationSource(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>Where credentials are read from: <c>FACTORYEDGE_CREDENTIALS_DIRECTORY</c>, systemd's <c>CREDENTIALS_DIRECTORY</c>, or on Windows <c>%ProgramData%\FactoryEdge\credentials</c> (null: none).</summary>
    public static string? DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } explicitDirectory)
        {
            return explicitDirectory;
        }

        if (Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") is { Length: > 0 } systemd)
        {
            return systemd;
        }

        if (OperatingSystem.IsWindows())
        {
            var data = Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData);
            var dir = Path.Combine(data, "FactoryEdge", "credentials");
            return System.IO.Directory.Exists(dir) ? dir : null;
        }

        return null;
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new CredentialsConfigurationProvider(Directory);
}

internal sealed class CredentialsConfigurationProvider(string directory) : ConfigurationProvider
{
    /// <summary>Entropy mixed into DPAPI so that other applications' blobs are not accepted (and ours not theirs).</summary>
    internal static readonly byte[] Entropy = "FactoryEdge credential v1"u8.ToArray();

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!Directory.Exists(directory))
        {
            Data = data;
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.'))
            {
                continue;
            }

            string value;
            if (name.EndsWith(".dpapi", StringComparison.OrdinalIgnoreCase))
            {
                if (!OperatingSystem.IsWindows())
                {
                    continue;
                }

                name = name[..^".dpapi".Length];
                value = Unprotect(File.ReadAllBytes(file));
            }
            else
            {
                value = File.ReadAllText(file, Encoding.UTF8);
            }

            value = value.TrimEnd('\r', '\n');
            if (name.StartsWith(CredentialsConfigurationSource.SystemdPrefix, StringComparison.Ordinal))
            {
                name = name[CredentialsConfigurationSource.SystemdPrefix.Length..];
            }

            if (name.Contains("__", StringComparison.Ordinal))
            {
                data[name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = value;
            }
            else if (IsEnvironmentName(name))
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        Data = data;
    }

    internal static bool IsEnvironmentName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(static c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');

    [SupportedOSPlatform("windows")]
    internal static byte[] Protect(string value) => ProtectedData.Protect(Encoding.UTF8.GetBytes(value), Entropy, DataProtectionScope.LocalMachine);

    [SupportedOSPlatform("windows")]
    private static string Unprotect(byte[] blob) => Encoding.UTF8.GetString(ProtectedData.Unprotect(blob, Entropy, DataProtectionScope.LocalMachine));
}
