// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent.Processes;

/// <summary>
/// Starts processes with posix_spawn (vfork + exec in glibc: no managed code runs in the child).
/// <code>
///  1. a socket pair per stdio stream (or a pty: posix_openpt, grantpt, unlockpt, TIOCSWINSZ)
///  2. file actions: stdin/stdout/stderr onto 0/1/2 (a pty slave is opened after setsid, so it
///     becomes the controlling terminal), chdir to the working directory
///  3. attributes: new session, every signal back to default, empty signal mask (.NET ignores SIGPIPE)
///  4. spawn under the reaper's lock, then close the child's ends in the agent
/// </code>
/// A different user goes through the agent's own binary (<c>--exec-as uid:gid</c>), which drops
/// privileges and execs the program: posix_spawn cannot change ids and fork is unsafe in .NET.
/// </summary>
internal sealed class ProcessLauncher(ChildReaper reaper)
{
    /// <summary>The argument that makes the agent binary a privilege-dropping trampoline.</summary>
    public const string ExecAsArgument = "--exec-as";

    /// <summary>Starts <paramref name="spec"/>.</summary>
    /// <param name="spec">What to run.</param>
    /// <param name="streams">
    /// For a plain session whose stdio rides data streams: the connection for stdout (and stdin when
    /// the spec asks for it) and the one for stderr, handed to the process as its descriptors and
    /// closed here either way.
    /// </param>
    public ChildProcess Start(ExecSpec spec, (Socket Stdio, Socket Stderr)? streams = null)
    {
        var disposeOnFailure = new List<IDisposable>();
        var closeAfterSpawn = new List<SafeHandle>();
        var actions = Marshal.AllocHGlobal(Interop.PosixSpawnFileActionsSize);
        var attr = Marshal.AllocHGlobal(Interop.PosixSpawnAttrSize);
        var sigset = Marshal.AllocHGlobal(Interop.SigSetSize);
        IntPtr argv = IntPtr.Zero;
        IntPtr envp = IntPtr.Zero;
        Interop.CheckResult(Interop.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
        Interop.CheckResult(Interop.PosixSpawnAttrInit(attr), "posix_spawnattr_init");

        // The agent's end of a new socket pair; the child's end goes onto fd `target` and is closed here after the spawn.
        Socket StdioPair(int target)
        {
            var (agentEnd, childEnd) = CreateStdioSocketPair();
            disposeOnFailure.Add(agentEnd);
            closeAfterSpawn.Add(childEnd);
            AddDup2(actions, childEnd, target);
            return agentEnd;
        }

        try
        {
            // :: Step 1 and 2
            Socket? stdin = null, stdout = null, stderr = null;
            SafeFileHandle? master = null;
            if (spec.Tty)
            {
                (master, var slavePath) = Interop.OpenPty();
                disposeOnFailure.Add(master);
                Interop.SetWindowSize(master, spec.Rows, spec.Columns);
                Interop.CheckResult(Interop.PosixSpawnFileActionsAddOpen(actions, 0, slavePath, Interop.OpenFlags.O_RDWR, 0), "posix_spawn_file_actions_addopen");
                Interop.CheckResult(Interop.PosixSpawnFileActionsAddDup2(actions, 0, 1), "posix_spawn_file_actions_adddup2");
                Interop.CheckResult(Interop.PosixSpawnFileActionsAddDup2(actions, 0, 2), "posix_spawn_file_actions_adddup2");
            }
            else if (streams is var (stdioStream, stderrStream))
            {
                // The process blocks on its own descriptors: the agent's non-blocking mode belongs
                // to the open file description it shares with the child, so it goes first.
                Interop.SetBlocking(stdioStream.SafeHandle, "fcntl stdio stream");
                Interop.SetBlocking(stderrStream.SafeHandle, "fcntl stderr stream");
                if (spec.Stdin)
                {
                    AddDup2(actions, stdioStream.SafeHandle, 0);
                }
                else
                {
                    Interop.CheckResult(Interop.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", Interop.OpenFlags.O_RDONLY, 0), "posix_spawn_file_actions_addopen");
                }

                AddDup2(actions, stdioStream.SafeHandle, 1);
                AddDup2(actions, stderrStream.SafeHandle, 2);
            }
            else
            {
                if (spec.Stdin)
                {
                    stdin = StdioPair(0);
                }
                else
                {
                    Interop.CheckResult(Interop.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", Interop.OpenFlags.O_RDONLY, 0), "posix_spawn_file_actions_addopen");
                }

                stdout = StdioPair(1);
                stderr = StdioPair(2);
            }

            Interop.CheckResult(Interop.PosixSpawnFileActionsAddChdir(actions, spec.WorkingDirectory), "posix_spawn_file_actions_addchdir_np");

            // :: Step 3
            Interop.CheckResult(
                Interop.PosixSpawnAttrSetFlags(attr, Interop.POSIX_SPAWN_SETSID | Interop.POSIX_SPAWN_SETSIGDEF | Interop.POSIX_SPAWN_SETSIGMASK),
                "posix_spawnattr_setflags");
            Interop.SigFillSet(sigset);
            Interop.CheckResult(Interop.PosixSpawnAttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
            Interop.SigEmptySet(sigset);
            Interop.CheckResult(Interop.PosixSpawnAttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");

            var path = spec.Path;
            IReadOnlyList<string> arguments = spec.Argv;
            if (spec.User is { } user)
            {
                path = Environment.ProcessPath
                    ?? throw new CocoonException(CocoonErrorCode.Unsupported, "Running as another user needs the agent's own executable path, which is unknown.");
                arguments = [path, ExecAsArgument, string.Create(CultureInfo.InvariantCulture, $"{user.Uid}:{user.Gid}"), "--", spec.Path, .. spec.Argv];
            }

            argv = Interop.AllocStringArray(arguments);
            envp = Interop.AllocStringArray(spec.Environment);

            // :: Step 4
            var (pid, exited) = reaper.Spawn(() =>
            {
                var result = Interop.PosixSpawn(out var pid, path, actions, attr, argv, envp);
                if (result != 0)
                {
                    Interop.ThrowForErrno((Interop.Errno)result, $"Cannot start '{spec.Argv[0]}' ({spec.Path}) in '{spec.WorkingDirectory}'");
                }

                return pid;
            });
            return master is not null ? new ChildProcess(pid, exited, master, spec.RelaysTerminal)
                : streams is not null ? new ChildProcess(pid, exited)
                : new ChildProcess(pid, exited, stdin, stdout!, stderr!);
        }
        catch
        {
            foreach (var handle in disposeOnFailure)
            {
                handle.Dispose();
            }

            throw;
        }
        finally
        {
            foreach (var handle in closeAfterSpawn)
            {
                handle.Dispose();
            }

            // The child has its copies; the agent keeps none, so the host sees end of file when the process (and what it started) closes them.
            streams?.Stdio.Dispose();
            streams?.Stderr.Dispose();

            Interop.FreeStringArray(argv);
            Interop.FreeStringArray(envp);
            Interop.PosixSpawnFileActionsDestroy(actions);
            Interop.PosixSpawnAttrDestroy(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
            Marshal.FreeHGlobal(sigset);
        }
    }

    /// <summary>
    /// Creates a close-on-exec stream socket pair for one stdio stream of a child: the agent's end
    /// as a <see cref="Socket"/> (async I/O on .NET's epoll engine, no thread per stream) and the
    /// child's end to dup onto 0, 1 or 2.
    /// </summary>
    private static (Socket Agent, SafeFileHandle Child) CreateStdioSocketPair()
    {
        var (agent, child) = Interop.CreateSocketPair(nonBlocking: false);
        var childEnd = new SafeFileHandle(child, ownsHandle: true);
        try
        {
            return (new Socket(new SafeSocketHandle(agent, ownsHandle: true)), childEnd);
        }
        catch
        {
            childEnd.Dispose();
            throw;
        }
    }

    private static void AddDup2(IntPtr actions, SafeHandle handle, int target)
    {
        // The raw fd is only used while the handle is alive: it is closed after the spawn, in Start's finally.
        Interop.CheckResult(Interop.PosixSpawnFileActionsAddDup2(actions, (int)handle.DangerousGetHandle(), target), "posix_spawn_file_actions_adddup2");
    }

    /// <summary>The <c>--exec-as uid:gid -- path argv...</c> trampoline: drop to the user, then execve. Never returns on success.</summary>
    public static int ExecAs(string[] args)
    {
        // args: --exec-as uid:gid -- path argv0 argv1...
        if (args.Length < 5 || args[2] != "--")
        {
            StandardError.WriteLine("cocoon-agent: usage: --exec-as UID:GID -- PATH ARGV0 [ARGS...]");
            return 126;
        }

        var ids = args[1].Split(':');
        var uid = uint.Parse(ids[0], CultureInfo.InvariantCulture);
        var gid = uint.Parse(ids[1], CultureInfo.InvariantCulture);
        try
        {
            Interop.SetIdentity(uid, gid);
            var argv = Interop.AllocStringArray(args[4..]);
            var envp = Interop.AllocStringArray([.. Environment.GetEnvironmentVariables().Keys.Cast<string>().Select(key => $"{key}={Environment.GetEnvironmentVariable(key)}")]);
            Interop.Execve(args[3], argv, envp);
        }
        catch (CocoonException ex)
        {
            StandardError.WriteLine($"cocoon-agent: {ex.Message}");
        }

        return 127;
    }
}
