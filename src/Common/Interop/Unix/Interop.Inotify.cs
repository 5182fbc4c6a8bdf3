// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>inotify(7) (<c>include/uapi/linux/inotify.h</c>).</summary>
internal static partial class Interop
{
    internal const uint IN_MOVED_TO = 0x80;
    internal const uint IN_CREATE = 0x100;
    internal const uint IN_DELETE_SELF = 0x400;
    internal const uint IN_ONLYDIR = 0x1000000;
    internal const int IN_NONBLOCK = 0x800;
    internal const int IN_CLOEXEC = 0x80000;

    [LibraryImport(Libc, EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int SysInotifyInit1(int flags);

    [LibraryImport(Libc, EntryPoint = "inotify_add_watch", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysInotifyAddWatch(SafeHandle fd, string path, uint mask);

    /// <summary>A non-blocking, close-on-exec inotify instance.</summary>
    internal static SafeFdHandle InotifyInit() =>
        new((int)Call(static () => SysInotifyInit1(IN_NONBLOCK | IN_CLOEXEC)).ThrowIfFailed("inotify_init1"));

    /// <summary>inotify_add_watch(2): watches <paramref name="path"/> for the events in <paramref name="mask"/>; ENOENT when it does not exist.</summary>
    /// <returns>The watch descriptor, or the failure.</returns>
    internal static IoResult InotifyAddWatch(SafeHandle inotify, string path, uint mask) =>
        Call((Fd: inotify, Path: path, Mask: mask), static s => SysInotifyAddWatch(s.Fd, s.Path, s.Mask));

    /// <summary>Reads and discards every event queued on a non-blocking inotify instance.</summary>
    internal static void DrainInotify(SafeHandle inotify)
    {
        Span<byte> events = stackalloc byte[1024];
        while (Read(inotify, events) is { Ok: true, Value: > 0 })
        {
        }
    }
}
