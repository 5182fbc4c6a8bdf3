// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Memory;

namespace Cocoon.Vsock.Device.Tests.Memory;

public sealed class GuestMemoryTests
{
    private const ulong Gpa = 0x10000;
    private const ulong Size = 0x1000;
    private const nint Host = 0x7000_0000;

    private static GuestMemory TwoRegions() => GuestMemory.FromHost(
    [
        (Gpa, Size, 0xA000_0000UL, Host),
        (Gpa + Size, Size, 0xB000_0000UL, Host + 0x10_0000),
    ]);

    [Theory]
    [InlineData(Gpa, 16UL, true, 16UL)]
    [InlineData(Gpa + Size - 1, 1UL, true, 1UL)]
    [InlineData(Gpa - 1, 1UL, false, 0UL)]
    [InlineData(Gpa + (2 * Size), 1UL, false, 0UL)]
    [InlineData(ulong.MaxValue, 2UL, false, 0UL)]
    [InlineData(Gpa, 0UL, false, 0UL)]
    public void TryTranslateGpa_Boundaries_CheckedAgainstRegions(ulong gpa, ulong len, bool ok, ulong contiguous)
    {
        using var memory = TwoRegions();
        Assert.Equal(ok, memory.TryTranslateGpa(gpa, len, out _, out ulong got));
        Assert.Equal(contiguous, got);
    }

    [Fact]
    public void TryTranslateGpa_RangeStraddlesRegions_CutAtRegionEnd()
    {
        using var memory = TwoRegions();
        Assert.True(memory.TryTranslateGpa(Gpa + Size - 8, 32, out nint first, out ulong piece));
        Assert.Equal(Host + (nint)Size - 8, first);
        Assert.Equal(8UL, piece);
        Assert.True(memory.TryTranslateGpa(Gpa + Size, 24, out nint second, out piece));
        Assert.Equal(Host + 0x10_0000, second);
        Assert.Equal(24UL, piece);
    }

    [Fact]
    public void TryGetSpan_RangeLeavingRegion_Refused()
    {
        using var memory = TwoRegions();
        Assert.False(memory.TryGetSpan(Gpa + Size - 8, 16, out _));
        Assert.False(memory.TryGetSpan(Gpa, -1, out _));
    }

    [Theory]
    [InlineData(0xA000_0000UL, 0x1000UL, true)]
    [InlineData(0xA000_0FFFUL, 2UL, false)]
    [InlineData(0xA000_0000UL, ulong.MaxValue, false)]
    [InlineData(0x9FFF_FFFFUL, 2UL, false)]
    public void TryTranslateQva_WholeRangeMustFitOneRegion(ulong qva, ulong len, bool ok)
    {
        using var memory = TwoRegions();
        Assert.Equal(ok, memory.TryTranslateQva(qva, len, out _));
    }

    [Fact]
    public void Map_BadTables_Rejected()
    {
        var empty = new VhostUserMemoryRegion { GuestPhysAddr = 0, MemorySize = 0, UserspaceAddr = 0 };
        var wraps = new VhostUserMemoryRegion { GuestPhysAddr = ulong.MaxValue - 10, MemorySize = 100, UserspaceAddr = 0 };
        var a = new VhostUserMemoryRegion { GuestPhysAddr = 0x1000, MemorySize = 0x2000, UserspaceAddr = 0 };
        var overlap = new VhostUserMemoryRegion { GuestPhysAddr = 0x2000, MemorySize = 0x2000, UserspaceAddr = 0x10000 };
        Assert.Throws<CocoonException>(() => GuestMemory.Map([empty], []));
        Assert.Throws<CocoonException>(() => GuestMemory.Map([wraps], []));
        Assert.Throws<CocoonException>(() => GuestMemory.Map([a, overlap], []));
        Assert.Throws<CocoonException>(() => GuestMemory.Map([], []));
        Assert.Throws<CocoonException>(() => GuestMemory.Map([a], []));
    }
}
