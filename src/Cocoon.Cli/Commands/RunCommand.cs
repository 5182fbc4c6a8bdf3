// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon run</c>, with <c>docker run</c>'s grammar (<see cref="CommandGrammar"/>): options end at
/// the first word, the IMAGE, or at <c>--</c>.
/// <code>
///  run [OPTIONS] IMAGE [COMMAND...]        a new box with the image; one container in it (pulled when missing)
///  run --box BOX [OPTIONS] IMAGE [...]     another container in a running box of that image
///  run [OPTIONS] -- COMMAND...             a new box; the command in its built-in environment
/// </code>
/// A new box is stopped when its command or container exits (and removed with --rm); with -d it
/// keeps running and its name (or, with --box, the container's) is printed.
/// </summary>
internal static class RunCommand
{
    private static readonly Option<string> NameOption = new("--name", "-n") { Description = "Box name [default: box-<random hex>]; with --box, the container's name." };
    private static readonly Option<string> BoxOption = new("--box") { Description = "Run the container in this running box (of the same image) instead of a new one." };
    private static readonly Option<bool> RemoveOption = new("--rm") { Description = "Remove the box (with --box: the container) when the command exits." };
    private static readonly Option<bool> DetachOption = new("--detach", "-d") { Description = "Run an image's container in the background and print the box's name (with --box: the container's)." };
    private static readonly Option<string> EntrypointOption = new("--entrypoint") { Description = "Replace the image ENTRYPOINT (\"\" clears it); clears CMD." };
    private static readonly Option<string[]> CmdOption = new("--cmd") { Description = "Replace the image CMD, one argument per flag (repeatable); keeps ENTRYPOINT." };
    private static readonly Option<int?> CpusOption = NumberOption.Create("--cpus", "Virtual CPUs.");
    private static readonly Option<string> MemoryOption = new("--memory", "-m") { Description = "Guest memory: MiB or with a unit (512M, 1G)." };
    private static readonly Option<string[]> VsockPortOption = new("--vsock-port") { Description = "Let the guest reach a host UNIX socket: PORT:PATH (repeatable).", HelpName = "PORT:PATH" };
    private static readonly Option<string[]> MountOption = new("--mount") { Description = "A host UNIX socket seen in the container: type=uds,source=HOST_SOCKET,destination=PATH (repeatable).", HelpName = "type=uds,source=HOST_SOCKET,destination=PATH" };
    private static readonly Argument<string> ImageArgument = new("IMAGE") { Description = "The image to run a container of; leave it out and put the command after -- for the built-in environment.", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Argument<string[]> CommandArgument = new("COMMAND") { Description = "The command and its arguments (after IMAGE they replace the image's CMD).", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new TrailingCommand("run", "Run an image's container in a new box (cocoon run [OPTIONS] IMAGE [COMMAND...]), or a command in a new box's built-in environment (cocoon run [OPTIONS] -- COMMAND...); the exit status is the command's (125: cocoon failed, 126: cannot invoke, 127: not found).", leadingWords: 1)
        {
            NameOption, BoxOption, RemoveOption, DetachOption, EntrypointOption, CmdOption, CpusOption, MemoryOption, CreateCommand.DiskSizeOption, CreateCommand.SupportDockerOption,
            VsockPortOption, MountOption, CreateCommand.SocketForwardOption, CreateCommand.PublishOption, CreateCommand.NetworkOption, CreateCommand.VolumeOption,
            ExecPump.InteractiveOption, ExecPump.TtyOption, ExecPump.EnvOption, ExecPump.WorkdirOption, ExecPump.UserOption,
            ImageArgument, CommandArgument,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // Everything is validated before the box exists: a usage error leaves nothing behind.
            var (leading, argv) = CommandGrammar.SplitWords(parseResult);
            try
            {
                return leading.Count > 0
                    ? await RunImageAsync(context, parseResult, leading[0], [.. leading.Skip(1), .. argv], cancellationToken)
                    : await RunBuiltInAsync(context, parseResult, argv, cancellationToken);
            }
            catch (CocoonException e) when (e.Code == CocoonErrorCode.InvalidArgument)
            {
                throw;
            }
            catch (CocoonException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return (int)ExitCode.RunFailed;
            }
        });
        return command;
    }

    private static async Task<int> RunBuiltInAsync(CliContext context, ParseResult parseResult, IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        foreach (var (option, given) in new (string, bool)[] { ("--box", parseResult.GetValue(BoxOption) is not null), ("--detach", parseResult.GetValue(DetachOption)), ("--entrypoint", parseResult.GetValue(EntrypointOption) is not null), ("--cmd", parseResult.GetValue(CmdOption) is { Length: > 0 }), ("--support-docker", parseResult.GetValue(CreateCommand.SupportDockerOption)), ("--mount", parseResult.GetValue(MountOption) is { Length: > 0 }) })
        {
            if (given)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{option} applies to an image's container: cocoon run [OPTIONS] IMAGE [COMMAND...]");
            }
        }

