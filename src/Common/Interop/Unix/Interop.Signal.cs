// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>kill(2), a signal's disposition, and signal numbers (<c>arch/x86/include/uapi/asm/signal.h</c>).</summary>
internal static partial class Interop
{
    internal const int SIGINT = 2;
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    // sa_handler's values for "default" and "ignore" (asm-generic/signal-defs.h).
    private const nint SIG_DFL = 0;
    private const nint SIG_IGN = 1;

    // glibc's struct sigaction is 152 bytes on x86-64, sa_handler first; the buffer leaves room.
    private const int SigactionBufferSize = 256;

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>
    /// Sends <paramref name="signal"/> to <paramref name="pid"/> (-1: every process but init and the
    /// caller). A failure is a value: ESRCH means the process already exited.
    /// </summary>
    internal static IoResult SendSignal(int pid, int signal) =>
        Call((Pid: pid, Signal: signal), static s => SysKill(s.Pid, s.Signal));

    [LibraryImport(Libc, EntryPoint = "sigaction", SetLastError = true)]
    private static unsafe partial int SysSigaction(int signal, void* action, void* previous);

    [LibraryImport(Libc, EntryPoint = "signal")]
    private static partial nint SysSignal(int signal, nint handler);

    /// <summary>
    /// Gives <paramref name="signal"/> its default action back when this process inherited it
    /// ignored (SIG_IGN survives exec; a shell sets it for SIGINT on a job it starts in the
    /// background without job control). .NET never installs a handler for an ignored signal, so
    /// this must run before its signal handling starts. True when the signal was ignored.
    /// </summary>
    internal static unsafe bool UnignoreSignal(int signal)
    {
        var current = stackalloc byte[SigactionBufferSize];
        if (SysSigaction(signal, null, current) != 0 || *(nint*)current != SIG_IGN)
        {
            return false;
        }

        // Replacing "ignore" with "default" carries no handler or flags that signal(3) could lose.
        return SysSignal(signal, SIG_DFL) == SIG_IGN;
    }
}
