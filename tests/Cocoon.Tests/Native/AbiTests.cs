// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace Cocoon.Tests.Native;

/// <summary>The kernel structs the host library passes to libc (src/Common/Interop/Unix), against Linux x86-64.</summary>
public sealed class AbiTests
{
    [Fact]
    public void WinSize_Size_MatchesLinuxX64() => Assert.Equal(8, Unsafe.SizeOf<Interop.WinSize>());
}
