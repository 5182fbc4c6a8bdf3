// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Runtime.InteropServices;

namespace Cocoon.Cli.Commands;

/// <summary>The flags and the stream pumping shared by <c>exec</c> and <c>run</c>.</summary>
internal static class ExecPump
{
    public static readonly Option<bool> InteractiveOption = new("--interactive", "-i") { Description = "Keep stdin open and send it to the command." };
    public static readonly Option<bool> TtyOption = new("--tty", "-t") { Description = "Give the command a terminal (raw mode on the host's)." };
    public static readonly Option<string[]> EnvOption = new("--env", "-e") { Description = "Environment variable KEY=VALUE, or KEY for the host's value (repeatable).", HelpName = "KEY=VALUE" };
    public static readonly Option<string> WorkdirOption = new("--workdir", "-w") { Description = "Working directory in the guest." };
    public static readonly Option<string> UserOption = new("--user", "-u") { Description = "Run as USER: a name, UID or UID:GID [default: root]." };

    /// <summary>
    /// Reads <c>-e</c> flags as Docker does: <c>KEY=VALUE</c>, or <c>KEY</c> alone for the host's
    /// value of KEY (left out when the host has none).
    /// </summary>
    public static Dictionary<string, string> ParseEnv(IEnumerable<string> pairs)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals == 0 || pair.Length == 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--env '{pair}' is not KEY=VALUE or KEY");
            }

            if (equals > 0)
            {
                env[pair[..equals]] = pair[(equals + 1)..];
            }
            else if (Environment.GetEnvironmentVariable(pair) is { } hostValue)
            {
                env[pair] = hostValue;
            }
        }

        return env;
    }

    /// <summary>Builds the request from the shared flags.</summary>
    public static ExecRequest ToRequest(ParseResult parseResult, IReadOnlyList<string> argv)
    {
        if (argv.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "no command given; put it after the box name (exec) or after -- (run)");
        }

        var env = ParseEnv(parseResult.GetValue(EnvOption) ?? []);

        var tty = parseResult.GetValue(TtyOption);
        return new ExecRequest(argv)
        {
            Environment = env.Count > 0 ? env : null,
            WorkingDirectory = parseResult.GetValue(WorkdirOption),
            User = parseResult.GetValue(UserOption),
            Tty = tty,
            WindowSize = tty && !Console.IsOutputRedirected ? CurrentSize() : null,
            Stdin = parseResult.GetValue(InteractiveOption),
        };
    }

    /// <summary>Runs the request in the box, pumping stdio and signals; returns the shell-style exit status.</summary>
    public static async Task<int> RunAsync(Box box, ExecRequest request, TextWriter error, CancellationToken cancellationToken)
    {
        IExecSession session;
        try
        {
            session = await box.ExecAsync(request, cancellationToken);
        }
        catch (CocoonException e) when (e.Code is CocoonErrorCode.NotFound or CocoonErrorCode.InvalidArgument)
        {
            // As docker: 127 when the program does not exist, 126 when the guest cannot start it as
            // asked (not executable, a directory, no such working directory or user).
            error.WriteLine($"error: {e.Message}");
            return (int)(e.Code == CocoonErrorCode.NotFound ? ExitCode.CommandNotFound : ExitCode.CommandNotInvokable);
        }

        return await PumpAsync(session, request.Tty, request.Stdin, error, cancellationToken);
    }

    /// <summary>Pumps a started session's stdio and the host's signals until it exits; returns the shell-style exit status.</summary>
    public static async Task<int> PumpAsync(IExecSession session, bool tty, bool stdin, TextWriter error, CancellationToken cancellationToken)
    {
        await using (session)
        {
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                _ = session.SignalAsync(2, CancellationToken.None);
            });
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                _ = session.SignalAsync(15, CancellationToken.None);
            });
            using var resize = tty && !OperatingSystem.IsWindows()
                ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
                {
                    context.Cancel = true;
                    _ = session.ResizeAsync(CurrentSize(), CancellationToken.None);
                })
                : null;
            var restore = tty ? Interop.TryEnterRawMode(StandardStream.Borrow(StandardStream.Input)) : null;
            try
            {
                using var stdout = new StandardStream(StandardStream.Output);
                using var stderr = new StandardStream(StandardStream.Error);
                var output = CopyAsync(session.Stdout, stdout);
                var errors = CopyAsync(session.Stderr, stderr);
                if (stdin)
                {
                    _ = Task.Run(() => PumpStdinAsync(session));
                }

                var exit = await session.Exit.WaitAsync(cancellationToken);
                await Task.WhenAll(output, errors).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                if (exit.OomKilled)
                {
                    error.WriteLine($"error: the command was {exit.Describe()} (--memory)");
                }

                return exit.ShellExitCode;
            }
            finally
            {
                if (restore is not null)
                {
                    Interop.RestoreTerminal(StandardStream.Borrow(StandardStream.Input), restore);
                }
            }
        }
    }

    private static async Task CopyAsync(Stream source, Stream destination)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read));
            await destination.FlushAsync();
        }
    }

    private static async Task PumpStdinAsync(IExecSession session)
    {
        try
        {
            using var stdin = new StandardStream(StandardStream.Input);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stdin.ReadAsync(buffer)) > 0)
            {
                await session.WriteStdinAsync(buffer.AsMemory(0, read));
            }

            await session.CloseStdinAsync();
        }
        catch (Exception e) when (e is CocoonException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The command exited first; the rest of stdin has no reader.
        }
    }

    /// <summary>The host terminal's size (24x80 when there is none).</summary>
    public static TerminalSize CurrentSize() =>
        (Interop.TryGetWindowSize(StandardStream.Borrow(StandardStream.Output)) ?? Interop.TryGetWindowSize(StandardStream.Borrow(StandardStream.Input))) is { } size
            ? new TerminalSize(size.Rows, size.Columns)
            : new TerminalSize(24, 80);
}
