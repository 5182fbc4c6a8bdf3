// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Vsock.Device.Interop.Abi;

// Linux x86_64 kernel ABI structs. Sizes are asserted in tests (AbiTests).

/// <summary>struct epoll_event: packed on x86_64 (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

/// <summary>struct iovec (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public byte* Base;
    public nuint Length;
}

/// <summary>struct msghdr (56 bytes).</summary>
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

/// <summary>struct cmsghdr (16 bytes; data follows).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CmsgHdr
{
    public nuint Len;
    public int Level;
    public int Type;
}

/// <summary>struct sockaddr_un (110 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SockAddrUn
{
    public ushort Family;
    public fixed byte Path[108];
}
