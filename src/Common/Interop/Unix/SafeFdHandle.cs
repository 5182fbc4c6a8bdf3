// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>An owned file descriptor (socket, eventfd, epoll, memfd); closed exactly once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    /// <summary>Creates an invalid handle.</summary>
    public SafeFdHandle()
        : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of a raw descriptor (one a wrapper just created, or one received through SCM_RIGHTS).</summary>
    public SafeFdHandle(int fd)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.CloseRaw((int)handle) == 0;
}
