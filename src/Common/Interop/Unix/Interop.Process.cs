// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>waitpid/waitid/getpid/setgroups/setgid/setuid/execve (<c>unistd.h</c>, <c>sys/wait.h</c>).</summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "waitpid", SetLastError = true)]
    private static unsafe partial int SysWaitPid(int pid, int* status, int options);

    [LibraryImport(Libc, EntryPoint = "waitid", SetLastError = true)]
    private static unsafe partial int SysWaitId(int idType, int id, byte* info, int options);

    [LibraryImport(Libc, EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport(Libc, EntryPoint = "setgroups", SetLastError = true)]
    private static partial int SysSetGroups(nuint size, ReadOnlySpan<uint> groups);

    [LibraryImport(Libc, EntryPoint = "setgid", SetLastError = true)]
    private static partial int SysSetGid(uint gid);

    [LibraryImport(Libc, EntryPoint = "setuid", SetLastError = true)]
    private static partial int SysSetUid(uint uid);

    [LibraryImport(Libc, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysExecve(string path, IntPtr argv, IntPtr envp);

    /// <summary>waitpid(2) for any child (<paramref name="pid"/> -1), blocking; the pid reaped, or the failure (ECHILD: none left).</summary>
    internal static unsafe IoResult WaitPid(int pid, out int status)
    {
        int value = 0;

        // SAFETY: value is a local of this frame, alive for the call.
        var result = Call((Pid: pid, Status: (nint)(&value)), static s => SysWaitPid(s.Pid, (int*)s.Status, 0));
        status = value;
        return result;
    }

    /// <summary>
    /// Whether this process has a child, running or exited and not yet reaped: waitid(2) for any
    /// child with WNOHANG and WNOWAIT, which neither blocks nor reaps. ECHILD is false.
    /// </summary>
    internal static unsafe bool HasChildren()
    {
        const int P_ALL = 0;
        const int WNOHANG = 1;
        const int WEXITED = 4;
        const int WNOWAIT = 0x01000000;

        // siginfo_t is 128 bytes; it is filled in only when an exited child is there.
        // SAFETY: info is a stack buffer of this frame, alive for the call.
        var info = stackalloc byte[128];
        var address = (nint)info;
        var result = Call(address, static a => SysWaitId(P_ALL, 0, (byte*)a, WEXITED | WNOHANG | WNOWAIT));
        return result.Ok || result.Error != Errno.ECHILD;
    }

    /// <summary>Drops to <paramref name="uid"/>:<paramref name="gid"/> with no supplementary groups but <paramref name="gid"/>.</summary>
    internal static void SetIdentity(uint uid, uint gid)
    {
        CheckIo(() => SysSetGroups(1, [gid]), "setgroups");
        CheckIo(() => SysSetGid(gid), $"setgid({gid})");
        CheckIo(() => SysSetUid(uid), $"setuid({uid})");
    }

    /// <summary>execve(2); returns only by throwing.</summary>
    internal static void Execve(string path, IntPtr argv, IntPtr envp) =>
        CheckIo(() => SysExecve(path, argv, envp), $"execve '{path}'");

    /// <summary>Allocates a NULL-terminated array of UTF-8 strings (argv, envp); free with <see cref="FreeStringArray"/>.</summary>
    internal static IntPtr AllocStringArray(IReadOnlyList<string> strings)
    {
        var array = Marshal.AllocHGlobal(IntPtr.Size * (strings.Count + 1));
        for (var i = 0; i < strings.Count; i++)
        {
            Marshal.WriteIntPtr(array, i * IntPtr.Size, Marshal.StringToCoTaskMemUTF8(strings[i]));
        }

        Marshal.WriteIntPtr(array, strings.Count * IntPtr.Size, IntPtr.Zero);
        return array;
    }

    /// <summary>Frees an array from <see cref="AllocStringArray"/>; zero is ignored.</summary>
    internal static void FreeStringArray(IntPtr array)
    {
        if (array == IntPtr.Zero)
        {
            return;
        }

        for (var i = 0; ; i++)
        {
            var item = Marshal.ReadIntPtr(array, i * IntPtr.Size);
            if (item == IntPtr.Zero)
            {
                break;
            }

            Marshal.FreeCoTaskMem(item);
        }

        Marshal.FreeHGlobal(array);
    }
}
