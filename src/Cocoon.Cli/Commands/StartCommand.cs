// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon start NAME</c>: boots the box and returns once its agent answers.</summary>
internal static class StartCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("start", "Start a box and wait until it is ready.") { NameArgument };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            using (var signals = new SignalCancellation(cancellationToken))
            {
                await context.Runtime.StartAsync(name, signals.Token);
            }

            context.Out.WriteLine(name);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
