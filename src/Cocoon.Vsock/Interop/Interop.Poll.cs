// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Vsock;

internal static partial class Interop
{
    internal const short POLLIN = 0x1;

    /// <summary>poll(2) (<c>include/uapi/asm-generic/poll.h</c>).</summary>
    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(Span<PollFd> fds, nuint nfds, int timeout);

    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    /// <summary>eventfd(2) (<c>include/uapi/linux/eventfd.h</c>).</summary>
    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(SafeFileHandle fd, in ulong value, nuint count);
}
