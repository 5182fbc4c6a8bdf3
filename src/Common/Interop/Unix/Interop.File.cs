// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon;

/// <summary>open/flock/fsync/unlink/dup2/fcntl (<c>include/uapi/asm-generic/fcntl.h</c>, x86-64 values).</summary>
internal static partial class Interop
{
    /// <summary>open(2) flags.</summary>
    [Flags]
    internal enum OpenFlags
    {
        O_RDONLY = 0x0,
        O_WRONLY = 0x1,
        O_RDWR = 0x2,
        O_CREAT = 0x40,
        O_NOCTTY = 0x100,
        O_NONBLOCK = 0x800,
        O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000,
        O_CLOEXEC = 0x80000,
    }

    /// <summary>flock(2) operations.</summary>
    [Flags]
    internal enum LockOperations
    {
        LOCK_SH = 1,
        LOCK_EX = 2,
        LOCK_NB = 4,
        LOCK_UN = 8,
    }

    internal const int F_GETFD = 1;
    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;

    /// <summary>posix_fadvise(2): the range will be read soon, so the kernel starts reading it now.</summary>
    private const int POSIX_FADV_WILLNEED = 3;

    /// <summary>The file type bits of <c>st_mode</c> (S_IFMT), and the type of a regular file (S_IFREG).</summary>
    private const uint FileTypeMask = 0xF000;
    private const uint RegularFileType = 0x8000;

    /// <summary>sizeof(struct stat) on x86-64, and where its st_mode lies (after st_dev, st_ino, st_nlink).</summary>
    private const int StatSize = 144;
    private const int StatModeOffset = 24;

    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysOpen(string path, OpenFlags flags, int mode);

