// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device;

/// <summary>
/// epoll event data: the kind in the top 8 bits, then a kind-specific value (queue index, or a
/// connection's 24-bit generation and 32-bit slot so a stale event for a reused slot is ignored).
/// </summary>
internal static class EventTokens
{
    internal const ulong Stop = 1UL << 56;
    internal const ulong FrontEndListener = 2UL << 56;
    internal const ulong FrontEnd = 3UL << 56;
    internal const ulong Kick = 4UL << 56;
    internal const ulong HostListener = 5UL << 56;
    internal const ulong HostConnection = 6UL << 56;
    internal const ulong KindMask = 0xFFUL << 56;
}
