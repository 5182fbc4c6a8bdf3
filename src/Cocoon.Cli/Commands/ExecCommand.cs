// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] [--container C] BOX CMD...</c>: runs a command in a
/// running box, or in one of its containers. Options end at BOX (<see cref="CommandGrammar"/>).
/// </summary>
internal static class ExecCommand
{
    private static readonly Argument<string> NameArgument = new("BOX") { Description = "The box." };
    private static readonly ContainerTarget Target = new("The container to run in");
    // Zero or more for the parser, so the validator below can say what is missing in docker's words.
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments.", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new TrailingCommand("exec", "Run a command in a running box; the exit status is the command's (125: cocoon failed, 126: cannot invoke, 127: not found). Options end at BOX.", leadingWords: 1)
        {
            NameArgument, CommandArgument, ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption, ExecPump.UserOption,
        };
        Target.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(NameArgument) is { } box && result.GetValue(CommandArgument) is not { Length: > 0 })
            {
                result.AddError($"exec needs a command to run in box '{box}': cocoon exec [OPTIONS] BOX COMMAND [ARG...]");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var request = ExecPump.ToRequest(parseResult, parseResult.GetRequiredValue(CommandArgument));
            try
            {
                await using var box = context.Runtime.GetBox(parseResult.GetRequiredValue(NameArgument));
                var container = await Target.ResolveAsync(parseResult, context, box, cancellationToken);
                return await ExecPump.RunAsync(box, request with { Container = container }, context.Error, cancellationToken);
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