    [LibraryImport(Libc, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int SysLstat(string path, byte* stat);

    [LibraryImport(Libc, EntryPoint = "lseek", SetLastError = true)]
    private static partial long SysLseek(SafeHandle fd, long offset, int whence);

    [LibraryImport(Libc, EntryPoint = "posix_fadvise")]
    private static partial int SysPosixFadvise(SafeHandle fd, long offset, long length, int advice);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    private static partial int SysFlock(SafeHandle fd, LockOperations operation);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    private static partial int SysFsync(SafeHandle fd);

    [LibraryImport(Libc, EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysUnlink(string path);

    [LibraryImport(Libc, EntryPoint = "dup2", SetLastError = true)]
    private static partial int SysDup2(SafeHandle oldfd, int newfd);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SysFcntl(int fd, int cmd);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SysFcntl(SafeHandle fd, int cmd, int arg);

    /// <summary>
    /// open(2) with O_CLOEXEC always added, so a child process (a VMM, a supervisor, a guest
    /// command) never inherits the descriptor and with it a lock. .NET's own FileStream is avoided
    /// for lock files because it takes a non-blocking flock of its own that would collide with ours.
    /// </summary>
    /// <summary>
    /// Whether <paramref name="path"/> names a UNIX socket (not following a final symlink): open(2)
    /// of a socket fails with ENXIO, while files, directories and FIFOs (non-blocking) open.
    /// </summary>
    internal static bool IsSocketFile(string path)
    {
        var result = Call(path, static p => SysOpen(p, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0));
        if (result.Ok)
        {
            _ = CloseRaw((int)result.Value);
            return false;
        }

        return result.Error == Errno.ENXIO;
    }

    internal static SafeFileHandle OpenFile(string path, OpenFlags flags, int mode = 0)
    {
        var fd = Call((Path: path, Flags: flags | OpenFlags.O_CLOEXEC, Mode: mode), static s => SysOpen(s.Path, s.Flags, s.Mode)).ThrowIfFailed($"open '{path}'");
        return new SafeFileHandle((nint)fd, ownsHandle: true);
    }

    /// <summary>
    /// Opens a FIFO's write end without waiting for a reader (O_NONBLOCK, cleared once open): null
    /// when no process has the FIFO open for reading, where a blocking open(2) would wait for one forever.
    /// </summary>
    internal static SafeFileHandle? TryOpenFifoWriter(string path)
    {
        var result = Call(path, static p => SysOpen(p, OpenFlags.O_WRONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC, 0));
        if (result.Error == Errno.ENXIO)
        {
            return null;
        }

        var handle = new SafeFileHandle((nint)result.ThrowIfFailed($"open FIFO '{path}' for writing"), ownsHandle: true);
        SetBlocking(handle, $"fcntl FIFO '{path}'");
        return handle;
    }

    /// <summary>
    /// Opens a FIFO's read end without waiting for a writer (O_NONBLOCK, cleared once open): when no
    /// process has it open for writing, the first read returns the end.
    /// </summary>
    internal static SafeFileHandle OpenFifoReader(string path)
    {
        var handle = OpenFile(path, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK);
        SetBlocking(handle, $"fcntl FIFO '{path}'");
        return handle;
    }

    /// <summary>lseek(2) whence values that find a sparse file's data and holes.</summary>
    private const int SEEK_DATA = 3;
    private const int SEEK_HOLE = 4;

    /// <summary>
    /// The data extent of <paramref name="fd"/> at or after <paramref name="offset"/>, as [Start, End)
    /// (lseek SEEK_DATA, then SEEK_HOLE); null when only a hole follows.
    /// </summary>
    internal static (long Start, long End)? NextDataExtent(SafeHandle fd, long offset, string path)
    {
        var start = Call((Fd: fd, Offset: offset), static s => SysLseek(s.Fd, s.Offset, SEEK_DATA));
        if (start.Error == Errno.ENXIO)
        {
            return null;
        }

        var data = start.ThrowIfFailed($"lseek SEEK_DATA '{path}'");
        var end = Call((Fd: fd, Offset: data), static s => SysLseek(s.Fd, s.Offset, SEEK_HOLE)).ThrowIfFailed($"lseek SEEK_HOLE '{path}'");
        return (data, end);
    }

    /// <summary>Whether <paramref name="path"/> names a regular file itself (lstat(2): a final link is not followed).</summary>
    internal static unsafe bool IsRegularFile(string path)
    {
        var stat = stackalloc byte[StatSize];
        return SysLstat(path, stat) == 0 && (*(uint*)(stat + StatModeOffset) & FileTypeMask) == RegularFileType;
    }

    /// <summary>
    /// Starts reading the first <paramref name="length"/> bytes of <paramref name="fd"/> (0: all of it)
    /// into the page cache and returns without waiting for them (posix_fadvise WILLNEED); false when
    /// the kernel refused. posix_fadvise returns its error instead of setting errno.
    /// </summary>
    internal static bool AdviseWillNeed(SafeHandle fd, long length) => SysPosixFadvise(fd, 0, length, POSIX_FADV_WILLNEED) == 0;

    /// <summary>flock(2), blocking unless <see cref="LockOperations.LOCK_NB"/> is given.</summary>
    internal static void Flock(SafeHandle fd, LockOperations operation, string path) =>
        Call((Fd: fd, Operation: operation), static s => SysFlock(s.Fd, s.Operation)).ThrowIfFailed($"flock '{path}'");

    /// <summary>flock(2) with LOCK_NB added: false when another descriptor holds a conflicting lock.</summary>
    internal static bool TryFlock(SafeHandle fd, LockOperations operation, string path)
    {
        var result = Call((Fd: fd, Operation: operation | LockOperations.LOCK_NB), static s => SysFlock(s.Fd, s.Operation));
        if (result.WouldBlock)
        {
            return false;
        }

        result.ThrowIfFailed($"flock '{path}'");
        return true;
    }

    /// <summary>fsync(2).</summary>
    internal static void Fsync(SafeHandle fd, string path) =>
        Call(fd, static fd => SysFsync(fd)).ThrowIfFailed($"fsync '{path}'");

    /// <summary>Removes a file (a socket path); a missing file is not an error.</summary>
    internal static void UnlinkIfExists(string path)
    {
        var result = Call(path, static path => SysUnlink(path));
        if (!result.Ok && result.Error != Errno.ENOENT)
        {
            result.ThrowIfFailed($"unlink '{path}'");
        }
    }

    /// <summary>dup2(2): makes <paramref name="newfd"/> (0, 1 or 2) a copy of <paramref name="fd"/>.</summary>
    internal static void Dup2(SafeHandle fd, int newfd, string context) =>
        Call((Fd: fd, NewFd: newfd), static s => SysDup2(s.Fd, s.NewFd)).ThrowIfFailed(context);

    /// <summary>Clears O_NONBLOCK (fcntl F_GETFL/F_SETFL) on the open file description behind <paramref name="fd"/>, before handing it to a child as its stdio.</summary>
    internal static void SetBlocking(SafeHandle fd, string context)
    {
        var flags = Call(fd, static fd => SysFcntl(fd, F_GETFL, 0)).ThrowIfFailed(context);
        Call((Fd: fd, Flags: (int)flags & ~(int)OpenFlags.O_NONBLOCK), static s => SysFcntl(s.Fd, F_SETFL, s.Flags)).ThrowIfFailed(context);
    }

    /// <summary>Whether descriptor <paramref name="fd"/> (a standard stream) is open.</summary>
    internal static bool IsOpen(int fd) => SysFcntl(fd, F_GETFD) >= 0;
}
