// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon exec [-i] [-t] [-e K=V] [-w DIR] BOX CMD...</c>: runs a command in a running box.</summary>
internal static class ExecCommand
{
    private static readonly Argument<string> NameArgument = new("BOX") { Description = "The box." };
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments.", Arity = ArgumentArity.OneOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("exec", "Run a command in a running box; its exit status is cocoon's (125: cocoon failed).")
        {
            NameArgument, CommandArgument, ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption,
        };
        command.TreatUnmatchedTokensAsErrors = true;
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var request = ExecPump.ToRequest(parseResult, parseResult.GetRequiredValue(CommandArgument));
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
