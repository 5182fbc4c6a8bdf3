// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>An owned epoll instance. Closing a registered fd removes it from the set by itself.</summary>
internal sealed class Epoll : IDisposable
{
    private readonly SafeFdHandle _fd = Interop.EpollCreate();

    /// <summary>Registers <paramref name="fd"/> with <paramref name="token"/> as its event data.</summary>
    public void Add(SafeHandle fd, uint events, ulong token) =>
        Interop.EpollCtl(_fd, Interop.EPOLL_CTL_ADD, fd, events, token).ThrowIfFailed("epoll_ctl(ADD)");

    /// <summary>Unregisters <paramref name="fd"/>; an fd that is not registered is ignored.</summary>
    public void Remove(SafeHandle fd)
    {
        if (!fd.IsClosed)
        {
            _ = Interop.EpollCtl(_fd, Interop.EPOLL_CTL_DEL, fd, 0, 0);
        }
    }

    /// <summary>Waits for events; returns how many were stored.</summary>
    public int Wait(Span<Interop.EpollEvent> events, int timeoutMs) =>
        (int)Interop.EpollWait(_fd, events, timeoutMs).ThrowIfFailed("epoll_wait");

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();
}
