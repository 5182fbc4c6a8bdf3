// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;

namespace Cocoon.Vsock.Device.Tests.Interop;

public sealed class AbiTests
{
    [Fact]
    public void KernelStructs_Sizes_MatchLinuxX64()
    {
        Assert.Equal(12, Unsafe.SizeOf<Native.EpollEvent>());
        Assert.Equal(16, Unsafe.SizeOf<Native.IoVec>());
        Assert.Equal(56, Unsafe.SizeOf<Native.MsgHdr>());
        Assert.Equal(16, Unsafe.SizeOf<Native.CmsgHdr>());
        Assert.Equal(110, Unsafe.SizeOf<Native.SockAddrUn>());
    }

    [Fact]
    public void MsgHdr_FieldOffsets_MatchLinuxX64()
    {
        Assert.Equal(8, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.NameLen)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.Iov)));
        Assert.Equal(24, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.IovLen)));
        Assert.Equal(32, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.Control)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.ControlLen)));
        Assert.Equal(48, (int)Marshal.OffsetOf<Native.MsgHdr>(nameof(Native.MsgHdr.Flags)));
        Assert.Equal(4, (int)Marshal.OffsetOf<Native.EpollEvent>(nameof(Native.EpollEvent.Data)));
    }

    [Fact]
    public void VhostUserStructs_Sizes_MatchSpec()
    {
        Assert.Equal(12, Unsafe.SizeOf<VhostUserHeader>());
        Assert.Equal(32, Unsafe.SizeOf<VhostUserMemoryRegion>());
        Assert.Equal(8, Unsafe.SizeOf<VhostVringState>());
        Assert.Equal(40, Unsafe.SizeOf<VhostVringAddr>());
        Assert.Equal(12, Unsafe.SizeOf<VhostUserConfigHeader>());
        Assert.Equal(16, (int)Marshal.OffsetOf<VhostVringAddr>(nameof(VhostVringAddr.Used)));
        Assert.Equal(24, (int)Marshal.OffsetOf<VhostVringAddr>(nameof(VhostVringAddr.Avail)));
    }

    [Fact]
    public void VirtioStructs_Sizes_MatchSpec()
    {
        Assert.Equal(16, Unsafe.SizeOf<VirtqDesc>());
        Assert.Equal(8, Unsafe.SizeOf<VirtqUsedElem>());
        Assert.Equal(44, Unsafe.SizeOf<VsockPacketHeader>());
        Assert.Equal(24, (int)Marshal.OffsetOf<VsockPacketHeader>(nameof(VsockPacketHeader.Len)));
        Assert.Equal(30, (int)Marshal.OffsetOf<VsockPacketHeader>(nameof(VsockPacketHeader.Op)));
        Assert.Equal(40, (int)Marshal.OffsetOf<VsockPacketHeader>(nameof(VsockPacketHeader.FwdCnt)));
    }
}
