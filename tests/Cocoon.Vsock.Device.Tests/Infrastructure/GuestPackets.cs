// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Devices.Vsock;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>How a tx packet is spread over descriptors.</summary>
public enum Layout
{
    /// <summary>Header and payload in one descriptor.</summary>
    Single,

    /// <summary>Header in one descriptor, payload in the next (Linux &lt;= 6.1).</summary>
    HeaderThenPayload,

    /// <summary>The header itself split after 10 bytes, the payload split in two.</summary>
    HeaderSplit,

    /// <summary>Every 7 bytes in its own descriptor.</summary>
    Confetti,
}

/// <summary>A packet the device put into an rx buffer.</summary>
internal sealed record RxPacket(VsockPacketHeader Header, byte[] Payload, uint UsedLen);

/// <summary>
/// The guest side of the vsock rings on <see cref="FakeRam"/>: posts tx packets in any layout,
/// posts rx buffers and reads what the device wrote.
/// </summary>
internal sealed class GuestPackets
{
    private readonly FakeRam _ram;
    private readonly Dictionary<uint, (ulong Gpa, uint Len)[]> _rxBuffers = [];
    private readonly ulong _arena;
    private readonly ulong _arenaSize;
    private ulong _arenaNext;

    public GuestPackets(FakeRam ram, FakeVirtqueue rx, FakeVirtqueue tx, ulong guestCid, ulong arenaSize = 8 << 20)
    {
        _ram = ram;
        Rx = rx;
        Tx = tx;
        GuestCid = guestCid;
        _arenaSize = arenaSize;
        _arena = ram.Alloc(arenaSize, 4096);
    }

    public FakeVirtqueue Rx { get; }

    public FakeVirtqueue Tx { get; }

    public ulong GuestCid { get; }

    /// <summary>Circular scratch allocation (old buffers are long consumed when it wraps).</summary>
    public ulong Scratch(uint length)
    {
        ulong len = (length + 15UL) & ~15UL;
        if (_arenaNext + len > _arenaSize)
        {
            _arenaNext = 0;
        }

        ulong gpa = _arena + _arenaNext;
        _arenaNext += Math.Max(len, 16);
        return gpa;
    }

    public VsockPacketHeader Header(ushort op, uint srcPort, uint dstPort, uint len = 0, uint flags = 0, uint bufAlloc = 256 * 1024, uint fwdCnt = 0) => new()
    {
        SrcCid = GuestCid,
        DstCid = VsockProtocol.HostCid,
        SrcPort = srcPort,
        DstPort = dstPort,
        Len = len,
        Type = VsockProtocol.TypeStream,
        Op = op,
        Flags = flags,
        BufAlloc = bufAlloc,
        FwdCnt = fwdCnt,
    };

    /// <summary>Posts a tx packet (header + payload) in the given layout.</summary>
    public ushort SendTx(VsockPacketHeader header, ReadOnlySpan<byte> payload, Layout layout = Layout.Single)
    {
        var bytes = new byte[VsockProtocol.HeaderSize + payload.Length];
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes.AsSpan(VsockProtocol.HeaderSize));
        var cuts = new List<int>();
        switch (layout)
        {
            case Layout.HeaderThenPayload:
                cuts.Add(VsockProtocol.HeaderSize);
                break;
            case Layout.HeaderSplit:
                cuts.Add(10);
                cuts.Add(VsockProtocol.HeaderSize);
                if (payload.Length > 1)
                {
                    cuts.Add(VsockProtocol.HeaderSize + (payload.Length / 2));
                }

                break;
            case Layout.Confetti:
                for (int at = 7; at < bytes.Length; at += 7)
                {
                    cuts.Add(at);
                }

                break;
        }

        cuts.Add(bytes.Length);
        var buffers = new List<(ulong, uint, bool)>();
        int start = 0;
        foreach (int end in cuts)
        {
            if (end <= start)
            {
                continue;
            }

            ulong gpa = Scratch((uint)(end - start));
            bytes.AsSpan(start, end - start).CopyTo(_ram.At(gpa, end - start));
            buffers.Add((gpa, (uint)(end - start), false));
            start = end;
        }

        return Tx.Post([.. buffers]);
    }

    /// <summary>Posts <paramref name="count"/> rx buffers of <paramref name="size"/> bytes (optionally header and data split).</summary>
    public void PostRx(int count, uint size = 4096, bool split = false)
    {
        for (int i = 0; i < count; i++)
        {
            (ulong Gpa, uint Len)[] parts = split
                ? [(Scratch(VsockProtocol.HeaderSize), (uint)VsockProtocol.HeaderSize), (Scratch(size), size)]
                : [(Scratch(size), size)];
            uint head = Rx.Post([.. parts.Select(p => (p.Gpa, p.Len, true))]);
            _rxBuffers[head] = parts;
        }
    }

    /// <summary>Reads every packet the device has completed on the rx ring.</summary>
    public List<RxPacket> ReadRx()
    {
        var result = new List<RxPacket>();
        while (Rx.TryTakeUsed(out uint id, out uint len))
        {
            if (!_rxBuffers.Remove(id, out var parts))
            {
                // A head the test forged (fuzzing): nothing to read back.
                result.Add(new RxPacket(default, [], len));
                continue;
            }

            var data = new byte[len];
            int at = 0;
            foreach (var (gpa, plen) in parts)
            {
                int n = (int)Math.Min(plen, len - (uint)at);
                _ram.At(gpa, n).CopyTo(data.AsSpan(at));
                at += n;
                if (at == len)
                {
                    break;
                }
            }

            if (len < VsockProtocol.HeaderSize)
            {
                result.Add(new RxPacket(default, [], len));
                continue;
            }

            var h = MemoryMarshal.Read<VsockPacketHeader>(data);
            result.Add(new RxPacket(h, data[VsockProtocol.HeaderSize..], len));
        }

        return result;
    }

    /// <summary>Consumes completed rx buffers without reading them (fuzzing: descriptors may be forged).</summary>
    public void DiscardRx()
    {
        while (Rx.TryTakeUsed(out uint id, out _))
        {
            _rxBuffers.Remove(id);
        }
    }

    /// <summary>Returns completed tx chains (the device consumed them).</summary>
    public int DrainTxUsed()
    {
        int n = 0;
        while (Tx.TryTakeUsed(out _, out uint len))
        {
            Assert.Equal(0u, len);
            n++;
        }

        return n;
    }
}