        if (argv.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "no image or command given: cocoon run [OPTIONS] IMAGE [COMMAND...], or cocoon run [OPTIONS] -- COMMAND [ARG...]");
        }

        // The box's main command: its output is also the box's log (cocoon logs), as in docker.
        var request = ExecPump.ToRequest(parseResult, argv) with { LogOutput = true };
        return await RunInNewBoxAsync(context, parseResult, container: null, async box => await ExecPump.RunAsync(box, request, context.Error, cancellationToken), cancellationToken);
    }

    private static async Task<int> RunImageAsync(CliContext context, ParseResult parseResult, string image, IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var boxName = parseResult.GetValue(BoxOption);
        var detach = parseResult.GetValue(DetachOption);
        var tty = parseResult.GetValue(ExecPump.TtyOption);
        var options = new ContainerOptions(image)
        {
            Entrypoint = parseResult.GetValue(EntrypointOption),
            Cmd = parseResult.GetValue(CmdOption) ?? [],
            Arguments = argv,
            Environment = parseResult.GetValue(ExecPump.EnvOption) ?? [],
            WorkingDirectory = parseResult.GetValue(ExecPump.WorkdirOption),
            User = parseResult.GetValue(ExecPump.UserOption),
            Tty = tty,
            WindowSize = tty && !Console.IsOutputRedirected ? ExecPump.CurrentSize() : null,
            Stdin = parseResult.GetValue(ExecPump.InteractiveOption),
            Detach = detach,
            SocketMounts = [.. (parseResult.GetValue(MountOption) ?? []).Select(UnixSocketMount.Parse)],
        };
        if (detach && (options.Stdin || options.Tty))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "-d cannot be combined with -i or -t: a detached container has no terminal to attach");
        }

        if (boxName is not null && parseResult.GetValue(CreateCommand.SocketForwardOption) is { Length: > 0 })
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--socket-forward lives as long as a new box and cannot be given with --box: serve a socket of running box '{boxName}' with cocoon socket-forward {boxName} HOST_PATH:BOX_PATH");
        }

        // As docker run: pull an image that is not stored, then refuse bad options before any box exists.
        await PullCommand.EnsureStoredAsync(context, image, cancellationToken);

        if (boxName is null)
        {
            context.Runtime.ValidateContainer(options, parseResult.GetValue(CreateCommand.SupportDockerOption));
        }

        if (boxName is not null)
        {
            if (parseResult.GetValue(CreateCommand.SupportDockerOption))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--support-docker is a box's profile and cannot be given with --box: the containers of box '{boxName}' get it when the box was created with --support-docker");
            }

            await using var box = context.Runtime.GetBox(boxName);
            if (await StartContainerAsync(context, box, options with { Name = parseResult.GetValue(NameOption) }, cancellationToken) is not { } container)
            {
                return (int)ExitCode.CommandNotFound;
            }

            if (detach)
            {
                context.Out.WriteLine(container.Name);
                return (int)ExitCode.Ok;
            }

            var status = await ExecPump.PumpAsync(container.Session!, options.Tty, options.Stdin, context.Error, cancellationToken);
            if (parseResult.GetValue(RemoveOption))
            {
                await container.DisposeAsync();
            }

            return status;
        }

        return await RunInNewBoxAsync(context, parseResult, options, async box =>
        {
            if (await StartContainerAsync(context, box, options with { Name = box.Name }, cancellationToken) is not { } container)
            {
                return (int)ExitCode.CommandNotFound;
            }

            if (detach)
            {
                context.Out.WriteLine(box.Name);
                return null;
            }

            return await ExecPump.PumpAsync(container.Session!, options.Tty, options.Stdin, context.Error, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Starts the container; null (after saying why) when its executable does not exist, docker run's 127.</summary>
    private static async Task<Container?> StartContainerAsync(CliContext context, Box box, ContainerOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await box.RunContainerAsync(options, cancellationToken);
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.NotFound)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// Creates and starts a box, runs <paramref name="run"/> in it, stops it (null from <paramref name="run"/>: leaves
    /// it running), removes it with --rm. The box of an image keeps <paramref name="container"/>'s command,
    /// environment, working directory and user, so that a later <c>cocoon start</c> runs the same container
    /// again, as <c>docker start</c> does.
    /// </summary>
    private static async Task<int> RunInNewBoxAsync(CliContext context, ParseResult parseResult, ContainerOptions? container, Func<Box, Task<int?>> run, CancellationToken cancellationToken)
    {
        var config = CreateCommand.ToConfig(new CreateCommand.Arguments(
            parseResult.GetValue(NameOption),
            container?.Image,
            parseResult.GetValue(CpusOption),
            parseResult.GetValue(MemoryOption),
            parseResult.GetValue(VsockPortOption) ?? [],
            SupportDocker: parseResult.GetValue(CreateCommand.SupportDockerOption),
            Entrypoint: container?.Entrypoint,
            Cmd: container is null ? [] : container.Arguments.Count > 0 ? container.Arguments : container.Cmd,
            Env: container?.Environment ?? [],
            File: null,
            Publish: parseResult.GetValue(CreateCommand.PublishOption) ?? [],
            Network: parseResult.GetValue(CreateCommand.NetworkOption),
            Volumes: parseResult.GetValue(CreateCommand.VolumeOption) ?? [],
            DiskSize: parseResult.GetValue(CreateCommand.DiskSizeOption),
            SocketForwards: parseResult.GetValue(CreateCommand.SocketForwardOption) ?? [],
            WorkingDir: container?.WorkingDirectory,
            User: container?.User));
        string? created = null;
        var remove = parseResult.GetValue(RemoveOption);
        try
        {
            created = await context.Runtime.CreateAsync(config, CancellationToken.None);
            Box box;
            try
            {
                using var signals = new SignalCancellation(cancellationToken);
                box = await context.Runtime.StartBoxAsync(created, signals.Token);
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

            int? status;
            await using (box)
            {
                try
                {
                    status = await run(box);
                }
                catch
                {
                    // Nothing runs in the box the user asked for: leave no box behind.
                    remove = true;
                    throw;
                }
            }

            if (status is not { } exit)
            {
                remove = false;
                return (int)ExitCode.Ok;
            }

            await context.Runtime.StopAsync(created, TimeSpan.FromSeconds(10), CancellationToken.None);
            return exit;
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
    }
}
