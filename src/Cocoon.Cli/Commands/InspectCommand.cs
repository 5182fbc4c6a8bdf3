// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Text.Json;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon inspect NAME</c>: one box as JSON, including <c>"vsock": {"cid", "uds_path"}</c>.</summary>
internal static class InspectCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("inspect", "Show a box's configuration and runtime facts as JSON.") { NameArgument };
        command.SetAction(parseResult =>
        {
            var box = context.Runtime.GetBoxInfo(parseResult.GetRequiredValue(NameArgument));
            context.Out.WriteLine(JsonSerializer.Serialize(BoxView.From(box), CliJsonContext.Default.BoxView));
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
