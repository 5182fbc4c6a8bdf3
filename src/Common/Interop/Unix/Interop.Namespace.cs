// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// setns(2) and unshare(2) (<c>include/uapi/linux/sched.h</c>), and the mount API that moves a bind
/// mount into another mount namespace: open_tree(2) and move_mount(2) (<c>include/uapi/linux/mount.h</c>,
/// Linux 5.2) through syscall(2), as glibc before 2.36 has no wrappers.
/// </summary>
internal static partial class Interop
{
    internal const int CLONE_FS = 0x00000200;
    internal const int CLONE_NEWNS = 0x00020000;
    internal const int CLONE_NEWNET = 0x40000000;

    internal const long SYS_open_tree = 428;
    internal const long SYS_move_mount = 429;

    internal const int AT_FDCWD = -100;
    internal const int OPEN_TREE_CLONE = 1;
    internal const int OPEN_TREE_CLOEXEC = 0x80000;
    internal const int MOVE_MOUNT_F_EMPTY_PATH = 0x00000004;

    [LibraryImport(Libc, EntryPoint = "setns", SetLastError = true)]
    private static partial int SysSetNs(SafeHandle fd, int nstype);

    [LibraryImport(Libc, EntryPoint = "unshare", SetLastError = true)]
    private static partial int SysUnshare(int flags);

    [LibraryImport(Libc, EntryPoint = "fchdir", SetLastError = true)]
    private static partial int SysFchdir(SafeHandle fd);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysOpenTree(long number, int dirfd, string path, int flags);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysMoveMount(long number, SafeHandle fromFd, string fromPath, int toDirFd, string toPath, int flags);

    /// <summary>Moves the calling thread into the namespace open on <paramref name="fd"/>.</summary>
    internal static void SetNs(SafeHandle fd, int nstype, string context) =>
        Call((Fd: fd, Type: nstype), static s => SysSetNs(s.Fd, s.Type)).ThrowIfFailed(context);

    /// <summary>unshare(2) for the calling thread (CLONE_FS: its own root and working directory, before a setns into a mount namespace).</summary>
    internal static void Unshare(int flags, string context) =>
        Call(flags, static f => SysUnshare(f)).ThrowIfFailed(context);

    /// <summary>fchdir(2).</summary>
    internal static void ChangeDirectory(SafeHandle directory, string context) =>
        Call(directory, static fd => SysFchdir(fd)).ThrowIfFailed(context);

    /// <summary>open_tree(2) with OPEN_TREE_CLONE: a detached bind mount of <paramref name="path"/>, owned by the returned descriptor.</summary>
    internal static SafeFdHandle CloneMount(string path) =>
        new((int)Call(path, static p => SysOpenTree(SYS_open_tree, AT_FDCWD, p, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)).ThrowIfFailed($"open_tree '{path}'"));

    /// <summary>move_mount(2) of the detached mount <paramref name="mount"/> onto <paramref name="target"/> in the calling thread's mount namespace.</summary>
    internal static void MoveMount(SafeHandle mount, string target) =>
        Call((Fd: mount, Target: target), static s => SysMoveMount(SYS_move_mount, s.Fd, string.Empty, AT_FDCWD, s.Target, MOVE_MOUNT_F_EMPTY_PATH)).ThrowIfFailed($"move_mount onto '{target}'");
}
