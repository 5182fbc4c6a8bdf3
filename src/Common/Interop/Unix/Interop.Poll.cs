// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>poll(2) (<c>include/uapi/asm-generic/poll.h</c>).</summary>
internal static partial class Interop
{
    internal const short POLLIN = 0x1;

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int SysPoll(PollFd* fds, nuint nfds, int timeout);

    /// <summary>poll(2) on <paramref name="fds"/>, whose descriptors the caller holds a reference on.</summary>
    /// <returns>How many entries have events.</returns>
    internal static unsafe int Poll(Span<PollFd> fds, int timeoutMs, string context)
    {
        // SAFETY: the span is pinned for the call and its length is passed as nfds.
        fixed (PollFd* p = fds)
        {
            return (int)Call((Fds: (nint)p, Count: (nuint)fds.Length, Timeout: timeoutMs), static s => SysPoll((PollFd*)s.Fds, s.Count, s.Timeout)).ThrowIfFailed(context);
        }
    }

    /// <summary><c>struct pollfd</c> from <c>include/uapi/asm-generic/poll.h</c> (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }
}
