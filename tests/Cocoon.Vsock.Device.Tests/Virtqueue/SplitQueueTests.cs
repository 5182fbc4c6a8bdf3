// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Memory;
using Cocoon.Vsock.Device.Tests.Infrastructure;
using Cocoon.Vsock.Device.Virtqueue;

namespace Cocoon.Vsock.Device.Tests.Virtqueue;

public sealed class SplitQueueTests : IDisposable
{
    private const ushort N = 16;
    private readonly FakeRam _ram = FakeRam.WithGuardPages(1 << 20);
    private readonly GuestMemory _memory;
    private readonly FakeVirtqueue _ring;
    private readonly SplitQueue _queue;

    public SplitQueueTests()
    {
        _memory = _ram.CreateMemory();
        _ring = new FakeVirtqueue(_ram, N);
        _queue = _ring.CreateDeviceQueue(_memory, 1);
    }

    public void Dispose()
    {
        _memory.Dispose();
        _ram.Dispose();
    }

    private ulong Buffer(uint len) => _ram.Alloc(len);

    [Fact]
    public void Pop_ValidChain_SegmentsInOrder()
    {
        ulong a = Buffer(10), b = Buffer(20);
        _ring.Post((a, 10, false), (b, 20, false));

        Assert.Equal(PopResult.Chain, _queue.Pop(_memory, false, out _));

        var chain = _queue.Chain;
        Assert.Equal(2, chain.Count);
        Assert.Equal(30, chain.ReadableBytes);
        Assert.Equal(0, chain.WritableBytes);
        Assert.Equal(PopResult.Empty, _queue.Pop(_memory, false, out _));
    }

    [Theory]
    [InlineData(0UL, 16U)]
    [InlineData(FakeRam.GpaBase - 16, 32U)]
    [InlineData(FakeRam.GpaBase + (1 << 20) - 8, 16U)]
    [InlineData(ulong.MaxValue - 4, 16U)]
    [InlineData(FakeRam.GpaBase, uint.MaxValue)]
    public void Pop_DescriptorOutsideMemoryOrWrapping_BadChainNotBroken(ulong addr, uint len)
    {
        _ring.Post((addr, len, false));

        Assert.Equal(PopResult.BadChain, _queue.Pop(_memory, false, out string? problem));
        Assert.NotNull(problem);
        Assert.False(_queue.Broken);
    }

    [Fact]
    public void Pop_ChainLoop_QueueBroken()
    {
        ulong a = Buffer(8);
        _ring.WriteDescriptor(0, a, 8, SplitQueue.DescFNext, 1);
        _ring.WriteDescriptor(1, a, 8, SplitQueue.DescFNext, 0);
        _ring.PublishHead(0);

        Assert.Equal(PopResult.Broken, _queue.Pop(_memory, false, out _));
        Assert.True(_queue.Broken);
        Assert.Equal(PopResult.Empty, _queue.Pop(_memory, false, out _));
    }

    [Fact]
    public void Pop_NextOutOfRange_QueueBroken()
    {
        _ring.WriteDescriptor(0, Buffer(8), 8, SplitQueue.DescFNext, N);
        _ring.PublishHead(0);
        Assert.Equal(PopResult.Broken, _queue.Pop(_memory, false, out _));
    }

    [Fact]
    public void Pop_HeadOutOfRange_QueueBroken()
    {
        _ring.PublishHead(N + 3);
        Assert.Equal(PopResult.Broken, _queue.Pop(_memory, false, out _));
    }

    [Fact]
    public void Pop_AvailIndexRunsAhead_QueueBroken()
    {
        _ring.SetAvailIdx(N + 1);
        Assert.Equal(PopResult.Broken, _queue.Pop(_memory, false, out _));
    }

    [Fact]
    public void Pop_IndirectDescriptor_BadChain()
    {
        _ring.WriteDescriptor(0, Buffer(32), 32, SplitQueue.DescFIndirect, 0);
        _ring.PublishHead(0);
        Assert.Equal(PopResult.BadChain, _queue.Pop(_memory, false, out _));
    }

