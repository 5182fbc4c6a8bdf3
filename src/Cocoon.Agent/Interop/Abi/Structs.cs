// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Agent;

internal static partial class Interop
{
    /// <summary><c>struct winsize</c> from <c>include/uapi/asm-generic/termios.h</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct WinSize
    {
        public ushort ws_row;
        public ushort ws_col;
        public ushort ws_xpixel;
        public ushort ws_ypixel;
    }

    /// <summary><c>struct ifreq</c> (the ifr_flags member) from <c>include/uapi/linux/if.h</c>: 40 bytes on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct IfReqFlags
    {
        public ulong ifr_name_0;
        public ulong ifr_name_1;
        public short ifr_flags;
    }

    /// <summary><c>struct timespec</c> from <c>include/uapi/linux/time_types.h</c> (x86-64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }
}
