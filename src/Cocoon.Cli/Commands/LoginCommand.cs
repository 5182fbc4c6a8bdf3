// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon login [-u USER] [--password-stdin] [SERVER]</c>: checks credentials against a registry
/// and stores them in Docker's config.json (mode 0600), where pulls find them.
/// </summary>
internal static class LoginCommand
{
    private static readonly Argument<string> ServerArgument = new("SERVER")
    {
        Description = "The registry host[:port].",
        DefaultValueFactory = _ => "docker.io",
    };

    private static readonly Option<string> UserOption = new("--username", "-u") { Description = "The user name.", Required = true };

    private static readonly Option<bool> PasswordStdinOption = new("--password-stdin") { Description = "Read the password from stdin (the only way: never on the command line)." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("login", "Log in to a registry.") { ServerArgument, UserOption, PasswordStdinOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!parseResult.GetValue(PasswordStdinOption))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, "give the password on stdin with --password-stdin (e.g. echo \"$TOKEN\" | cocoon login -u USER --password-stdin SERVER)");
            }

            // StandardStream, not Console.In: .NET's console would first put a terminal on stdout
            // in keypad-transmit mode and leave it there.
            string password;
            using (var stdin = new StreamReader(new StandardStream(StandardStream.Input)))
            {
                password = (await stdin.ReadToEndAsync(cancellationToken)).TrimEnd('\r', '\n');
            }

            if (password.Length == 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, "--password-stdin: stdin was empty; pipe the password in");
            }

            var server = parseResult.GetRequiredValue(ServerArgument);
            var file = await context.Runtime.Images.LoginAsync(server, parseResult.GetRequiredValue(UserOption), password, cancellationToken);
            context.Out.WriteLine($"Login Succeeded ({server}; credentials stored in {file})");
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
