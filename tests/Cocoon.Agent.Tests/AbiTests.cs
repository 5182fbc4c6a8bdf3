// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Cocoon.Agent.Tests;

/// <summary>The kernel structs the agent passes to libc (src/Common/Interop/Unix), against Linux x86-64.</summary>
[SupportedOSPlatform("linux")]
public sealed class AbiTests
{
    [Fact]
    public void KernelStructs_Sizes_MatchLinuxX64()
    {
        Assert.Equal(8, Unsafe.SizeOf<Interop.WinSize>());
        Assert.Equal(40, Unsafe.SizeOf<Interop.IfReqFlags>());
        Assert.Equal(16, Unsafe.SizeOf<Interop.Timespec>());
        Assert.Equal(16, Unsafe.SizeOf<Interop.SockAddrIn>());
        Assert.Equal(40, Unsafe.SizeOf<Interop.IfReqAddr>());
        Assert.Equal(120, Unsafe.SizeOf<Interop.RtEntry>());
        Assert.Equal(8, Unsafe.SizeOf<Interop.PollFd>());
    }

    [Fact]
    public void KernelStructs_FieldOffsets_MatchLinuxX64()
    {
        Assert.Equal(2, (int)Marshal.OffsetOf<Interop.WinSize>(nameof(Interop.WinSize.ws_col)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Interop.IfReqFlags>(nameof(Interop.IfReqFlags.ifr_flags)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Interop.Timespec>(nameof(Interop.Timespec.tv_nsec)));
        Assert.Equal(4, (int)Marshal.OffsetOf<Interop.SockAddrIn>(nameof(Interop.SockAddrIn.sin_addr)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Interop.IfReqAddr>(nameof(Interop.IfReqAddr.ifr_addr)));
        Assert.Equal(24, (int)Marshal.OffsetOf<Interop.RtEntry>(nameof(Interop.RtEntry.rt_gateway)));
        Assert.Equal(56, (int)Marshal.OffsetOf<Interop.RtEntry>(nameof(Interop.RtEntry.rt_flags)));
        Assert.Equal(88, (int)Marshal.OffsetOf<Interop.RtEntry>(nameof(Interop.RtEntry.rt_dev)));
    }
}
