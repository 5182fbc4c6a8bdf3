// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon;

/// <summary>What the guest's init does once: mount, modules, hostname, clock, interfaces, power off.</summary>
internal static partial class Interop
{
    // <sys/mount.h>
    internal const ulong MS_RDONLY = 1;
    internal const ulong MS_NOSUID = 2;
    internal const ulong MS_NODEV = 4;
    internal const ulong MS_NOEXEC = 8;
    internal const ulong MS_REMOUNT = 32;
    internal const ulong MS_BIND = 4096;
    internal const ulong MS_MOVE = 8192;

    // <sys/mount.h>: umount2 flags
    internal const int MNT_DETACH = 2;

    // <linux/reboot.h>
    internal const int RB_POWER_OFF = 0x4321fedc;

    // x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    internal const long SYS_finit_module = 313;

    internal const int CLOCK_REALTIME = 0;

    // <sys/resource.h>
    private const int PRIO_PROCESS = 0;

    /// <summary>The lowest scheduling priority (the highest nice value).</summary>
    internal const int LowestPriority = 19;

    // <linux/if.h>
    internal const short IFF_UP = 0x1;

    // <linux/route.h>
    internal const ushort RTF_UP = 0x1;
    internal const ushort RTF_GATEWAY = 0x2;

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysMount(string source, string target, string fstype, ulong flags, string? data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysUmount2(string target, int flags);

    [LibraryImport(Libc, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysStatFs(string path, out StatFsBuffer buffer);

    [LibraryImport(Libc, EntryPoint = "chroot", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysChroot(string path);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysFinitModule(long number, SafeHandle fd, string args, int flags);

    [LibraryImport(Libc, EntryPoint = "sethostname", SetLastError = true)]
    private static partial int SysSetHostName(ReadOnlySpan<byte> name, nuint length);

    [LibraryImport(Libc, EntryPoint = "sync")]
    internal static partial void Sync();

    [LibraryImport(Libc, EntryPoint = "reboot", SetLastError = true)]
    internal static partial int Reboot(int command);

    [LibraryImport(Libc, EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SysSetPriority(int which, int who, int priority);

    [LibraryImport(Libc, EntryPoint = "clock_settime", SetLastError = true)]
    private static partial int SysClockSetTime(int clock, in Timespec time);

    /// <summary>mount(2); a failure is a value (EBUSY: already mounted).</summary>
    internal static IoResult Mount(string source, string target, string fstype, ulong flags, string? data) =>
        Call(() => SysMount(source, target, fstype, flags, data));

    /// <summary>umount2(2); a failure is a value (EINVAL: not a mount point).</summary>
    internal static IoResult Unmount(string target, int flags = 0) =>
        Call(() => SysUmount2(target, flags));

    /// <summary>
    /// statfs(2), for its effect only: on a FUSE mount it is a request that waits until the
    /// connection's INIT reply has been processed. A failure is a value.
    /// </summary>
    internal static IoResult StatFs(string path) =>
        Call(() => SysStatFs(path, out _));

    /// <summary>chroot(2).</summary>
    internal static void ChangeRoot(string path) =>
        CheckIo(() => SysChroot(path), $"chroot '{path}'");

    /// <summary>finit_module(2) through syscall(2); a failure is a value (EEXIST: already loaded).</summary>
    internal static IoResult FinitModule(SafeHandle module) =>
        Call(module, static fd => SysFinitModule(SYS_finit_module, fd, string.Empty, 0));

    /// <summary>sethostname(2).</summary>
    internal static void SetHostName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        CheckIo(() => SysSetHostName(bytes, (nuint)bytes.Length), $"sethostname '{name}'");
    }

    /// <summary>
    /// setpriority(2) of the calling thread (on Linux the nice value is a thread's, and who 0 is the
    /// caller). A failure is a value.
    /// </summary>
    internal static IoResult SetCurrentThreadNice(int nice) =>
        Call(() => SysSetPriority(PRIO_PROCESS, 0, nice));

    /// <summary>clock_settime(CLOCK_REALTIME).</summary>
    internal static void SetRealtimeClock(Timespec time) =>
        CheckIo(() => SysClockSetTime(CLOCK_REALTIME, time), "clock_settime(CLOCK_REALTIME)");

    /// <summary>Sets IFF_UP on an interface through an AF_INET datagram socket.</summary>
    internal static void InterfaceUp(string name)
    {
        using var socket = InetControlSocket();
        var request = default(IfReqFlags);
        (request.ifr_name_0, request.ifr_name_1) = InterfaceName(name);
        Ioctl(socket, SIOCGIFFLAGS, ref request).ThrowIfFailed($"ioctl(SIOCGIFFLAGS, {name})");
        request.ifr_flags |= IFF_UP;
        Ioctl(socket, SIOCSIFFLAGS, ref request).ThrowIfFailed($"ioctl(SIOCSIFFLAGS, {name})");
    }

    /// <summary>Gives an interface its IPv4 address and netmask (both in network byte order, as in <c>sin_addr</c>).</summary>
    internal static void SetInterfaceAddress(string name, uint address, uint netmask)
    {
        using var socket = InetControlSocket();
        var request = default(IfReqAddr);
        (request.ifr_name_0, request.ifr_name_1) = InterfaceName(name);
        request.ifr_addr = SockAddrIn.Of(address);
        Ioctl(socket, SIOCSIFADDR, ref request).ThrowIfFailed($"ioctl(SIOCSIFADDR, {name})");
        request.ifr_addr = SockAddrIn.Of(netmask);
        Ioctl(socket, SIOCSIFNETMASK, ref request).ThrowIfFailed($"ioctl(SIOCSIFNETMASK, {name})");
    }

    /// <summary>Adds the IPv4 default route through <paramref name="gateway"/> (network byte order).</summary>
    internal static void AddDefaultRoute(uint gateway)
    {
        using var socket = InetControlSocket();
        var route = new RtEntry
        {
            rt_dst = SockAddrIn.Of(0),
            rt_gateway = SockAddrIn.Of(gateway),
            rt_genmask = SockAddrIn.Of(0),
            rt_flags = (ushort)(RTF_UP | RTF_GATEWAY),
        };
        Ioctl(socket, SIOCADDRT, ref route).ThrowIfFailed("ioctl(SIOCADDRT, default)");
    }

    private static SafeFileHandle InetControlSocket() =>
        new(CreateSocket(AF_INET, SOCK_DGRAM, "socket(AF_INET)"), ownsHandle: true);

    /// <summary><c>ifr_name</c>: up to 15 ASCII bytes and a NUL, as two words.</summary>
    private static (ulong, ulong) InterfaceName(string name)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), bytes);
        return (BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
    }

    /// <summary><c>struct ifreq</c> (the ifr_flags member) from <c>include/uapi/linux/if.h</c>: 40 bytes on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct IfReqFlags
    {
        public ulong ifr_name_0;
        public ulong ifr_name_1;
        public short ifr_flags;
    }

    /// <summary><c>struct sockaddr_in</c> from <c>include/uapi/linux/in.h</c> (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrIn
    {
        public ushort sin_family;
        public ushort sin_port;
        public uint sin_addr;
        public ulong sin_zero;

        public static SockAddrIn Of(uint address) => new() { sin_family = (ushort)AF_INET, sin_addr = address };
    }

    /// <summary><c>struct ifreq</c> (the ifr_addr member) from <c>include/uapi/linux/if.h</c>: 40 bytes on x86-64.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    internal struct IfReqAddr
    {
        public ulong ifr_name_0;
        public ulong ifr_name_1;
        public SockAddrIn ifr_addr;
    }

    /// <summary><c>struct rtentry</c> from <c>include/uapi/linux/route.h</c>: 120 bytes on x86-64.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    internal struct RtEntry
    {
        [FieldOffset(8)]
        public SockAddrIn rt_dst;
        [FieldOffset(24)]
        public SockAddrIn rt_gateway;
        [FieldOffset(40)]
        public SockAddrIn rt_genmask;
        [FieldOffset(56)]
        public ushort rt_flags;
        [FieldOffset(80)]
        public short rt_metric;
        [FieldOffset(88)]
        public nint rt_dev;
    }

    /// <summary><c>struct statfs</c> from <c>include/uapi/asm-generic/statfs.h</c>: 120 bytes on x86-64, read by no one.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 120)]
    internal struct StatFsBuffer
    {
        public long f_type;
    }

    /// <summary><c>struct timespec</c> from <c>include/uapi/linux/time_types.h</c> (x86-64, 16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }
}
