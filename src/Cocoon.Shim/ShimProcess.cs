// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Shim.Protocol;
using Google.Protobuf.WellKnownTypes;
using TaskStatus = Cocoon.Shim.Protocol.TaskStatus;

namespace Cocoon.Shim;

/// <summary>
/// A task's main process or one of its execs, as containerd sees it: created, running (a session
/// in the box), stopped (an exit status), with its stdio wired to the FIFOs containerd passed.
/// </summary>
internal sealed class ShimProcess(string id, string execId, StdioPaths stdio, bool terminal)
{
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FifoStdio? _io;

    /// <summary>The task's id.</summary>
    public string Id { get; } = id;

    /// <summary>The exec's id; empty for the task's main process.</summary>
    public string ExecId { get; } = execId;

    /// <summary>The FIFOs containerd passed.</summary>
    public StdioPaths Stdio { get; } = stdio;

    /// <summary>Whether the process has a terminal (stderr is then merged into stdout).</summary>
    public bool Terminal { get; } = terminal;

    /// <summary>
    /// The terminal size asked for before the process started: some ctr versions send their first
    /// ResizePty between Exec and Start, and the process starts with it. Null when none was asked for (24x80).
    /// </summary>
    public TerminalSize? InitialSize { get; set; }

    /// <summary>The running session; null until started.</summary>
    public IExecSession? Session { get; private set; }

    /// <summary>The pid in the box; 0 until started.</summary>
    public uint Pid { get; private set; }

    /// <summary>The exit status (128 + signal for a signalled process), once stopped.</summary>
    public uint ExitStatus { get; private set; }

    /// <summary>When it stopped.</summary>
    public DateTimeOffset? ExitedAt { get; private set; }

    /// <summary>Completes once the process exited and its output reached the FIFOs.</summary>
    public Task Exited => _exited.Task;

    /// <summary>The process's status for State.</summary>
    public TaskStatus Status => ExitedAt is not null ? TaskStatus.Stopped : Session is not null ? TaskStatus.Running : TaskStatus.Created;

    /// <summary>Wires <paramref name="session"/> to the FIFOs and records its exit; <paramref name="onExit"/> runs once it stopped.</summary>
    public void Attach(IExecSession session, Func<ShimProcess, Task> onExit)
    {
        Session = session;
        Pid = (uint)Math.Max(0, session.Pid);
        _io = FifoStdio.Start(session, Stdio);
        _ = WatchAsync(session, onExit);
    }

    /// <summary>Marks a process that never started as stopped (a failed Start, or Delete of a created task).</summary>
    public void MarkStopped(uint status)
    {
        if (ExitedAt is null)
        {
            ExitStatus = status;
            ExitedAt = DateTimeOffset.UtcNow;
        }

        _exited.TrySetResult();
    }

    /// <summary>Stops forwarding stdin and closes the process's stdin (CloseIO).</summary>
    public Task CloseStdinAsync(CancellationToken cancellationToken) => _io?.CloseStdinAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>The wait answer.</summary>
    public WaitResponse ToWaitResponse() => new() { ExitStatus = ExitStatus, ExitedAt = Timestamp.FromDateTimeOffset(ExitedAt ?? DateTimeOffset.UtcNow) };

    private async Task WatchAsync(IExecSession session, Func<ShimProcess, Task> onExit)
    {
        ExecExit exit;
        try
        {
            exit = await session.Exit.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The box or its agent went away: the process is gone with it, as killed.
            exit = new ExecExit(null, 9);
        }

        if (_io is not null)
        {
            await _io.OutputDone.ConfigureAwait(false);
        }

        ExitStatus = (uint)exit.ShellExitCode;
        ExitedAt = DateTimeOffset.UtcNow;
        await onExit(this).ConfigureAwait(false);
        _exited.TrySetResult();
    }
}

/// <summary>The stdio FIFO paths containerd passes (empty for none).</summary>
internal sealed record StdioPaths(string Stdin, string Stdout, string Stderr);
