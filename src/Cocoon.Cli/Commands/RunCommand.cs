// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon run [OPTIONS] -- CMD...</c>: create, start, exec, then stop (and remove with --rm).
/// </summary>
/// <remarks>
/// The grammar is <c>docker run</c>'s (<see cref="CommandGrammar"/>): options end at the first
/// word, which is an IMAGE (<c>cocoon run [OPTIONS] IMAGE [COMMAND...]</c>), or at <c>--</c>, after
/// which the command runs in the built-in environment. Until images are supported, an IMAGE is a
/// usage error that shows the <c>--</c> form, so <c>run echo hi</c> never means one thing now and
/// another once images arrive.
/// </remarks>
internal static class RunCommand
{
    private static readonly Option<string> NameOption = new("--name", "-n") { Description = "Box name [default: box-<random hex>]." };
    private static readonly Option<bool> RemoveOption = new("--rm") { Description = "Remove the box when the command exits." };
    private static readonly Option<int?> CpusOption = NumberOption.Create("--cpus", "Virtual CPUs.");
    private static readonly Option<string> MemoryOption = new("--memory", "-m") { Description = "Guest memory: MiB or with a unit (512M, 1G)." };
    private static readonly Option<string[]> VsockPortOption = new("--vsock-port") { Description = "Let the guest reach a host UNIX socket: PORT:PATH (repeatable).", HelpName = "PORT:PATH" };
    private static readonly Argument<string> ImageArgument = new("IMAGE") { Description = "The image (not supported yet: put the command after -- instead).", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new TrailingCommand("run", "Create and start a box, run a command in it (cocoon run [OPTIONS] -- COMMAND...), then stop it; the exit status is the command's (125: cocoon failed, 126: cannot invoke, 127: not found).", leadingWords: 1)
        {
            NameOption, RemoveOption, CpusOption, MemoryOption, VsockPortOption, CreateCommand.PublishOption, CreateCommand.NetworkOption, CreateCommand.VolumeOption,
            ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption, ExecPump.UserOption,
            ImageArgument, CommandArgument,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // Everything is validated before the box exists: a usage error leaves nothing behind.
            var (leading, argv) = CommandGrammar.SplitWords(parseResult);
            if (leading.Count > 0)
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidArgument,
                    $"'{leading[0]}' is read as an IMAGE (cocoon run [OPTIONS] IMAGE [COMMAND...], as docker run), and images are not supported yet; "
                    + $"to run a command in the built-in environment put it after --: cocoon run [OPTIONS] -- {string.Join(' ', leading.Concat(argv))}");
            }

            if (argv.Count == 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, "no command given: cocoon run [OPTIONS] -- COMMAND [ARG...]");
            }

            // The box's main command: its output is also the box's log (cocoon logs), as in docker.
            var request = ExecPump.ToRequest(parseResult, argv) with { LogOutput = true };
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
                File: null,
                Publish: parseResult.GetValue(CreateCommand.PublishOption) ?? [],
                Network: parseResult.GetValue(CreateCommand.NetworkOption),
                Volumes: parseResult.GetValue(CreateCommand.VolumeOption) ?? []));
            string? created = null;
            var remove = parseResult.GetValue(RemoveOption);
            try
            {
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
