// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.State;

public sealed class CidAllocatorTests : IDisposable
{
    private readonly TempStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    private CidAllocator NewAllocator(uint first = CidAllocator.FirstGuestCid, uint last = CidAllocator.LastGuestCid) =>
        new(new CocoonPaths(_root.Path), first, last);

    [Fact]
    public void Allocate_EmptyTable_StartsAtThreeAndCountsUp()
    {
        var cids = NewAllocator();

        Assert.Equal([3u, 4u, 5u], new[] { cids.Allocate("a"), cids.Allocate("b"), cids.Allocate("c") });
        Assert.Equal("b", cids.Snapshot()[4]);
    }

    [Fact]
    public void Allocate_AfterRelease_ReusesLowestFree()
    {
        var cids = NewAllocator();
        cids.Allocate("a");
        cids.Allocate("b");
        cids.Allocate("c");

        Assert.True(cids.Release(4, "b"));

        Assert.Equal(4u, cids.Allocate("d"));
        Assert.Equal(6u, cids.Allocate("e"));
    }

    [Fact]
    public void Allocate_RangeExhausted_ThrowsResourceExhausted()
    {
        var cids = NewAllocator(10, 11);
        cids.Allocate("a");
        cids.Allocate("b");

        var e = Assert.Throws<CocoonException>(() => cids.Allocate("c"));

        Assert.Equal(CocoonErrorCode.ResourceExhausted, e.Code);
        Assert.Contains("10 to 11", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, cids.Snapshot().Count);
    }

    [Fact]
    public void Allocate_TopOfFullRange_ReturnsLastGuestCid()
    {
        var cids = NewAllocator(CidAllocator.LastGuestCid - 1);

        Assert.Equal(CidAllocator.LastGuestCid - 1, cids.Allocate("a"));
        Assert.Equal(CidAllocator.LastGuestCid, cids.Allocate("b"));
        Assert.Equal(CocoonErrorCode.ResourceExhausted, Assert.Throws<CocoonException>(() => cids.Allocate("c")).Code);
    }

    [Fact]
    public void Allocate_OwnerAlreadyHoldsCid_DropsTheStaleOne()
    {
        var cids = NewAllocator();
        cids.Allocate("a");
        cids.Allocate("b");

        Assert.Equal(3u, cids.Allocate("a"));
        Assert.Equal(2, cids.Snapshot().Count);
    }

    [Fact]
    public void Release_UnknownCid_IsNoOpReturningFalse()
    {
        var cids = NewAllocator();
        Assert.False(cids.Release(42, "a"));
        cids.Allocate("a");

        Assert.False(cids.Release(42, "a"));
        Assert.Single(cids.Snapshot());
    }

    [Fact]
    public void Release_CidOfAnotherOwner_KeepsIt()
    {
        var cids = NewAllocator();
        var cid = cids.Allocate("a");

        Assert.False(cids.Release(cid, "b"));

        Assert.Equal("a", cids.Snapshot()[cid]);
    }

    [Fact]
    public void Allocate_ManyTaken_StaysLowestFirst()
    {
        var cids = NewAllocator();
        for (var i = 0; i < 200; i++)
        {
            cids.Allocate($"b{i}");
        }

        cids.Release(100, "b97");

        Assert.Equal(100u, cids.Allocate("again"));
        Assert.Equal(203u, cids.Allocate("next"));
    }

    [Fact]
    public void Table_WrittenByHandInAnyOrder_ReadAndRewrittenInCidOrder()
    {
        var paths = new CocoonPaths(_root.Path);
        Directory.CreateDirectory(paths.VsockDirectory);
        // Escaped digits in a key are still a CID; any order is read.
        File.WriteAllText(paths.CidsFile, """{ "9": "nine", "\u0034": "four", "3": "three" }""");
        var cids = NewAllocator();

        Assert.Equal(5u, cids.Allocate("five"));
        Assert.Equal(new Dictionary<uint, string> { [3] = "three", [4] = "four", [5] = "five", [9] = "nine" }, cids.Snapshot());
        var written = System.Text.Json.JsonDocument.Parse(File.ReadAllText(paths.CidsFile)).RootElement.EnumerateObject().Select(p => p.Name);
        Assert.Equal(["3", "4", "5", "9"], written);
    }

    [Theory]
    [InlineData("""[3]""")]
    [InlineData("""{ "three": "box" }""")]
    [InlineData("""{ "-3": "box" }""")]
    [InlineData("""{ "4294967296": "box" }""")]
    [InlineData("""{ "3": 7 }""")]
    [InlineData("""{ "3": "a", "3": "b" }""")]
    public void Table_Corrupt_InvalidStateNamingTheFile(string json)
    {
        var paths = new CocoonPaths(_root.Path);
        Directory.CreateDirectory(paths.VsockDirectory);
        File.WriteAllText(paths.CidsFile, json);

        var e = Assert.Throws<CocoonException>(() => NewAllocator().Allocate("box"));

        Assert.Equal(CocoonErrorCode.InvalidState, e.Code);
        Assert.Contains(paths.CidsFile, e.Message, StringComparison.Ordinal);
    }
}
