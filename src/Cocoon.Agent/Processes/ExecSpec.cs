// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol.Agent.V1;

namespace Cocoon.Agent.Processes;

/// <summary>A validated exec request: the executable is resolved, the working directory exists, the user is known.</summary>
internal sealed record ExecSpec(
    string Path,
    IReadOnlyList<string> Argv,
    IReadOnlyList<string> Environment,
    string WorkingDirectory,
    UserSpec? User,
    bool Tty,
    ushort Rows,
    ushort Columns,
    bool Stdin)
{
    /// <summary>
    /// Whether the program relays its terminal to one of its own that it sizes only once (crun for a
    /// container), so resizes must also reach that one (<see cref="RelayedTerminal"/>).
    /// </summary>
    public bool RelaysTerminal { get; init; }

    /// <summary>The terminal size a session gets when the host gives none, or 0 for a side: a VT100's 24 rows of 80 columns.</summary>
    internal static readonly (ushort Rows, ushort Columns) DefaultTerminalSize = (24, 80);

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Validates <paramref name="start"/> (whose environment the host has merged with the box's); every error names the bad input.</summary>
    public static ExecSpec FromStart(ExecStart start)
    {
        if (start.Argv.Count == 0 || string.IsNullOrEmpty(start.Argv[0]))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The exec request has no program: argv is empty.");
        }

        var user = UserSpec.Resolve(start.User);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = DefaultPath,
            ["HOME"] = user is null ? "/root" : user.Home ?? "/",
        };
        if (start.Tty)
        {
            env["TERM"] = "xterm-256color";
        }

        foreach (var (key, value) in start.Env)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The environment variable '{key}' is not valid: names must be non-empty without '=' and no NUL anywhere.");
            }

            env[key] = value;
        }

        var workingDir = string.IsNullOrEmpty(start.WorkingDir) ? "/" : start.WorkingDir;
        if (!System.IO.Path.IsPathRooted(workingDir))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The working directory '{workingDir}' is not an absolute path.");
        }

        if (!Directory.Exists(workingDir))
        {
            // InvalidArgument, not NotFound: NotFound means the program itself (exit 127), this is "cannot invoke" (126).
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The working directory '{workingDir}' does not exist in the guest.");
        }

        var path = ResolveExecutable(start.Argv[0], env["PATH"], workingDir);
        var (rows, columns) = TerminalSize(start.WindowSize);
        return new ExecSpec(
            path,
            [.. start.Argv],
            [.. env.Select(pair => $"{pair.Key}={pair.Value}")],
            workingDir,
            user,
            start.Tty,
            rows,
            columns,
            start.Stdin || start.Tty);
    }

    /// <summary>The terminal size asked for in <paramref name="size"/>: <see cref="DefaultTerminalSize"/> for a side not given or 0, else at most <see cref="ushort.MaxValue"/>.</summary>
    internal static (ushort Rows, ushort Columns) TerminalSize(WindowSize? size) =>
        (Side(size?.Rows, DefaultTerminalSize.Rows), Side(size?.Columns, DefaultTerminalSize.Columns));

    private static ushort Side(uint? asked, ushort fallback) => asked is null or 0 ? fallback : (ushort)Math.Min(asked.Value, ushort.MaxValue);

    /// <summary>Finds the program like execvp does, but against the exec's own PATH, so a missing program is a clear error.</summary>
    private static string ResolveExecutable(string program, string searchPath, string workingDir)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = System.IO.Path.IsPathRooted(program) ? program : System.IO.Path.Combine(workingDir, program);
            if (Directory.Exists(full))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{program}' is a directory, not an executable.");
            }

            if (!File.Exists(full))
            {
                throw new CocoonException(CocoonErrorCode.NotFound, $"The executable '{program}' does not exist in the guest.");
            }

            return EnsureExecutable(full, program);
        }

        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, program);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw new CocoonException(CocoonErrorCode.NotFound, $"The executable '{program}' was not found in PATH ({searchPath}) in the guest.");
    }

    private static string EnsureExecutable(string path, string program) =>
        IsExecutable(path)
            ? path
            : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The file '{program}' is not executable (no x permission).");

    private static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
