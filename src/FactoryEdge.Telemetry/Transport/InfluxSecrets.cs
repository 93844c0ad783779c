namespace FactoryEdge.Telemetry.Transport;

/// <summary>
/// Reads the token or password from a file (first) or an environment variable. The value is only
/// ever passed to the HTTP layer: never logged, never part of a description or an exception message.
/// </summary>
internal static class InfluxSecrets
{
    public static string? Token(InfluxOptions options) => Read(options.TokenFile, options.TokenEnv);

    public static string? Password(InfluxOptions options) => Read(options.PasswordFile, options.PasswordEnv);

    /// <summary>Where the secret came from, for logs ("file /etc/...", "environment variable X", "none").</summary>
    public static string Source(string file, string environmentVariable)
    {
        if (!string.IsNullOrWhiteSpace(file))
        {
            return "file " + file;
        }

        return !string.IsNullOrWhiteSpace(environmentVariable) && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(environmentVariable))
            ? "environment variable " + environmentVariable
            : "none";
    }

    private static string? Read(string file, string environmentVariable)
    {
        if (!string.IsNullOrWhiteSpace(file))
        {
            var text = File.ReadAllText(file).Trim();
            return text.Length == 0 ? null : text;
        }

        if (!string.IsNullOrWhiteSpace(environmentVariable))
        {
            var value = Environment.GetEnvironmentVariable(environmentVariable)?.Trim();
            return string.IsNullOrEmpty(value) ? null : value;
        }

        return null;
    }
}
