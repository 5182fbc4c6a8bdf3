// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// crun's state of the box's containers: <c>&lt;root&gt;/&lt;name&gt;/status</c>, which crun writes
/// (to a temporary name, then renamed) once it has created the container, and removes when the
/// container is gone.
/// <para>
/// A start waits for that file without polling it: inotify(7) reports the container's directory
/// appearing under the root, then a name moved into that directory, and only then is the file looked
/// for. Under TCG a poll every few milliseconds cost the box about 35 ms of CPU per start, taken
/// from crun while it created the container.
/// </para>
/// </summary>
/// <param name="root">crun's state root (<see cref="DefaultRoot"/>; a temporary directory in tests).</param>
internal sealed class CrunState(string root)
{
    /// <summary>crun's default state root as root.</summary>
    public const string DefaultRoot = "/run/crun";

    /// <summary>
    /// How often a wait looks at whether crun has exited: only a crun that fails before making the
    /// container's directory ends a wait this way; every other end wakes it through inotify.
    /// </summary>
    private const int ExitCheckMs = 100;

    /// <summary>The state file of container <paramref name="name"/>.</summary>
    public string StatusPath(string name) => Path.Combine(root, name, "status");

    /// <summary>
    /// Completes once container <paramref name="name"/>'s state file exists, or once
    /// <paramref name="crunExited"/> completes (crun failed or the container already ended). The wait
    /// blocks a thread of its own in poll(2); a cancelled caller returns at once and the thread ends
    /// with crun.
    /// </summary>
    public Task WhenCreatedAsync(string name, Task crunExited, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(crunExited);
        if (File.Exists(StatusPath(name)) || crunExited.IsCompleted)
        {
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => WaitForStatus(name, crunExited), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .WaitAsync(cancellationToken);
    }

    private void WaitForStatus(string name, Task crunExited)
    {
        // crun makes its root (0700) when it is missing; made here first, it can be watched now.
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var inotify = Interop.InotifyInit();
        Interop.InotifyAddWatch(inotify, root, Interop.IN_CREATE | Interop.IN_ONLYDIR).ThrowIfFailed($"inotify_add_watch '{root}'");
        var directory = Path.Combine(root, name);
        var status = StatusPath(name);
        var watchingDirectory = false;
        Span<Interop.PollFd> fds = [new Interop.PollFd { fd = (int)inotify.DangerousGetHandle(), events = Interop.POLLIN }];
        while (!crunExited.IsCompleted)
        {
            // The directory's watch comes before the look for the file, so a rename in between wakes the poll.
            watchingDirectory = watchingDirectory || Interop.InotifyAddWatch(inotify, directory, Interop.IN_MOVED_TO | Interop.IN_CREATE | Interop.IN_DELETE_SELF).Ok;
            if (File.Exists(status))
            {
                return;
            }

            if (Interop.Poll(fds, ExitCheckMs, "poll inotify") > 0)
            {
                Interop.DrainInotify(inotify);
            }
        }
    }
}
