// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using Cocoon.Vsock.Device.Memory;
using Cocoon.Vsock.Device.Virtqueue;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>The driver (guest) side of one split ring in <see cref="FakeRam"/>.</summary>
internal sealed class FakeVirtqueue
{
    private readonly FakeRam _ram;
    private readonly Stack<ushort> _free = new();
    private readonly Dictionary<ushort, List<ushort>> _chains = [];
    private ushort _availIdx;
    private ushort _lastUsed;

    public FakeVirtqueue(FakeRam ram, ushort size)
    {
        _ram = ram;
        Size = size;
        DescGpa = ram.Alloc(16UL * size, 16);
        AvailGpa = ram.Alloc(6UL + (2UL * size), 2);
        UsedGpa = ram.Alloc(6UL + (8UL * size), 4);
        ram.At(DescGpa, 16 * size).Clear();
        ram.At(AvailGpa, 6 + (2 * size)).Clear();
        ram.At(UsedGpa, 6 + (8 * size)).Clear();
        for (int i = size - 1; i >= 0; i--)
        {
            _free.Push((ushort)i);
        }
    }

    public ushort Size { get; }

    public ulong DescGpa { get; }

    public ulong AvailGpa { get; }

    public ulong UsedGpa { get; }

    public int FreeDescriptors => _free.Count;

    public ushort AvailIdx => _availIdx;

    /// <summary>A device-side queue over this ring, started and enabled.</summary>
    public SplitQueue CreateDeviceQueue(GuestMemory memory, int index, bool eventIdx = false)
    {
        var q = new SplitQueue(index);
        Assert.True(q.TrySetSize(Size));
        Assert.True(q.TrySetAddresses(_ram.ToQva(DescGpa), _ram.ToQva(UsedGpa), _ram.ToQva(AvailGpa)));
        Assert.True(q.TryMap(memory));
        q.Started = true;
        q.Enabled = true;
        q.EventIdx = eventIdx;
        return q;
    }

    public void WriteDescriptor(int index, ulong addr, uint len, ushort flags, ushort next)
    {
        var d = _ram.At(DescGpa + (16UL * (uint)index), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, addr);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], len);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Puts <paramref name="head"/> in the next avail slot and publishes it.</summary>
    public void PublishHead(ushort head)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_ram.At(AvailGpa + 4 + (2UL * (uint)(_availIdx % Size)), 2), head);
        _availIdx++;
        SetAvailIdx(_availIdx);
    }

    public void SetAvailIdx(ushort value)
    {
        _availIdx = value;
        BinaryPrimitives.WriteUInt16LittleEndian(_ram.At(AvailGpa + 2, 2), value);
    }

    public void SetAvailFlags(ushort flags) => BinaryPrimitives.WriteUInt16LittleEndian(_ram.At(AvailGpa, 2), flags);

    public void SetUsedEvent(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_ram.At(AvailGpa + 4 + (2UL * Size), 2), value);

    public ushort AvailEvent => BinaryPrimitives.ReadUInt16LittleEndian(_ram.At(UsedGpa + 4 + (8UL * Size), 2));

    public ushort UsedIdx => BinaryPrimitives.ReadUInt16LittleEndian(_ram.At(UsedGpa + 2, 2));

    /// <summary>Posts a chain of buffers; returns its head.</summary>
    public ushort Post(params (ulong Gpa, uint Len, bool Write)[] buffers)
    {
        if (_free.Count < buffers.Length)
        {
            throw new InvalidOperationException("no free descriptors");
        }

        var ids = new List<ushort>();
        foreach (var _ in buffers)
        {
            ids.Add(_free.Pop());
        }

        for (int i = 0; i < buffers.Length; i++)
        {
            bool last = i == buffers.Length - 1;
            ushort flags = (ushort)((last ? 0 : SplitQueue.DescFNext) | (buffers[i].Write ? SplitQueue.DescFWrite : 0));
            WriteDescriptor(ids[i], buffers[i].Gpa, buffers[i].Len, flags, last ? (ushort)0 : ids[i + 1]);
        }

        _chains[ids[0]] = ids;
        PublishHead(ids[0]);
        return ids[0];
    }

    /// <summary>Takes the next used element, freeing its descriptors.</summary>
    public bool TryTakeUsed(out uint id, out uint len)
    {
        id = 0;
        len = 0;
        if (UsedIdx == _lastUsed)
        {
            return false;
        }

        var e = _ram.At(UsedGpa + 4 + (8UL * (uint)(_lastUsed % Size)), 8);
        id = BinaryPrimitives.ReadUInt32LittleEndian(e);
        len = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
        _lastUsed++;
        if (_chains.Remove((ushort)id, out var ids))
        {
            foreach (var d in ids)
            {
                _free.Push(d);
            }
        }

        return true;
    }

    /// <summary>The buffers of a posted chain.</summary>
    public IReadOnlyList<ushort> ChainOf(uint head) => _chains.TryGetValue((ushort)head, out var ids) ? ids : [];
}
