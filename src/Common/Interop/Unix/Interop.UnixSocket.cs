// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Cocoon.Protocol;

namespace Cocoon;

/// <summary>
/// AF_UNIX sockets by path and SCM_RIGHTS (<c>include/uapi/linux/un.h</c>, <c>include/linux/socket.h</c>).
/// </summary>
internal static partial class Interop
{
    internal const int SOL_SOCKET = 1;
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    private static unsafe partial nint SysRecvmsg(SafeHandle fd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SysSendmsg(SafeHandle fd, MsgHdr* msg, int flags);

    /// <summary>sizeof(sockaddr_un.sun_path), the contract constant of <see cref="UnixSocketPath"/>.</summary>
    internal const int SunPathLength = UnixSocketPath.SunPathSize;

    /// <summary>Creates a close-on-exec AF_UNIX stream socket, non-blocking unless asked otherwise.</summary>
    internal static SafeFdHandle CreateUnixSocket(bool nonBlocking = true) =>
        new(CreateSocket(AF_UNIX, SOCK_STREAM | (nonBlocking ? SOCK_NONBLOCK : 0), "socket(AF_UNIX)"));

    /// <summary>A socketpair as two owned handles (see <see cref="CreateSocketPair"/>).</summary>
    internal static (SafeFdHandle First, SafeFdHandle Second) CreateUnixSocketPair(bool nonBlocking)
    {
        var (first, second) = CreateSocketPair(nonBlocking);
        return (new SafeFdHandle(first), new SafeFdHandle(second));
    }

    /// <summary>Accepts one connection, non-blocking and close-on-exec; null when none is pending (EAGAIN) or on failure.</summary>
    internal static SafeFdHandle? AcceptNonBlocking(SafeHandle listener, out Errno error)
    {
        var result = Accept(listener, nonBlocking: true);
        error = result.Error;
        return result.Ok ? new SafeFdHandle((int)result.Value) : null;
    }

    /// <summary>Whether <paramref name="path"/> fits sockaddr_un.sun_path with its NUL.</summary>
    internal static bool FitsSunPath(string path) => UnixSocketPath.Fits(path);

    /// <summary>Binds <paramref name="fd"/> to a filesystem path and listens.</summary>
    internal static unsafe void BindAndListen(SafeHandle fd, string path, int backlog)
    {
        UnixSocketPath.EnsureFits(path, "socket path", "choose a shorter path");

        SockAddrUn address;
        int length = FillAddress(path, &address);
        Call((Fd: fd, Address: (nint)(&address), Length: length), static s => SysBind(s.Fd, (void*)s.Address, s.Length)).ThrowIfFailed($"bind('{path}')");
        Listen(fd, backlog, $"listen('{path}')");
    }

    /// <summary>connect(2) to a filesystem path; on a non-blocking socket EINPROGRESS is a value.</summary>
    internal static unsafe IoResult ConnectUnix(SafeHandle fd, string path)
    {
        if (!FitsSunPath(path))
        {
            return IoResult.Failure(Errno.ENAMETOOLONG);
        }

        SockAddrUn address;
        int length = FillAddress(path, &address);
        return Call((Fd: fd, Address: (nint)(&address), Length: length), static s => SysConnect(s.Fd, (void*)s.Address, s.Length));
    }

    /// <summary>Fills a sockaddr_un for <paramref name="path"/>, which the caller has checked with <see cref="FitsSunPath"/>.</summary>
    /// <returns>The address length to pass to bind or connect.</returns>
    private static unsafe int FillAddress(string path, SockAddrUn* address)
    {
        // SAFETY: address points at a whole SockAddrUn on the caller's stack; the span covers
        // exactly its SunPathLength-byte Path, and the encoder writes at most SunPathLength - 1
        // bytes into it (throwing rather than overrunning), leaving the NUL from Clear.
        address->Family = AF_UNIX;
        var path108 = new Span<byte>(address->Path, SunPathLength);
        path108.Clear();
        int written = Encoding.UTF8.GetBytes(path, path108[..(SunPathLength - 1)]);
        return sizeof(ushort) + written + 1;
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>, collecting SCM_RIGHTS descriptors into
    /// <paramref name="fds"/> as owned handles. <paramref name="truncated"/> reports MSG_CTRUNC.
    /// </summary>
    internal static unsafe IoResult ReceiveWithFds(SafeHandle fd, Span<byte> buffer, List<SafeFdHandle> fds, out bool truncated)
    {
        const int MaxFds = 32;
        int controlLength = CmsgSpace(MaxFds * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        truncated = false;

        // SAFETY: buffer is pinned and control is stack memory of controlLength bytes; iov and msg
        // describe exactly those two, so the kernel writes nowhere else.
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)controlLength };
            var result = Call((Fd: fd, Msg: (nint)(&msg)), static s => SysRecvmsg(s.Fd, (MsgHdr*)s.Msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT));
            if (!result.Ok)
            {
                return result;
            }

            truncated = (msg.Flags & MSG_CTRUNC) != 0;

            // SAFETY: the kernel set msg.ControlLen to at most controlLength. Each header is read
            // only after checking it lies before end, and its data only after checking that
            // Len (>= the header size) keeps it before end; the walk advances by at least 8 bytes.
            byte* end = control + (nint)Math.Min(msg.ControlLen, (nuint)controlLength);
            byte* c = control;
            while (c + sizeof(CmsgHdr) <= end)
            {
                var header = (CmsgHdr*)c;
                if (header->Len < (nuint)sizeof(CmsgHdr) || c + (nint)header->Len > end)
                {
                    break;
                }

                if (header->Level == SOL_SOCKET && header->Type == SCM_RIGHTS)
                {
                    int count = (int)(header->Len - (nuint)sizeof(CmsgHdr)) / sizeof(int);
                    int* data = (int*)(c + sizeof(CmsgHdr));
                    for (int i = 0; i < count; i++)
                    {
                        fds.Add(new SafeFdHandle(data[i]));
                    }
                }

                c += (header->Len + 7) & ~(nuint)7;
            }

            return result;
        }
    }

