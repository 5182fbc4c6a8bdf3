// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>eventfd(2) (<c>include/uapi/linux/eventfd.h</c>).</summary>
internal static partial class Interop
{
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    private static partial int SysEventFd(uint initval, int flags);

    /// <summary>Creates a non-blocking, close-on-exec eventfd.</summary>
    internal static SafeFdHandle CreateEventFd() =>
        new((int)Call(static () => SysEventFd(0, EFD_CLOEXEC | EFD_NONBLOCK)).ThrowIfFailed("eventfd"));

    /// <summary>Signals an eventfd (adds 1); a full counter (EAGAIN) is already signalled.</summary>
    internal static void SignalEventFd(SafeHandle fd)
    {
        ulong one = 1;
        _ = Write(fd, MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in one)));
    }

    /// <summary>Consumes an eventfd's counter; the value carries no meaning.</summary>
    internal static void DrainEventFd(SafeHandle fd)
    {
        ulong value = 0;
        _ = Read(fd, MemoryMarshal.AsBytes(new Span<ulong>(ref value)));
    }
}
