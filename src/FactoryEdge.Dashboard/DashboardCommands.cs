using System.CommandLine;

namespace FactoryEdge.Dashboard;

/// <summary>
/// <c>factoryedge dashboard hash-password | new-token</c>: the secrets for <c>FactoryEdge:Dashboard</c>.
/// The password is read from standard input (one line; prompted without echo on a terminal) so that it
/// never appears in the shell history or the process list.
/// </summary>
public static class DashboardCommands
{
    public static Command Build()
    {
        var command = new Command("dashboard", "Dashboard secrets: hash-password (users), new-token (bearer tokens for scripts).");

        var iterations = new Option<int>("--iterations") { Description = "PBKDF2-SHA256 iterations (default 600000, at least 100000).", DefaultValueFactory = _ => PasswordHasher.DefaultIterations };
        var hash = new Command("hash-password", "Read a password from standard input and print its PBKDF2 hash for FactoryEdge:Dashboard:Users:N:PasswordHash.") { iterations };
        hash.SetAction((parse, ct) => HashPasswordAsync(parse.GetValue(iterations), Console.In, Console.Out, Console.Error, !Console.IsInputRedirected, ct));
        command.Subcommands.Add(hash);

        var name = new Option<string>("--name") { Description = "Name of the token (shown in the audit log).", DefaultValueFactory = _ => "script" };
        var role = new Option<string>("--role") { Description = "viewer or operator.", DefaultValueFactory = _ => "viewer" };
        var token = new Command("new-token", "Create a random bearer token: prints the token (give it to the script) and the configuration entry (keeps only its SHA-256).") { name, role };
        token.SetAction((parse, ct) => NewTokenAsync(parse.GetValue(name)!, parse.GetValue(role)!, Console.Out, Console.Error, ct));
        command.Subcommands.Add(token);
        return command;
    }

    public static async Task<int> HashPasswordAsync(int iterations, TextReader input, TextWriter output, TextWriter error, bool interactive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (iterations < PasswordHasher.MinimumIterations)
        {
            await error.WriteLineAsync($"error: --iterations must be at least {PasswordHasher.MinimumIterations}.").ConfigureAwait(false);
            return 2;
        }

        string? password;
        if (interactive)
        {
            password = ReadHidden("Password: ", error);
            var again = ReadHidden("Again: ", error);
            if (password != again)
            {
                await error.WriteLineAsync("error: the passwords differ.").ConfigureAwait(false);
                return 1;
            }
        }
        else
        {
            password = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }

        if (string.IsNullOrEmpty(password) || password.Length < 8)
        {
            await error.WriteLineAsync("error: the password must have at least 8 characters.").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync(PasswordHasher.Hash(password, iterations)).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> NewTokenAsync(string name, string role, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!Enum.TryParse<DashboardRole>(role, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
        {
            await error.WriteLineAsync($"error: --role is '{role}'; allowed: viewer, operator.").ConfigureAwait(false);
            return 2;
        }

        var token = TokenHasher.NewToken();
        await output.WriteLineAsync("token (give it to the script; it is not stored): " + token).ConfigureAwait(false);
        await output.WriteLineAsync("configuration entry for FactoryEdge:Dashboard:Tokens:").ConfigureAwait(false);
        await output.WriteLineAsync($"{{ \"Name\": \"{name}\", \"Role\": \"{parsed}\", \"Sha256\": \"{TokenHasher.Sha256Hex(token)}\" }}").ConfigureAwait(false);
        return 0;
    }

    private static string ReadHidden(string prompt, TextWriter error)
    {
        error.Write(prompt);
        var text = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                error.WriteLine();
                return text.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }

                continue;
            }

            text.Append(key.KeyChar);
        }
    }
}
