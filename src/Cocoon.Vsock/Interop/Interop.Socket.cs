// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Cocoon.Vsock;

/// <summary>libc calls of Cocoon.Vsock; one file per syscall family.</summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>AF_VSOCK from <c>include/linux/socket.h</c>.</summary>
    internal const int AF_VSOCK = 40;

    internal const int SOCK_STREAM = 1;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(SafeSocketHandle fd, in SockaddrVm addr, int addrlen);

    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    internal static partial int Connect(SafeSocketHandle fd, in SockaddrVm addr, int addrlen);

    [LibraryImport(Libc, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(SafeSocketHandle fd, int backlog);

    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(SafeSocketHandle fd, IntPtr addr, IntPtr addrlen, int flags);

    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    internal static partial int GetSockName(SafeSocketHandle fd, out SockaddrVm addr, ref int addrlen);

    /// <summary>Creates an AF_VSOCK stream socket, close-on-exec.</summary>
    internal static SafeSocketHandle CreateVsockSocket(bool nonBlocking)
    {
        var type = SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0);
        var fd = CheckIo(() => Socket(AF_VSOCK, type, 0), "socket(AF_VSOCK, SOCK_STREAM)");
        return new SafeSocketHandle(fd, ownsHandle: true);
    }

    internal static SockaddrVm ToSockaddr(VsockEndPoint endPoint) => new()
    {
        svm_family = AF_VSOCK,
        svm_port = endPoint.Port,
        svm_cid = endPoint.Cid,
    };

    internal static int SockaddrVmSize => Marshal.SizeOf<SockaddrVm>();
}
