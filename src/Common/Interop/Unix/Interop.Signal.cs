// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>kill(2) and signal numbers (<c>arch/x86/include/uapi/asm/signal.h</c>).</summary>
internal static partial class Interop
{
    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>
    /// Sends <paramref name="signal"/> to <paramref name="pid"/> (-1: every process but init and the
    /// caller). A failure is a value: ESRCH means the process already exited.
    /// </summary>
    internal static IoResult SendSignal(int pid, int signal) =>
        Call((Pid: pid, Signal: signal), static s => SysKill(s.Pid, s.Signal));
}
