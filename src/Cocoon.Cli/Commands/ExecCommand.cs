// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] BOX CMD...</c>: runs a command in a running
/// box. Options end at BOX (<see cref="CommandGrammar"/>).
/// </summary>
internal static class ExecCommand
{
    private static readonly Argument<string> NameArgument = new("BOX") { Description = "The box." };
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments.", Arity = ArgumentArity.OneOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new TrailingCommand("exec", "Run a command in a running box; the exit status is the command's (125: cocoon failed, 126: cannot invoke, 127: not found). Options end at BOX.", leadingWords: 1)
        {
            NameArgument, CommandArgument, ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption, ExecPump.UserOption,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var request = ExecPump.ToRequest(parseResult, parseResult.GetRequiredValue(CommandArgument));
            try
            {
                await using var box = context.Runtime.GetBox(parseResult.GetRequiredValue(NameArgument));
                return await ExecPump.RunAsync(box, request, context.Error, cancellationToken);
            }
            catch (CocoonException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return (int)ExitCode.RunFailed;
            }
        });
        return command;
    }
}
