// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon rmi [-f] REF...</c>: removes images; one a box was created from only with -f.</summary>
internal static class RemoveImageCommand
{
    private static readonly Argument<string[]> ReferencesArgument = new("REF") { Description = "The images (reference or digest).", Arity = ArgumentArity.OneOrMore };

    private static readonly Option<bool> ForceOption = new("--force", "-f") { Description = "Remove even an image boxes were created from." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("rmi", "Remove images (stops at the first failure).") { ReferencesArgument, ForceOption };
        command.SetAction(parseResult =>
        {
            var force = parseResult.GetValue(ForceOption);
            foreach (var reference in parseResult.GetRequiredValue(ReferencesArgument))
            {
                var removed = context.Runtime.Images.Remove(reference, force);
                context.Out.WriteLine($"Untagged: {removed.Reference}");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}
