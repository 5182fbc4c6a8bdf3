// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>ioctl(2) and the requests Cocoon issues (<c>include/uapi/asm-generic/ioctls.h</c>, <c>include/uapi/linux/sockios.h</c>).</summary>
internal static partial class Interop
{
    internal const uint TIOCGWINSZ = 0x5413;
    internal const uint TIOCSWINSZ = 0x5414;
    internal const uint TIOCGPTN = 0x80045430;
    internal const uint SIOCGIFFLAGS = 0x8913;
    internal const uint SIOCSIFFLAGS = 0x8914;
    internal const uint SIOCADDRT = 0x890B;
    internal const uint SIOCSIFADDR = 0x8916;
    internal const uint SIOCSIFNETMASK = 0x891C;

    /// <summary>ioctl is variadic; every request Cocoon issues takes one pointer to a struct.</summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int SysIoctl(SafeHandle fd, nuint request, void* argument);

    /// <summary>ioctl(2) with <paramref name="argument"/> in and out; the struct must be the one <paramref name="request"/> expects.</summary>
    internal static unsafe IoResult Ioctl<T>(SafeHandle fd, uint request, ref T argument)
        where T : unmanaged
    {
        // SAFETY: argument is a whole T pinned for the call; the caller pairs each request with the
        // struct the kernel reads or writes for it (WinSize for TIOC[GS]WINSZ, a uint for TIOCGPTN, IfReqFlags for SIOC[GS]IFFLAGS,
        // IfReqAddr for SIOCSIFADDR and SIOCSIFNETMASK, RtEntry for SIOCADDRT),
        // whose sizes the ABI tests pin.
        fixed (T* p = &argument)
        {
            return Call((Fd: fd, Request: (nuint)request, Argument: (nint)p), static s => SysIoctl(s.Fd, s.Request, (void*)s.Argument));
        }
    }

    /// <summary><c>struct winsize</c> from <c>include/uapi/asm-generic/termios.h</c> (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct WinSize
    {
        public ushort ws_row;
        public ushort ws_col;
        public ushort ws_xpixel;
        public ushort ws_ypixel;
    }
}
