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
        var command = new Command("rm", "Remove boxes; each that cannot be removed is reported and the rest are still removed.") { NamesArgument, ForceOption };
        command.SetAction(parseResult =>
        {
            var force = parseResult.GetValue(ForceOption);
            ExitCode? failed = null;
            foreach (var name in parseResult.GetRequiredValue(NamesArgument))
            {
                try
                {
                    context.Runtime.RemoveAsync(name, force).GetAwaiter().GetResult();
                    context.Out.WriteLine(name);
                }
                catch (CocoonException e)
                {
                    // As docker rm: report this one, go on with the others, exit with the first failure's code.
                    context.Error.WriteLine($"error: {e.Message}");
                    failed ??= ExitCodes.From(e.Code);
                }
            }

            return (int)(failed ?? ExitCode.Ok);
        });
        return command;
    }
}
