// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// Process descriptors: pidfd_open(2) (Linux 5.3) and pidfd_getfd(2) (Linux 5.6), through syscall(2)
/// as glibc before 2.36 has no wrappers (<c>arch/x86/entry/syscalls/syscall_64.tbl</c>).
/// </summary>
internal static partial class Interop
{
    internal const long SYS_pidfd_open = 434;
    internal const long SYS_pidfd_getfd = 438;

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SysPidfdOpen(long number, int pid, uint flags);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SysPidfdGetfd(long number, SafeHandle pidfd, int targetFd, uint flags);

    /// <summary>pidfd_open(2): a descriptor for process <paramref name="pid"/>; ESRCH when it is gone.</summary>
    internal static SafeFdHandle PidfdOpen(int pid) =>
        new((int)Call(pid, static p => SysPidfdOpen(SYS_pidfd_open, p, 0)).ThrowIfFailed($"pidfd_open {pid}"));

    /// <summary>
    /// pidfd_getfd(2): a close-on-exec duplicate of descriptor <paramref name="targetFd"/> of the process
    /// behind <paramref name="pidfd"/> (the same open file description); null when it has no such
    /// descriptor (EBADF) or is gone (ESRCH). Needs the right to ptrace that process.
    /// </summary>
    internal static SafeFdHandle? PidfdGetfd(SafeHandle pidfd, int targetFd)
    {
        var result = Call((Pidfd: pidfd, Fd: targetFd), static s => SysPidfdGetfd(SYS_pidfd_getfd, s.Pidfd, s.Fd, 0));
        return result.Error is Errno.EBADF or Errno.ESRCH ? null : new SafeFdHandle((int)result.ThrowIfFailed($"pidfd_getfd {targetFd}"));
    }
}
