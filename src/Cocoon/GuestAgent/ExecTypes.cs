// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>What to run in the guest.</summary>
/// <param name="Argv">The program and its arguments; a program without '/' is searched in PATH.</param>
public sealed record ExecRequest(IReadOnlyList<string> Argv)
{
    /// <summary>Variables on top of the box's default environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The absolute working directory; null means "/".</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>"name", "uid" or "uid:gid"; null means root.</summary>
    public string? User { get; init; }

    /// <summary>Run on a pseudo-terminal (stdin is then always open and stderr merges into stdout).</summary>
    public bool Tty { get; init; }

    /// <summary>The initial terminal size for <see cref="Tty"/> sessions; null means 24x80.</summary>
    public TerminalSize? WindowSize { get; init; }

    /// <summary>Keep stdin open for <see cref="IExecSession.WriteStdinAsync"/>; false gives the process /dev/null.</summary>
    public bool Stdin { get; init; }

    /// <summary>
    /// Also append the output to the box's log (<c>cocoon logs</c>), as for a box's main command;
    /// <c>cocoon run</c> sets it for its command.
    /// </summary>
    public bool LogOutput { get; init; }

    /// <summary>Run in this running container of the box instead of the box itself; null for the box.</summary>
    public string? Container { get; init; }
}

/// <summary>A terminal size in character cells.</summary>
/// <param name="Rows">Rows (lines).</param>
/// <param name="Columns">Columns.</param>
public readonly record struct TerminalSize(int Rows, int Columns);

/// <summary>How a guest process ended.</summary>
/// <param name="ExitCode">The exit code when it exited normally.</param>
/// <param name="Signal">The signal number when a signal killed it.</param>
public sealed record ExecExit(int? ExitCode, int? Signal)
{
    /// <summary>True when the process exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>The shell convention: the exit code, or 128 + signal.</summary>
    public int ShellExitCode => ExitCode ?? (128 + (Signal ?? 0));

    /// <summary>True when the guest kernel's out-of-memory killer ended the process (<see cref="Signal"/> is then 9).</summary>
    public bool OomKilled { get; init; }

    /// <summary>How the process ended, in words: "exit code 3", "killed by signal 15", "killed by the out-of-memory killer".</summary>
    public string Describe() => OomKilled
        ? "killed by the out-of-memory killer (signal 9); give the box more memory"
        : ExitCode is { } code ? $"exit code {code}" : $"killed by signal {Signal}";
}

/// <summary>Facts the guest agent reports about itself.</summary>
/// <param name="AgentVersion">The agent's version.</param>
/// <param name="KernelRelease">The guest kernel's release (uname -r).</param>
/// <param name="Hostname">The guest's hostname.</param>
/// <param name="IsInit">True when the agent is the guest's PID 1.</param>
/// <param name="KernelToInit">Kernel start to agent start.</param>
/// <param name="Mounts">Time spent mounting file systems.</param>
/// <param name="Modules">Time spent loading kernel modules.</param>
/// <param name="InitToServing">Agent start to serving gRPC.</param>
/// <param name="ModulesLoaded">How many modules were loaded.</param>
public sealed record GuestInfo(
    string AgentVersion,
    string KernelRelease,
    string Hostname,
    bool IsInit,
    TimeSpan KernelToInit,
    TimeSpan Mounts,
    TimeSpan Modules,
    TimeSpan InitToServing,
    int ModulesLoaded)
{
    /// <summary>The box's volumes the agent could not mount at boot, one message each; empty when all are mounted.</summary>
    public IReadOnlyList<string> VolumeErrors { get; init; } = [];
}