    /// <summary>sendmsg(2) of <paramref name="buffer"/> with optional SCM_RIGHTS descriptors.</summary>
    internal static unsafe IoResult SendWithFds(SafeHandle fd, ReadOnlySpan<byte> buffer, ReadOnlySpan<SafeHandle> fds)
    {
        int controlLength = fds.Length == 0 ? 0 : CmsgSpace(fds.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        var added = new bool[fds.Length];
        try
        {
            if (fds.Length > 0)
            {
                // SAFETY: control holds CmsgSpace(n * 4) bytes: one header plus n ints, rounded up.
                new Span<byte>(control, controlLength).Clear();
                var header = (CmsgHdr*)control;
                header->Len = (nuint)(sizeof(CmsgHdr) + (fds.Length * sizeof(int)));
                header->Level = SOL_SOCKET;
                header->Type = SCM_RIGHTS;
                int* data = (int*)(control + sizeof(CmsgHdr));
                for (int i = 0; i < fds.Length; i++)
                {
                    fds[i].DangerousAddRef(ref added[i]);
                    data[i] = (int)fds[i].DangerousGetHandle();
                }
            }

            // SAFETY: buffer is pinned; control is stack memory of controlLength bytes.
            fixed (byte* p = buffer)
            {
                var iov = new IoVec { Base = p, Length = (nuint)buffer.Length };
                var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = controlLength == 0 ? null : control, ControlLen = (nuint)controlLength };
                return Call((Fd: fd, Msg: (nint)(&msg)), static s => SysSendmsg(s.Fd, (MsgHdr*)s.Msg, MSG_NOSIGNAL));
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

    /// <summary>CMSG_SPACE for <paramref name="dataLength"/> bytes of ancillary data.</summary>
    internal static unsafe int CmsgSpace(int dataLength) => sizeof(CmsgHdr) + ((dataLength + 7) & ~7);

    /// <summary><c>struct msghdr</c> from <c>include/linux/socket.h</c> (56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }

    /// <summary><c>struct cmsghdr</c> from <c>include/linux/socket.h</c> (16 bytes; data follows).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        public nuint Len;
        public int Level;
        public int Type;
    }

    /// <summary><c>struct sockaddr_un</c> from <c>include/uapi/linux/un.h</c> (110 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct SockAddrUn
    {
        public ushort Family;
        public fixed byte Path[SunPathLength];
    }
}
