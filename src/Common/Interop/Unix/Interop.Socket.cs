// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>Sockets of any family (<c>include/linux/socket.h</c>, <c>include/linux/net.h</c>).</summary>
internal static partial class Interop
{
    internal const int AF_UNIX = 1;
    internal const int AF_INET = 2;

    /// <summary>AF_VSOCK from <c>include/linux/socket.h</c>.</summary>
    internal const int AF_VSOCK = 40;

    internal const int SOCK_STREAM = 1;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int MSG_PEEK = 0x2;
    internal const int SHUT_RD = 0;
    internal const int SHUT_WR = 1;
    internal const int SHUT_RDWR = 2;

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    private static partial int SysSocket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    private static unsafe partial int SysSocketPair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int SysBind(SafeHandle fd, void* addr, int addrlen);

    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    private static unsafe partial int SysConnect(SafeHandle fd, void* addr, int addrlen);

    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    private static unsafe partial int SysGetSockName(SafeHandle fd, void* addr, int* addrlen);

    [LibraryImport(Libc, EntryPoint = "listen", SetLastError = true)]
    private static partial int SysListen(SafeHandle fd, int backlog);

    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    private static partial int SysAccept4(SafeHandle fd, nint addr, nint addrlen, int flags);

    [LibraryImport(Libc, EntryPoint = "shutdown", SetLastError = true)]
    private static partial int SysShutdown(SafeHandle fd, int how);

    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint SysRecv(SafeHandle fd, byte* buffer, nuint length, int flags);

    /// <summary>socket(2), close-on-exec always added. The caller wraps the descriptor in its handle type at once.</summary>
    /// <returns>The new descriptor, owned by the caller.</returns>
    internal static int CreateSocket(int domain, int type, string context) =>
        (int)Call((Domain: domain, Type: type | SOCK_CLOEXEC), static s => SysSocket(s.Domain, s.Type, 0)).ThrowIfFailed(context);

    /// <summary>socketpair(AF_UNIX, SOCK_STREAM), both ends close-on-exec. The caller wraps both descriptors at once.</summary>
    internal static unsafe (int First, int Second) CreateSocketPair(bool nonBlocking)
    {
        int* sv = stackalloc int[2];
        var type = SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0);
        Call((Type: type, Pair: (nint)sv), static s => SysSocketPair(AF_UNIX, s.Type, 0, (int*)s.Pair)).ThrowIfFailed("socketpair");

        // SAFETY: sv is two ints of this stack frame, which the successful call filled.
        return (sv[0], sv[1]);
    }

    /// <summary>listen(2).</summary>
    internal static void Listen(SafeHandle fd, int backlog, string context) =>
        Call((Fd: fd, Backlog: backlog), static s => SysListen(s.Fd, s.Backlog)).ThrowIfFailed(context);

    /// <summary>accept4(2), close-on-exec and optionally non-blocking; a would-block accept is a value.</summary>
    internal static IoResult Accept(SafeHandle listener, bool nonBlocking) =>
        Call((Fd: listener, Flags: SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0)), static s => SysAccept4(s.Fd, 0, 0, s.Flags));

    /// <summary>shutdown(2).</summary>
    internal static IoResult Shutdown(SafeHandle fd, int how) =>
        Call((Fd: fd, How: how), static s => SysShutdown(s.Fd, s.How));

    /// <summary>recv(2) with flags (MSG_PEEK for the CONNECT line).</summary>
    internal static unsafe IoResult Recv(SafeHandle fd, Span<byte> buffer, int flags)
    {
        // SAFETY: the span is pinned for the call and its length bounds the kernel's write.
        fixed (byte* p = buffer)
        {
            return Call((Fd: fd, Buffer: (nint)p, Length: (nuint)buffer.Length, Flags: flags), static s => SysRecv(s.Fd, (byte*)s.Buffer, s.Length, s.Flags));
        }
    }
}
