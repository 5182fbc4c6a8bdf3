// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon rm NAME...</c>: frees each box's CID and deletes its directory, whatever its state.</summary>
internal static class RemoveCommand
{
    private static readonly Argument<string[]> NamesArgument = new("NAME") { Description = "The boxes.", Arity = ArgumentArity.OneOrMore };

    private static readonly Option<bool> ForceOption = new("--force", "-f") { Description = "Stop a running box first." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("rm", "Remove boxes (stops at the first failure).") { NamesArgument, ForceOption };
        command.SetAction(parseResult =>
        {
            var force = parseResult.GetValue(ForceOption);
            foreach (var name in parseResult.GetRequiredValue(NamesArgument))
            {
                context.Runtime.RemoveAsync(name, force).GetAwaiter().GetResult();
                context.Out.WriteLine(name);
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}
