// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon;

/// <summary>What the guest's init does once: mount, modules, hostname, clock, interfaces, power off.</summary>
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

    // <linux/if.h>
    internal const short IFF_UP = 0x1;

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysMount(string source, string target, string fstype, ulong flags, string? data);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysFinitModule(long number, SafeHandle fd, string args, int flags);

    [LibraryImport(Libc, EntryPoint = "sethostname", SetLastError = true)]
    private static partial int SysSetHostName(ReadOnlySpan<byte> name, nuint length);

    [LibraryImport(Libc, EntryPoint = "sync")]
    internal static partial void Sync();

    [LibraryImport(Libc, EntryPoint = "reboot", SetLastError = true)]
    internal static partial int Reboot(int command);

    [LibraryImport(Libc, EntryPoint = "clock_settime", SetLastError = true)]
    private static partial int SysClockSetTime(int clock, in Timespec time);

    /// <summary>mount(2); a failure is a value (EBUSY: already mounted).</summary>
    internal static IoResult Mount(string source, string target, string fstype, ulong flags, string? data) =>
        Call(() => SysMount(source, target, fstype, flags, data));

    /// <summary>finit_module(2) through syscall(2); a failure is a value (EEXIST: already loaded).</summary>
    internal static IoResult FinitModule(SafeHandle module) =>
        Call(module, static fd => SysFinitModule(SYS_finit_module, fd, string.Empty, 0));

    /// <summary>sethostname(2).</summary>
    internal static void SetHostName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        CheckIo(() => SysSetHostName(bytes, (nuint)bytes.Length), $"sethostname '{name}'");
    }

    /// <summary>clock_settime(CLOCK_REALTIME).</summary>
    internal static void SetRealtimeClock(Timespec time) =>
        CheckIo(() => SysClockSetTime(CLOCK_REALTIME, time), "clock_settime(CLOCK_REALTIME)");

    /// <summary>Sets IFF_UP on an interface through an AF_INET datagram socket.</summary>
    internal static void InterfaceUp(string name)
    {
        using var socket = new SafeFileHandle(CreateSocket(AF_INET, SOCK_DGRAM, "socket(AF_INET)"), ownsHandle: true);
        var request = default(IfReqFlags);
        Span<byte> nameBytes = stackalloc byte[16];
        Encoding.ASCII.GetBytes(name, nameBytes);
        request.ifr_name_0 = BitConverter.ToUInt64(nameBytes[..8]);
        request.ifr_name_1 = BitConverter.ToUInt64(nameBytes[8..]);
        Ioctl(socket, SIOCGIFFLAGS, ref request).ThrowIfFailed($"ioctl(SIOCGIFFLAGS, {name})");
        request.ifr_flags |= IFF_UP;
        Ioctl(socket, SIOCSIFFLAGS, ref request).ThrowIfFailed($"ioctl(SIOCSIFFLAGS, {name})");
    }

    /// <summary><c>struct ifreq</c> (the ifr_flags member) from <c>include/uapi/linux/if.h</c>: 40 bytes on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct IfReqFlags
    {
        public ulong ifr_name_0;
        public ulong ifr_name_1;
        public short ifr_flags;
    }

    /// <summary><c>struct timespec</c> from <c>include/uapi/linux/time_types.h</c> (x86-64, 16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }
}
