// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.CommandLine.Help;
using Cocoon.Cli.Commands;

namespace Cocoon.Cli;

/// <summary>
/// The <c>cocoon</c> command tree and its one top-level error handler. A command is one file in
/// <c>Commands/</c> with a static <c>Create(CliContext)</c>, registered by one line in
/// <see cref="BuildRoot"/>.
/// </summary>
internal static class CocoonCli
{
    /// <summary>Builds the command tree.</summary>
    public static Command BuildRoot(CliContext context)
    {
        // A plain Command rather than RootCommand, so help says "cocoon" whatever the host process is.
        var help = new HelpOption { Recursive = true };
        if (help.Action is HelpAction action && Interop.TryGetWindowSize(StandardStream.Borrow(StandardStream.Output)) is { } size)
        {
            // Help's own default width asks Console.WindowWidth, which puts the terminal in keypad
            // mode (see CliContext.FromEnvironment); the width comes from the terminal directly instead.
            action.MaxWidth = size.Columns;
        }

        var root = new Command("cocoon", "Run workloads in lightweight Linux microVMs (boxes) and reach them over vsock.")
        {
            help,
            new VersionOption(),
        };

        root.Subcommands.Add(CreateCommand.Create(context));
        root.Subcommands.Add(ListCommand.Create(context));
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(RemoveCommand.Create(context));
        root.Subcommands.Add(StartCommand.Create(context));
        root.Subcommands.Add(StopCommand.Create(context));
        root.Subcommands.Add(ExecCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(PsCommand.Create(context));
        root.Subcommands.Add(LogsCommand.Create(context));
        root.Subcommands.Add(PullCommand.Create(context));
        root.Subcommands.Add(ImagesCommand.Create(context));
        root.Subcommands.Add(RemoveImageCommand.Create(context));
        root.Subcommands.Add(LoadCommand.Create(context));
        root.Subcommands.Add(LoginCommand.Create(context));
        root.Subcommands.Add(PortForwardCommand.Create(context));
        root.Subcommands.Add(SocketForwardCommand.Create(context));
        root.Subcommands.Add(CopyCommand.Create(context));
        root.Subcommands.Add(SuperviseCommand.Create(context));
        root.Subcommands.Add(VsockDeviceCommand.Create(context));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static int Run(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            // Bare `cocoon` shows help, as docker does.
            var root = BuildRoot(context);
            var parseResult = root.Parse(
                args.Length == 0 ? ["--help"] : CommandGrammar.Normalize(root, args),
                new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parseResult.Errors.Count > 0)
            {
                foreach (var error in parseResult.Errors)
                {
                    context.Error.WriteLine($"error: {error.Message}");
                }

                context.Error.WriteLine("Run 'cocoon --help' (or 'cocoon COMMAND --help') for usage.");
                return (int)ExitCode.Usage;
            }

            return parseResult.Invoke(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,

                // Commands handle SIGINT/SIGTERM themselves: exec and run forward them to the
                // guest command; start and run cancel a boot in progress (CancelOnSignals).
                ProcessTerminationTimeout = null,
            });
        }
        catch (CocoonException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return (int)ExitCodes.From(e.Code);
        }
        catch (Exception e)
        {
            // Environment failures (permissions, disk full) and bugs alike: one line, the stack
            // only when asked for.
            context.Error.WriteLine($"error: {e.Message}");
            context.Error.WriteLine(context.Debug ? e.ToString() : "(set COCOON_DEBUG=1 for details)");
            return (int)ExitCode.Internal;
        }
    }
}
