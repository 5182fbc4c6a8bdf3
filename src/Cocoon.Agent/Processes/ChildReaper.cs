// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Processes;

/// <summary>
/// The agent's one <c>waitpid</c> caller. As PID 1 it must reap every orphan, but exec sessions need
/// their own child's exit status: a dedicated thread waits for any child and hands each status to the
/// session that registered the pid; unregistered pids (orphans) are just reaped.
/// </summary>
/// <remarks>
/// Children are only created through <see cref="Spawn"/>, which registers the pid under the same lock
/// the reaper takes before dispatching, so an exit can never be reaped before its waiter exists.
/// </remarks>
internal sealed class ChildReaper
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<ExitStatus>> _waiters = [];
    private readonly AutoResetEvent _childAdded = new(false);

    public ChildReaper()
    {
        new Thread(Run) { IsBackground = true, Name = "reaper" }.Start();
    }

    /// <summary>Runs <paramref name="spawn"/> (which returns a pid) and returns a task for that child's exit.</summary>
    public (int Pid, Task<ExitStatus> Exited) Spawn(Func<int> spawn)
    {
        lock (_lock)
        {
            var pid = spawn();
            var exited = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[pid] = exited;
            _childAdded.Set();
            return (pid, exited.Task);
        }
    }

    private void Run()
    {
        while (true)
        {
            var reaped = Interop.WaitPid(-1, out var waitStatus);
            if (!reaped.Ok)
            {
                // ECHILD: no children at all; nothing can become our child until the next Spawn.
                _childAdded.WaitOne(reaped.Error == Interop.Errno.ECHILD ? Timeout.Infinite : 100);
                continue;
            }

            var pid = (int)reaped.Value;
            var status = ExitStatus.FromWaitStatus(waitStatus);
            TaskCompletionSource<ExitStatus>? waiter;
            lock (_lock)
            {
                _waiters.Remove(pid, out waiter);
            }

            waiter?.TrySetResult(status);
        }
    }
}

/// <summary>How a process ended: an exit code, or the signal that killed it.</summary>
internal readonly record struct ExitStatus(int? Code, int? Signal)
{
    /// <summary>Decodes a wait(2) status word.</summary>
    public static ExitStatus FromWaitStatus(int status)
    {
        var termSignal = status & 0x7f;
        return termSignal == 0 ? new ExitStatus((status >> 8) & 0xff, null) : new ExitStatus(null, termSignal);
    }
}
