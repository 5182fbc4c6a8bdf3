// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon supervise NAME</c> (hidden): the per-box supervisor that <c>start</c> and <c>run</c>
/// launch detached. It runs synchronously on the main thread (QEMU's PDEATHSIG is tied to it).
/// </summary>
internal static class SuperviseCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command(CocoonRuntime.SupervisorCommand, "Run a box's supervisor (internal).") { NameArgument };
        command.Hidden = true;
        command.SetAction(parseResult =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            using var loggerFactory = context.CreateLoggerFactory(toStandardError: false);
            return context.Runtime.RunSupervisor(name, loggerFactory);
        });
        return command;
    }
}
