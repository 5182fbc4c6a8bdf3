// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Interop.Abi;

namespace Cocoon.Vsock.Device.Interop;

/// <summary>epoll(7) (include/uapi/linux/eventpoll.h).</summary>
internal static unsafe partial class Interop
{
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;
    internal const uint EPOLLET = 0x80000000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const int EPOLL_CLOEXEC = 0x80000;

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial SafeFdHandle SysEpollCreate1(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int SysEpollCtl(SafeHandle epfd, int op, SafeHandle fd, EpollEvent* ev);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int SysEpollWait(SafeHandle epfd, EpollEvent* events, int maxevents, int timeout);

    /// <summary>Creates a close-on-exec epoll instance.</summary>
    internal static SafeFdHandle EpollCreate()
    {
        var fd = SysEpollCreate1(EPOLL_CLOEXEC);
        if (fd.IsInvalid)
        {
            IoResult.FromRaw(-1).ThrowIfFailed("epoll_create1");
        }

        return fd;
    }

    /// <summary>epoll_ctl(2).</summary>
    internal static IoResult EpollCtl(SafeHandle epfd, int op, SafeHandle fd, uint events, ulong token)
    {
        var ev = new EpollEvent { Events = events, Data = token };
        return IoResult.FromRaw(SysEpollCtl(epfd, op, fd, &ev));
    }

    /// <summary>epoll_wait(2); an interrupted wait returns zero events.</summary>
    internal static IoResult EpollWait(SafeHandle epfd, Span<EpollEvent> events, int timeoutMs)
    {
        // SAFETY: the span is pinned and its length is passed as maxevents.
        fixed (EpollEvent* p = events)
        {
            int r = SysEpollWait(epfd, p, events.Length, timeoutMs);
            return IoResult.Interrupted(r) ? IoResult.FromRaw(0) : IoResult.FromRaw(r);
        }
    }
}
