// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

internal static partial class Interop
{
    // <sys/mount.h>
    internal const ulong MS_NOSUID = 2;
    internal const ulong MS_NODEV = 4;
    internal const ulong MS_NOEXEC = 8;

    // <linux/reboot.h>
    internal const int RB_POWER_OFF = 0x4321fedc;

    // x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    internal const long SYS_finit_module = 313;

    internal const int CLOCK_REALTIME = 0;

    // <linux/sockios.h>, <linux/if.h>
    internal const uint SIOCGIFFLAGS = 0x8913;
    internal const uint SIOCSIFFLAGS = 0x8914;
    internal const short IFF_UP = 0x1;
    internal const int AF_INET = 2;
    internal const int SOCK_DGRAM = 2;

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string fstype, ulong flags, string? data);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial long FinitModule(long number, SafeFileHandle fd, string args, int flags);

    [LibraryImport(Libc, EntryPoint = "sethostname", SetLastError = true)]
    internal static partial int SetHostName(ReadOnlySpan<byte> name, nuint length);

    [LibraryImport(Libc, EntryPoint = "sync")]
    internal static partial void Sync();

    [LibraryImport(Libc, EntryPoint = "reboot", SetLastError = true)]
    internal static partial int Reboot(int command);

    [LibraryImport(Libc, EntryPoint = "clock_settime", SetLastError = true)]
    internal static partial int ClockSetTime(int clock, in Timespec time);

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlIfReq(SafeFileHandle fd, nuint request, ref IfReqFlags request2);

    internal static void SetHostName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        CheckIo(() => SetHostName(bytes, (nuint)bytes.Length), $"sethostname '{name}'");
    }

    /// <summary>Sets IFF_UP on an interface through an AF_INET datagram socket.</summary>
    internal static void InterfaceUp(string name)
    {
        using var socket = new SafeFileHandle((nint)CheckIo(() => Socket(AF_INET, SOCK_DGRAM | O_CLOEXEC, 0), "socket(AF_INET)"), ownsHandle: true);
        var request = default(IfReqFlags);
        Span<byte> nameBytes = stackalloc byte[16];
        Encoding.ASCII.GetBytes(name, nameBytes);
        request.ifr_name_0 = BitConverter.ToUInt64(nameBytes[..8]);
        request.ifr_name_1 = BitConverter.ToUInt64(nameBytes[8..]);
        CheckIo(() => IoctlIfReq(socket, SIOCGIFFLAGS, ref request), $"ioctl(SIOCGIFFLAGS, {name})");
        request.ifr_flags |= IFF_UP;
        CheckIo(() => IoctlIfReq(socket, SIOCSIFFLAGS, ref request), $"ioctl(SIOCSIFFLAGS, {name})");
    }
}
