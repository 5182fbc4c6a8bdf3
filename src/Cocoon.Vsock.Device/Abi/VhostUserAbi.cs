// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Vsock.Device.Abi;

// vhost-user wire structs (qemu docs/interop/vhost-user.rst, "Message Specification").

/// <summary>Message header: request, flags, payload size (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostUserHeader
{
    public uint Request;
    public uint Flags;
    public uint Size;
}

/// <summary>One memory region of SET_MEM_TABLE (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostUserMemoryRegion
{
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
    public ulong MmapOffset;
}

/// <summary>Vring state: index and num (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostVringState
{
    public uint Index;
    public uint Num;
}

/// <summary>Vring addresses, in QEMU virtual addresses; note the desc, used, avail order (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostVringAddr
{
    public uint Index;
    public uint Flags;
    public ulong Desc;
    public ulong Used;
    public ulong Avail;
    public ulong Log;
}

/// <summary>Device config access header; <c>Size</c> bytes follow (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct VhostUserConfigHeader
{
    public uint Offset;
    public uint Size;
    public uint Flags;
}
