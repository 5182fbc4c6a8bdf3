// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon logs NAME</c>: the box's console output (kernel and agent).</summary>
internal static class LogsCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("logs", "Print a box's console log.") { NameArgument };
        command.SetAction(parseResult =>
        {
            var name = context.Boxes.Get(parseResult.GetRequiredValue(NameArgument)).Name;
            var path = context.Paths.ConsoleLog(name);
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                context.Out.Write(reader.ReadToEnd());
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}