    [Fact]
    public void Pop_WritableInTxOrReadableAfterWritable_BadChain()
    {
        _ring.Post((Buffer(8), 8, true));
        Assert.Equal(PopResult.BadChain, _queue.Pop(_memory, false, out _));
        _ring.Post((Buffer(8), 8, true), (Buffer(8), 8, false));
        Assert.Equal(PopResult.BadChain, _queue.Pop(_memory, true, out _));
    }

    [Fact]
    public void Pop_BufferStraddlingRegions_SplitIntoSegments()
    {
        using var ram2 = FakeRam.WithGuardPages(0x2000);
        using var ram3 = FakeRam.WithGuardPages(0x2000);
        var ringRam = _ram;
        using var memory = GuestMemory.FromHost(
        [
            (FakeRam.GpaBase, ringRam.Size, FakeRam.QvaBase, ringRam.Host),
            (0x1_0000_0000, 0x2000, 0x1_0000_0000, ram2.Host),
            (0x1_0000_2000, 0x2000, 0x1_0000_2000, ram3.Host),
        ]);
        var q = _ring.CreateDeviceQueue(memory, 1);
        _ring.Post((0x1_0000_1000, 0x2000, false));

        Assert.Equal(PopResult.Chain, q.Pop(memory, false, out _));

        Assert.Equal(2, q.Chain.Count);
        Assert.Equal(ram2.Host + 0x1000, q.Chain.Segments[0].Address);
        Assert.Equal(ram3.Host, q.Chain.Segments[1].Address);
        Assert.Equal(0x1000, q.Chain.Segments[1].Length);
    }

    [Theory]
    [InlineData(0U, false)]
    [InlineData(3U, false)]
    [InlineData(1U, true)]
    [InlineData(1024U, true)]
    [InlineData(32768U, true)]
    [InlineData(65536U, false)]
    public void TrySetSize_PowerOfTwoUpTo32768(uint size, bool ok) => Assert.Equal(ok, new SplitQueue(0).TrySetSize(size));

    [Fact]
    public void TryMap_RingOutsideMemory_False()
    {
        var q = new SplitQueue(0);
        Assert.True(q.TrySetSize(1024));
        Assert.True(q.TrySetAddresses(FakeRam.QvaBase + _ram.Size - 16, FakeRam.QvaBase, FakeRam.QvaBase));
        Assert.False(q.TryMap(_memory));
        Assert.False(q.TrySetAddresses(FakeRam.QvaBase + 8, FakeRam.QvaBase, FakeRam.QvaBase));
    }

    [Fact]
    public void Publish_NoInterruptFlag_SuppressesCall()
    {
        using var call = Native.CreateEventFd();
        _queue.Call = call;
        _ring.Post((Buffer(8), 8, false));
        _queue.Pop(_memory, false, out _);
        _queue.PushUsed(_queue.Chain.Head, 0);
        _ring.SetAvailFlags(1);

        Assert.False(_queue.Publish());
        Assert.Equal(1, _ring.UsedIdx);
    }

    [Fact]
    public void Publish_EventIdx_NotifiesOnlyWhenUsedEventCrossed()
    {
        _queue.EventIdx = true;
        for (int i = 0; i < 3; i++)
        {
            _ring.Post((Buffer(8), 8, false));
        }

        _ring.SetUsedEvent(1);
        _queue.Pop(_memory, false, out _);
        _queue.PushUsed(_queue.Chain.Head, 0);
        Assert.True(_queue.Publish()); // first publish always notifies (new = 1)

        _queue.Pop(_memory, false, out _);
        _queue.PushUsed(_queue.Chain.Head, 0);
        Assert.True(_queue.Publish()); // used_event 1 crossed by 1 -> 2

        _queue.Pop(_memory, false, out _);
        _queue.PushUsed(_queue.Chain.Head, 0);
        Assert.False(_queue.Publish()); // 2 -> 3 does not cross used_event 1
    }

    [Fact]
    public void ArmKickAndCheck_EventIdx_WritesAvailEvent()
    {
        _queue.EventIdx = true;
        _ring.Post((Buffer(8), 8, false));
        _queue.Pop(_memory, false, out _);

        Assert.False(_queue.ArmKickAndCheck());
        Assert.Equal(1, _ring.AvailEvent);
        _ring.Post((Buffer(8), 8, false));
        Assert.True(_queue.ArmKickAndCheck());
    }
}
