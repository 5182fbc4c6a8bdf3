// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Cocoon.Vsock.Device.Interop.Abi;

namespace Cocoon.Vsock.Device.Interop;

/// <summary>AF_UNIX sockets and SCM_RIGHTS (include/linux/socket.h, include/uapi/linux/un.h).</summary>
internal static unsafe partial class Interop
{
    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_PEEK = 0x2;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;
    internal const int SHUT_RD = 0;
    internal const int SHUT_WR = 1;
    internal const int SHUT_RDWR = 2;

    /// <summary>sizeof(sockaddr_un.sun_path): the longest path is one less (the NUL).</summary>
    internal const int SunPathLength = 108;

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    private static partial SafeFdHandle SysSocket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SysSocketPair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    private static partial int SysBind(SafeHandle fd, SockAddrUn* addr, int len);

    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    private static partial int SysConnect(SafeHandle fd, SockAddrUn* addr, int len);

    [LibraryImport(Libc, EntryPoint = "listen", SetLastError = true)]
    private static partial int SysListen(SafeHandle fd, int backlog);

    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    private static partial int SysAccept4(SafeHandle fd, nint addr, nint len, int flags);

    [LibraryImport(Libc, EntryPoint = "shutdown", SetLastError = true)]
    private static partial int SysShutdown(SafeHandle fd, int how);

    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    private static partial nint SysRecv(SafeHandle fd, byte* buf, nuint len, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint SysRecvmsg(SafeHandle fd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SysSendmsg(SafeHandle fd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysUnlink(string path);

    /// <summary>Creates a non-blocking, close-on-exec AF_UNIX stream socket.</summary>
    internal static SafeFdHandle CreateUnixSocket()
    {
        var fd = SysSocket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd.IsInvalid)
        {
            IoResult.FromRaw(-1).ThrowIfFailed("socket(AF_UNIX)");
        }

        return fd;
    }

    /// <summary>socketpair(AF_UNIX, SOCK_STREAM); both ends close-on-exec, optionally non-blocking.</summary>
    internal static (SafeFdHandle First, SafeFdHandle Second) CreateSocketPair(bool nonBlocking)
    {
        int* sv = stackalloc int[2];
        int type = SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0);
        IoResult.FromRaw(SysSocketPair(AF_UNIX, type, 0, sv)).ThrowIfFailed("socketpair");
        return (new SafeFdHandle(sv[0]), new SafeFdHandle(sv[1]));
    }

    /// <summary>Whether <paramref name="path"/> fits sockaddr_un.sun_path with its NUL.</summary>
    internal static bool FitsSunPath(string path) => Encoding.UTF8.GetByteCount(path) < SunPathLength;

    private static int FillAddress(string path, SockAddrUn* addr)
    {
        addr->Family = AF_UNIX;
        var dest = new Span<byte>(addr->Path, SunPathLength);
        dest.Clear();
        int n = Encoding.UTF8.GetBytes(path, dest[..(SunPathLength - 1)]);
        return sizeof(ushort) + n + 1;
    }

    /// <summary>Binds <paramref name="fd"/> to a filesystem path and listens.</summary>
    internal static void BindAndListen(SafeHandle fd, string path, int backlog)
    {
        if (!FitsSunPath(path))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Socket path '{path}' is longer than {SunPathLength - 1} bytes; choose a shorter path.");
        }

        SockAddrUn addr;
        int len = FillAddress(path, &addr);
        IoResult.FromRaw(SysBind(fd, &addr, len)).ThrowIfFailed($"bind('{path}')");
        IoResult.FromRaw(SysListen(fd, backlog)).ThrowIfFailed($"listen('{path}')");
    }

    /// <summary>Non-blocking connect(2) to a filesystem path.</summary>
    internal static IoResult Connect(SafeHandle fd, string path)
    {
        if (!FitsSunPath(path))
        {
            return IoResultOf(Errno.ENAMETOOLONG);
        }

        SockAddrUn addr;
        int len = FillAddress(path, &addr);
        int r;
        do
        {
            r = SysConnect(fd, &addr, len);
        }
        while (IoResult.Interrupted(r));
        return IoResult.FromRaw(r);
    }

    private static IoResult IoResultOf(Errno error)
    {
        Marshal.SetLastPInvokeError((int)error);
        return IoResult.FromRaw(-1);
    }

