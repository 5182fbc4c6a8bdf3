// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>setns(2) (<c>include/uapi/linux/sched.h</c>).</summary>
internal static partial class Interop
{
    internal const int CLONE_NEWNET = 0x40000000;

    [LibraryImport(Libc, EntryPoint = "setns", SetLastError = true)]
    private static partial int SysSetNs(SafeHandle fd, int nstype);

    /// <summary>Moves the calling thread into the namespace open on <paramref name="fd"/>.</summary>
    internal static void SetNs(SafeHandle fd, int nstype, string context) =>
        Call((Fd: fd, Type: nstype), static s => SysSetNs(s.Fd, s.Type)).ThrowIfFailed(context);
}
