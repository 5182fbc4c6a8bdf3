// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>epoll(7) (<c>include/uapi/linux/eventpoll.h</c>).</summary>
internal static partial class Interop
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
    private static partial int SysEpollCreate1(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int SysEpollCtl(SafeHandle epfd, int op, SafeHandle fd, EpollEvent* ev);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int SysEpollWait(SafeHandle epfd, EpollEvent* events, int maxevents, int timeout);

    /// <summary>Creates a close-on-exec epoll instance.</summary>
    internal static SafeFdHandle EpollCreate() =>
        new((int)Call(static () => SysEpollCreate1(EPOLL_CLOEXEC)).ThrowIfFailed("epoll_create1"));

    /// <summary>epoll_ctl(2).</summary>
    internal static unsafe IoResult EpollCtl(SafeHandle epfd, int op, SafeHandle fd, uint events, ulong token)
    {
        var ev = new EpollEvent { Events = events, Data = token };

        // SAFETY: ev is a local of this frame, alive for the call.
        return Call((Epoll: epfd, Op: op, Fd: fd, Event: (nint)(&ev)), static s => SysEpollCtl(s.Epoll, s.Op, s.Fd, (EpollEvent*)s.Event));
    }

    /// <summary>epoll_wait(2): the count of events stored. After EINTR the wait restarts with the full timeout (the device waits at most one more tick).</summary>
    internal static unsafe IoResult EpollWait(SafeHandle epfd, Span<EpollEvent> events, int timeoutMs)
    {
        // SAFETY: the span is pinned for the call and its length is passed as maxevents.
        fixed (EpollEvent* p = events)
        {
            return Call((Epoll: epfd, Events: (nint)p, Count: events.Length, Timeout: timeoutMs), static s => SysEpollWait(s.Epoll, (EpollEvent*)s.Events, s.Count, s.Timeout));
        }
    }

    /// <summary><c>struct epoll_event</c>: packed on x86-64 (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }
}
