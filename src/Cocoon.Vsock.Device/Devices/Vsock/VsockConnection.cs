// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;

namespace Cocoon.Vsock.Device.Devices.Vsock;

/// <summary>Where a connection is in its life (Firecracker's csm, plus the CONNECT line wait).</summary>
internal enum ConnectionState
{
    /// <summary>Host connected to the hybrid socket; waiting for "CONNECT port\n".</summary>
    AwaitConnectLine,

    /// <summary>Host-initiated: REQUEST queued or sent, waiting for the guest's RESPONSE.</summary>
    LocalInit,

    /// <summary>Guest-initiated: host socket connected, RESPONSE queued.</summary>
    PeerInit,

    /// <summary>Data flows.</summary>
    Established,

    /// <summary>Host socket closed; only an RST to the guest may still be queued.</summary>
    Closed,
}

/// <summary>Control packets a connection owes the guest; sent in this priority order.</summary>
[Flags]
internal enum PendingControl
{
    None = 0,
    Rst = 1,
    Request = 2,
    Response = 4,
    Shutdown = 8,
    CreditRequest = 16,
    CreditUpdate = 32,
}

/// <summary>
/// One stream between a host socket and a guest vsock socket. Credit accounting follows virtio
/// vsock §5.10.6.3 with free-running u32 counters: host→guest data is bounded by the guest's
/// advertised buffer (<see cref="PeerFree"/>); guest→host data lands in the host socket or, when
/// it is full, in <see cref="Buffer"/>, which never holds more than the buf_alloc we advertised.
/// </summary>
internal sealed class VsockConnection
{
    public VsockConnection(int slot, uint generation)
    {
        Slot = slot;
        Generation = generation;
    }

    public int Slot { get; }

    public uint Generation { get; }

    public ulong Token => ((ulong)Generation << 32) | (uint)Slot;

    public ConnectionState State { get; set; }

    /// <summary>Our port (dst of guest packets).</summary>
    public uint LocalPort { get; set; }

    /// <summary>The guest's port (src of guest packets).</summary>
    public uint PeerPort { get; set; }

    public bool InTable { get; set; }

    public SafeFdHandle? Host { get; set; }

    public bool HostReadable { get; set; }

    public bool HostWritable { get; set; } = true;

    /// <summary>Host sent EOF (read returned 0).</summary>
    public bool HostEof { get; set; }

    /// <summary>We did shutdown(SHUT_WR) on the host socket.</summary>
    public bool HostWriteShut { get; set; }

    /// <summary>SHUTDOWN flags the guest has sent (sticky).</summary>
    public uint PeerShutdown { get; set; }

    /// <summary>SHUTDOWN flags we owe/sent the guest.</summary>
    public uint LocalShutdown { get; set; }

    public PendingControl Pending { get; set; }

    public bool InRxQueue { get; set; }

    public bool CreditRequested { get; set; }

    /// <summary>Deadline in <see cref="Environment.TickCount64"/> ms; 0 when none.</summary>
    public long Deadline { get; set; }

    public uint PeerBufAlloc { get; set; }

    public uint PeerFwdCnt { get; set; }

    /// <summary>Payload bytes sent to the guest.</summary>
    public uint TxCnt { get; set; }

    /// <summary>Payload bytes received from the guest.</summary>
    public uint RxCnt { get; set; }

    /// <summary>Guest payload bytes written into the host socket.</summary>
    public uint FwdCnt { get; set; }

    /// <summary>The fwd_cnt carried by the last packet we sent.</summary>
    public uint LastFwdCntSent { get; set; }

    /// <summary>
    /// Bytes we may still send the guest before filling the buffer it advertised. The guest may
    /// shrink buf_alloc below what is already in flight (or report a fwd_cnt past what we sent):
    /// then it has no room, never a wrapped-around huge amount.
    /// </summary>
    public uint PeerFree
    {
        get
        {
            var inFlight = TxCnt - PeerFwdCnt;
            return inFlight >= PeerBufAlloc ? 0 : PeerBufAlloc - inFlight;
        }
    }

    /// <summary>Guest→host bytes waiting for the host socket to drain.</summary>
    public ByteRing Buffer { get; } = new();

    /// <summary>Partial CONNECT line length consumed so far (host-initiated only).</summary>
    public int LineBytes { get; set; }
}

/// <summary>A bounded byte ring rented from the shared pool only while it holds data.</summary>
internal sealed class ByteRing
{
    private byte[]? _array;
    private int _head;

    public int Count { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>Appends; the caller has checked the connection's credit bound.</summary>
    public void Append(ReadOnlySpan<byte> data, int capacity)
    {
        _array ??= ArrayPool<byte>.Shared.Rent(capacity);
        int size = _array.Length;
        int tail = (_head + Count) % size;
        int first = Math.Min(data.Length, size - tail);
        data[..first].CopyTo(_array.AsSpan(tail));
        data[first..].CopyTo(_array);
        Count += data.Length;
    }

    /// <summary>The first contiguous readable piece.</summary>
    public ReadOnlySpan<byte> Peek() => _array == null ? default : _array.AsSpan(_head, Math.Min(Count, _array.Length - _head));

    public void Consume(int n)
    {
        Count -= n;
        _head = Count == 0 ? 0 : (_head + n) % _array!.Length;
        if (Count == 0)
        {
            Release();
        }
    }

    public void Release()
    {
        if (_array != null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }

        _head = 0;
        Count = 0;
    }
}

/// <summary>Moving guest bytes into a connection buffer.</summary>
internal static class ByteRingExtensions
{
    /// <summary>Appends <paramref name="count"/> readable chain bytes starting at <paramref name="offset"/>.</summary>
    public static void AppendFrom(this ByteRing ring, Virtqueue.DescriptorChain chain, long offset, int count, int capacity)
    {
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(count, 64 * 1024));
        try
        {
            while (count > 0)
            {
                int n = chain.CopyFrom(offset, scratch.AsSpan(0, Math.Min(count, scratch.Length)));
                if (n == 0)
                {
                    break;
                }

                ring.Append(scratch.AsSpan(0, n), capacity);
                offset += n;
                count -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
