// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Text.Json;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon inspect NAME...</c>: boxes as JSON, including <c>"vsock": {"cid", "uds_path"}</c>.</summary>
internal static class InspectCommand
{
    private static readonly Argument<string[]> NamesArgument = new("NAME") { Description = "The boxes.", Arity = ArgumentArity.OneOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("inspect", "Show boxes' configuration and runtime facts as JSON (one object; an array for several boxes).") { NamesArgument };
        command.SetAction(parseResult =>
        {
            // Every name is looked up before anything is printed, so a missing box prints no partial JSON.
            var views = parseResult.GetRequiredValue(NamesArgument).Select(name => BoxView.From(context.Runtime.GetBoxInfo(name))).ToList();
            context.Out.WriteLine(views.Count == 1
                ? JsonSerializer.Serialize(views[0], CliJsonContext.Default.BoxView)
                : JsonSerializer.Serialize(views, CliJsonContext.Default.ListBoxView));
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