    /// <summary>accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; a would-block accept returns null.</summary>
    internal static SafeFdHandle? Accept(SafeHandle listener, out Errno error)
    {
        int r;
        do
        {
            r = SysAccept4(listener, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
        }
        while (IoResult.Interrupted(r));
        var result = IoResult.FromRaw(r);
        error = result.Error;
        return result.Ok ? new SafeFdHandle(r) : null;
    }

    /// <summary>shutdown(2).</summary>
    internal static IoResult Shutdown(SafeHandle fd, int how) => IoResult.FromRaw(SysShutdown(fd, how));

    /// <summary>recv(2) with flags (used with MSG_PEEK for the CONNECT line).</summary>
    internal static IoResult Recv(SafeHandle fd, Span<byte> buffer, int flags)
    {
        // SAFETY: the span is pinned and its length bounds the kernel's write.
        fixed (byte* p = buffer)
        {
            nint r;
            do
            {
                r = SysRecv(fd, p, (nuint)buffer.Length, flags);
            }
            while (IoResult.Interrupted(r));
            return IoResult.FromRaw(r);
        }
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>, collecting SCM_RIGHTS descriptors into
    /// <paramref name="fds"/> as owned handles. <paramref name="truncated"/> reports MSG_CTRUNC.
    /// </summary>
    internal static IoResult ReceiveWithFds(SafeHandle fd, Span<byte> buffer, List<SafeFdHandle> fds, out bool truncated)
    {
        const int MaxFds = 32;
        byte* control = stackalloc byte[CmsgSpace(MaxFds * sizeof(int))];
        int controlLen = CmsgSpace(MaxFds * sizeof(int));
        truncated = false;

        // SAFETY: buffer and control are pinned/stack memory described exactly by iov and msg.
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)controlLen };
            nint r;
            do
            {
                r = SysRecvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            }
            while (IoResult.Interrupted(r));
            var result = IoResult.FromRaw(r);
            if (!result.Ok)
            {
                return result;
            }

            truncated = (msg.Flags & MSG_CTRUNC) != 0;
            byte* end = control + (nint)msg.ControlLen;
            byte* c = control;
            while (c + sizeof(CmsgHdr) <= end)
            {
                var hdr = (CmsgHdr*)c;
                if (hdr->Len < (nuint)sizeof(CmsgHdr) || c + (nint)hdr->Len > end)
                {
                    break;
                }

                if (hdr->Level == SOL_SOCKET && hdr->Type == SCM_RIGHTS)
                {
                    int count = (int)(hdr->Len - (nuint)sizeof(CmsgHdr)) / sizeof(int);
                    int* data = (int*)(c + sizeof(CmsgHdr));
                    for (int i = 0; i < count; i++)
                    {
                        fds.Add(new SafeFdHandle(data[i]));
                    }
                }

                c += (hdr->Len + 7) & ~(nuint)7;
            }

            return result;
        }
    }

    /// <summary>sendmsg(2) of <paramref name="buffer"/> with optional SCM_RIGHTS descriptors.</summary>
    internal static IoResult SendWithFds(SafeHandle fd, ReadOnlySpan<byte> buffer, ReadOnlySpan<SafeHandle> fds)
    {
        int controlLen = fds.Length == 0 ? 0 : CmsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLen, 1)];
        var added = new bool[fds.Length];
        try
        {
            if (fds.Length > 0)
            {
                new Span<byte>(control, controlLen).Clear();
                var hdr = (CmsgHdr*)control;
                hdr->Len = (nuint)(sizeof(CmsgHdr) + (fds.Length * sizeof(int)));
                hdr->Level = SOL_SOCKET;
                hdr->Type = SCM_RIGHTS;
                int* data = (int*)(control + sizeof(CmsgHdr));
                for (int i = 0; i < fds.Length; i++)
                {
                    fds[i].DangerousAddRef(ref added[i]);
                    data[i] = (int)fds[i].DangerousGetHandle();
                }
            }

            // SAFETY: buffer is pinned; control is stack memory of controlLen bytes.
            fixed (byte* p = buffer)
            {
                var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
                var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = controlLen == 0 ? null : control, ControlLen = (nuint)controlLen };
                nint r;
                do
                {
                    r = SysSendmsg(fd, &msg, MSG_NOSIGNAL);
                }
                while (IoResult.Interrupted(r));
                return IoResult.FromRaw(r);
            }
        }
        finally
        {
            for (int i = 0; i < fds.Length; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }

    /// <summary>Removes a socket file; a missing file is not an error.</summary>
    internal static void UnlinkIfExists(string path)
    {
        var r = IoResult.FromRaw(SysUnlink(path));
        if (!r.Ok && r.Error != Errno.ENOENT)
        {
            r.ThrowIfFailed($"unlink('{path}')");
        }
    }

    /// <summary>CMSG_SPACE for <paramref name="dataLength"/> bytes of ancillary data.</summary>
    internal static int CmsgSpace(int dataLength) => sizeof(CmsgHdr) + ((dataLength + 7) & ~7);
}
