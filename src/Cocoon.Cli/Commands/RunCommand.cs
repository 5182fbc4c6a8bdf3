// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon run [--name N] [--rm] [-i] [-t] [-e K=V] [-w DIR] [--vsock-port P:PATH] [--cpus N]
/// [--memory M] -- CMD...</c>: create, start, exec, then stop (and remove with --rm).
/// </summary>
internal static class RunCommand
{
    private static readonly Option<string> NameOption = new("--name", "-n") { Description = "Box name [default: box-<random hex>]." };
    private static readonly Option<bool> RemoveOption = new("--rm") { Description = "Remove the box when the command exits." };
    private static readonly Option<int?> CpusOption = new("--cpus") { Description = "Virtual CPUs." };
    private static readonly Option<string> MemoryOption = new("--memory", "-m") { Description = "Guest memory: MiB or with a unit (512M, 1G)." };
    private static readonly Option<string[]> VsockPortOption = new("--vsock-port") { Description = "Let the guest reach a host UNIX socket: PORT:PATH (repeatable).", HelpName = "PORT:PATH" };
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments.", Arity = ArgumentArity.OneOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("run", "Create and start a box, run a command in it, then stop it; the exit status is the command's (125: cocoon failed).")
        {
            NameOption, RemoveOption, CpusOption, MemoryOption, VsockPortOption,
            ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption, CommandArgument,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string? created = null;
            var remove = parseResult.GetValue(RemoveOption);
            try
            {
                var request = ExecPump.ToRequest(parseResult, parseResult.GetRequiredValue(CommandArgument));
                var config = CreateCommand.ToConfig(new CreateCommand.Arguments(
                    parseResult.GetValue(NameOption) ?? CocoonRuntime.GenerateName(),
                    Image: null,
                    parseResult.GetValue(CpusOption),
                    parseResult.GetValue(MemoryOption),
                    parseResult.GetValue(VsockPortOption) ?? [],
                    SupportDocker: false,
                    Entrypoint: null,
                    Cmd: [],
                    Env: [],
                    File: null));
                created = context.Boxes.Create(config).Name;
                Box box;
                try
                {
                    using var signals = new SignalCancellation(cancellationToken);
                    box = await context.Runtime.StartAndOpenAsync(created, signals.Token);
                }
                catch (OperationCanceledException)
                {
                    remove = true;
                    context.Error.WriteLine($"error: interrupted while starting box '{created}'");
                    return (int)ExitCode.RunFailed;
                }
                catch
                {
                    remove = true;
                    throw;
                }

                int status;
                await using (box)
                {
                    status = await ExecPump.RunAsync(box, request, context.Error, cancellationToken);
                }

                await context.Runtime.StopAsync(created, TimeSpan.FromSeconds(10), CancellationToken.None);
                return status;
            }
            catch (CocoonException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return (int)ExitCode.RunFailed;
            }
            finally
            {
                if (created is not null && remove)
                {
                    try
                    {
                        await context.Runtime.RemoveAsync(created, force: true, CancellationToken.None);
                    }
                    catch (CocoonException e)
                    {
                        context.Error.WriteLine($"error: removing box '{created}': {e.Message}");
                    }
                }
            }
        });
        return command;
    }
}
