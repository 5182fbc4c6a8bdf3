// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol;

/// <summary>Named vsock context ids (see <c>include/uapi/linux/vm_sockets.h</c>).</summary>
public static class VsockCids
{
    /// <summary>VMADDR_CID_ANY: bind to any local CID.</summary>
    public const uint Any = uint.MaxValue;

    /// <summary>VMADDR_CID_HYPERVISOR: the hypervisor.</summary>
    public const uint Hypervisor = 0;

    /// <summary>VMADDR_CID_LOCAL: this machine (loopback, needs the vsock_loopback module).</summary>
    public const uint Local = 1;

    /// <summary>VMADDR_CID_HOST: the host, seen from a guest.</summary>
    public const uint Host = 2;

    /// <summary>The lowest CID a guest can have.</summary>
    public const uint FirstGuest = 3;

    /// <summary>The highest CID a guest can have (<see cref="Any"/> is the one above it).</summary>
    public const uint LastGuest = 0xFFFF_FFFE;

    /// <summary>Whether <paramref name="cid"/> can be a guest's: <see cref="FirstGuest"/> .. <see cref="LastGuest"/>.</summary>
    public static bool IsGuest(ulong cid) => cid is >= FirstGuest and <= LastGuest;
}
