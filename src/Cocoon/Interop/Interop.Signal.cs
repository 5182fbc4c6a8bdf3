// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

internal static partial class Interop
{
    /// <summary>Signal numbers (x86-64).</summary>
    internal enum Signal
    {
        SIGKILL = 9,
        SIGTERM = 15,
    }

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when no such process (ESRCH) or not allowed.</summary>
    internal static bool SendSignal(int pid, Signal signal) => Kill(pid, (int)signal) == 0;

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
