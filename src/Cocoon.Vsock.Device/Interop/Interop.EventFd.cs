// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Vsock.Device.Interop;

/// <summary>eventfd(2) (include/uapi/linux/eventfd.h).</summary>
internal static partial class Interop
{
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    private static partial SafeFdHandle SysEventFd(uint initval, int flags);

    /// <summary>Creates a non-blocking, close-on-exec eventfd.</summary>
    internal static SafeFdHandle CreateEventFd()
    {
        var fd = SysEventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd.IsInvalid)
        {
            IoResult.FromRaw(-1).ThrowIfFailed("eventfd");
        }

        return fd;
    }
}
