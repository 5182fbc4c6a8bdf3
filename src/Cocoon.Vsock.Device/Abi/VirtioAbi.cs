// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Vsock.Device.Abi;

// virtio split ring and vsock wire structs (include/uapi/linux/virtio_ring.h, virtio_vsock.h).

/// <summary>struct vring_desc (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VirtqDesc
{
    public ulong Addr;
    public uint Len;
    public ushort Flags;
    public ushort Next;
}

/// <summary>struct vring_used_elem (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VirtqUsedElem
{
    public uint Id;
    public uint Len;
}

/// <summary>struct virtio_vsock_hdr (44 bytes, packed).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VsockPacketHeader
{
    public ulong SrcCid;
    public ulong DstCid;
    public uint SrcPort;
    public uint DstPort;
    public uint Len;
    public ushort Type;
    public ushort Op;
    public uint Flags;
    public uint BufAlloc;
    public uint FwdCnt;
}
