// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Memory;
using Cocoon.Vsock.Device.Virtqueue;
using Microsoft.Extensions.Logging;
using static Cocoon.Vsock.Device.Devices.Vsock.VsockProtocol;

namespace Cocoon.Vsock.Device.Devices.Vsock;

/// <summary>
/// The vsock side of the device: turns tx chains into connection events, host socket events into
/// rx packets, and keeps every connection's credit honest. Runs on the event-loop thread only.
/// Nothing here blocks: host sockets are non-blocking and edge-triggered; what cannot be written
/// waits in a per-connection buffer bounded by the buf_alloc we advertise; what cannot be sent to
/// the guest (no rx buffers, no credit) waits in the host socket.
/// </summary>
internal sealed partial class VsockMuxer : IDisposable
{
    internal const int MaxConnections = 1024;
    internal const int RstQueueCapacity = 256;
    internal const int ConnectLineMax = 32;
    internal const int LocalInitTimeoutMs = 2000;
    internal const int ConnectLineTimeoutMs = 5000;
    internal const int CloseTimeoutMs = 8000;
    private const int TxBudget = 512;

    private readonly VsockDeviceOptions _options;
    private readonly ILogger _logger;
    private readonly Epoll _epoll;
    private readonly HashSet<uint> _allowedPorts;
    private readonly VsockConnection?[] _slots = new VsockConnection?[MaxConnections];
    private readonly uint[] _generations = new uint[MaxConnections];
    private readonly Stack<int> _freeSlots = new(MaxConnections);
    private readonly Dictionary<ulong, VsockConnection> _table = [];
    private readonly HashSet<uint> _localPortsInUse = [];
    private readonly Queue<VsockConnection> _rxWork = new();
    private readonly Queue<(uint Local, uint Peer)> _rstQueue = new(RstQueueCapacity);
    private readonly Interop.IoVec[] _iov = new Interop.IoVec[Interop.IovMax];
    private uint _nextLocalPort = FirstLocalPort;
    private int _active;
    private long _nextTimerScan;

    public VsockMuxer(VsockDeviceOptions options, Epoll epoll, ILogger logger)
    {
        _options = options;
        _epoll = epoll;
        _logger = logger;
        _allowedPorts = [.. options.AllowedHostPorts];
        for (int i = MaxConnections - 1; i >= 0; i--)
        {
            _freeSlots.Push(i);
        }
    }

    /// <summary>The current guest memory (null before SET_MEM_TABLE).</summary>
    public GuestMemory? Memory { get; set; }

    /// <summary>Queue 0: device → guest.</summary>
    public SplitQueue? Rx { get; set; }

    /// <summary>Queue 1: guest → device.</summary>
    public SplitQueue? Tx { get; set; }

    /// <summary>Live connections (including those waiting for a CONNECT line or an RST to go out).</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Whether tx processing stopped because the RST queue was full.</summary>
    public bool TxBlocked { get; private set; }

    /// <summary>RSTs for unknown connections waiting for an rx buffer.</summary>
    internal int QueuedRsts => _rstQueue.Count;

    /// <summary>The most bytes forwarded to the host before the guest hears of the freed space.</summary>
    private const uint MaxForwardedBeforeCreditUpdate = 64 * 1024;

    private uint BufAlloc => (uint)_options.ConnectionBufferSize;

    private static ulong Key(uint local, uint peer) => ((ulong)local << 32) | peer;

    // ---------------------------------------------------------------- tx: guest -> host

    /// <summary>Processes tx chains; returns true when work is left for another pass.</summary>
    public bool ProcessTx()
    {
        var tx = Tx;
        var memory = Memory;
        TxBlocked = false;
        if (tx is null || memory is null || !tx.Ready)
        {
            return false;
        }

        bool more = false;
        for (int budget = TxBudget; ; budget--)
        {
            if (budget == 0)
            {
                more = true;
                break;
            }

            if (_rstQueue.Count >= RstQueueCapacity)
            {
                // Virtio allows pausing tx once side queues are full; FillRx resumes us.
                TxBlocked = true;
                break;
            }

            var result = tx.Pop(memory, wantWritable: false, out string? problem);
            if (result == PopResult.Empty)
            {
                if (!tx.ArmKickAndCheck())
                {
                    break;
                }

                continue;
            }

            if (result == PopResult.Broken)
            {
                VsockDeviceLog.QueueBroken(_logger, tx.Index, problem ?? "corrupt ring");
                break;
            }

            var chain = tx.Chain;
            if (result == PopResult.BadChain)
            {
                VsockDeviceLog.BadChain(_logger, tx.Index, problem ?? "bad chain");
            }
            else
            {
                HandleTxPacket(chain);
            }

            tx.PushUsed(chain.Head, 0);
        }

        tx.Publish();
        return more;
    }

    private void HandleTxPacket(DescriptorChain chain)
    {
        // Copy the header once into private memory; validate only the copy.
        VsockPacketHeader h = default;
        var headerBytes = MemoryMarshal.AsBytes(new Span<VsockPacketHeader>(ref h));
        if (chain.CopyFrom(0, headerBytes) < HeaderSize)
        {
            VsockDeviceLog.PacketDropped(_logger, "chain shorter than a packet header");
            return;
        }

        if (h.SrcCid != _options.GuestCid || h.DstCid != HostCid)
        {
            VsockDeviceLog.PacketDropped(_logger, $"src_cid {h.SrcCid} dst_cid {h.DstCid} not guest -> host");
            return;
        }

        _table.TryGetValue(Key(h.DstPort, h.SrcPort), out var conn);
        if (h.Len > MaxPayload || h.Len > chain.ReadableBytes - HeaderSize)
        {
            VsockDeviceLog.PacketDropped(_logger, $"payload length {h.Len} exceeds the chain or {MaxPayload} bytes");
            if (conn != null)
            {
                Kill(conn, "oversize packet");
            }

            return;
        }

        if (h.Type != TypeStream)
        {
            if (h.Op != OpRst)
            {
                if (conn != null)
                {
                    Kill(conn, $"unknown socket type {h.Type}");
                }
                else
                {
                    EnqueueRst(h.DstPort, h.SrcPort);
                }
            }

            return;
        }

        if (conn == null)
        {
            if (h.Op == OpRequest)
            {
                GuestConnect(in h);
            }
            else if (h.Op != OpRst)
            {
                EnqueueRst(h.DstPort, h.SrcPort);
            }

            return;
        }

        if (conn.State == ConnectionState.Closed)
        {
            // Our RST is queued; only the guest's own RST still matters.
            if (h.Op == OpRst)
            {
                Remove(conn);
            }

            return;
        }

        // Every guest packet carries its current credit.
        conn.PeerBufAlloc = h.BufAlloc;
        conn.PeerFwdCnt = h.FwdCnt;
        if (conn.PeerFree > 0)
        {
            conn.CreditRequested = false;
        }

        switch (h.Op)
        {
            case OpRst:
                Remove(conn);
                return;
            case OpRequest:
                Kill(conn, "duplicate REQUEST");
                return;
            case OpResponse:
                if (conn.State != ConnectionState.LocalInit || (conn.Pending & PendingControl.Request) != 0)
                {
                    Kill(conn, "unexpected RESPONSE");
                    return;
                }

                Establish(conn);
                break;
            case OpShutdown:
                if (conn.State != ConnectionState.Established)
                {
                    Kill(conn, "SHUTDOWN before the connection was established");
                    return;
                }

                conn.PeerShutdown |= h.Flags & (ShutdownRcv | ShutdownSend);
                if ((conn.PeerShutdown & ShutdownRcv) != 0)
                {
                    conn.HostReadable = false;
                    DiscardHostInput(conn);
                }

                if ((conn.PeerShutdown & ShutdownSend) != 0)
                {
                    FlushToHost(conn);
                }

                if (conn.PeerShutdown == (ShutdownRcv | ShutdownSend) && conn.Deadline == 0 && conn.Host != null)
                {
                    conn.Deadline = Environment.TickCount64 + CloseTimeoutMs;
                }

                CheckClosed(conn);
                break;
            case OpRw:
                if (conn.State != ConnectionState.Established || (conn.PeerShutdown & ShutdownSend) != 0)
                {
                    Kill(conn, "data outside an open stream");
                    return;
                }

                WriteToHost(conn, chain, h.Len);
                break;
            case OpCreditUpdate:
                break;
            case OpCreditRequest:
                conn.Pending |= PendingControl.CreditUpdate;
                break;
            default:
                Kill(conn, $"unknown op {h.Op}");
                return;
        }

        if (_slots[conn.Slot] == conn)
        {
            Schedule(conn);
        }
    }

    private void GuestConnect(in VsockPacketHeader h)
    {
        if (!_allowedPorts.Contains(h.DstPort))
        {
            VsockDeviceLog.GuestPortNotAllowed(_logger, h.DstPort);
            EnqueueRst(h.DstPort, h.SrcPort);
            return;
        }

        if (_freeSlots.Count == 0)
        {
            VsockDeviceLog.ConnectionLimit(_logger, MaxConnections);
            EnqueueRst(h.DstPort, h.SrcPort);
            return;
        }

        string path = $"{_options.UdsPath}_{h.DstPort}";
        var socket = Interop.CreateUnixSocket();
        var r = Interop.ConnectUnix(socket, path);
        if (!r.Ok)
        {
            // A user's configuration points the port at a host socket: say which one failed and why.
            var target = new FileInfo(path).LinkTarget is { } linked ? $" -> {linked}" : "";
            VsockDeviceLog.GuestDialFailed(_logger, h.DstPort, path, target, $"{System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage((int)r.Error)} ({r.Error})");
            socket.Dispose();
            EnqueueRst(h.DstPort, h.SrcPort);
            return;
        }

        var conn = Allocate(socket);
        conn.State = ConnectionState.PeerInit;
        conn.LocalPort = h.DstPort;
        conn.PeerPort = h.SrcPort;
        conn.PeerBufAlloc = h.BufAlloc;
        conn.PeerFwdCnt = h.FwdCnt;
        conn.Pending = PendingControl.Response;
        conn.InTable = true;
        _table.Add(Key(conn.LocalPort, conn.PeerPort), conn);
        Schedule(conn);
    }

    private void Establish(VsockConnection conn)
    {
        Span<byte> line = stackalloc byte[24];
        "OK "u8.CopyTo(line);
        conn.LocalPort.TryFormat(line[3..], out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        line[3 + digits] = (byte)'\n';
        var r = Interop.Write(conn.Host!, line[..(4 + digits)]);
        if (!r.Ok || r.Value != 4 + digits)
        {
            Kill(conn, "could not write OK to the host socket");
            return;
        }

        conn.State = ConnectionState.Established;
        conn.Deadline = 0;

        // Bytes may have followed the CONNECT line already; the edge is gone, so look.
        conn.HostReadable = true;
    }

    private void WriteToHost(VsockConnection conn, DescriptorChain chain, uint length)
    {
        if (length == 0)
        {
            return;
        }

        if (conn.RxCnt + length - conn.FwdCnt > BufAlloc)
        {
            Kill(conn, "guest sent more than the credit we gave");
            return;
        }

        conn.RxCnt += length;
        long written = 0;
        if (conn.Buffer.IsEmpty && conn.HostWritable)
        {
            int n = chain.BuildIoVecs(writable: false, HeaderSize, length, _iov);
            var r = Interop.Writev(conn.Host!, _iov.AsSpan(0, n));
            if (r.Ok)
            {
                written = r.Value;
            }
            else if (r.WouldBlock)
            {
                conn.HostWritable = false;
            }
            else
            {
                Kill(conn, $"host write failed ({r.Error})");
                return;
            }
        }

        Debug.Assert(written <= length, "writev reported more bytes than the iovecs described.");
        conn.FwdCnt += (uint)written;
        int rest = (int)(length - written);
        if (rest > 0)
        {
            conn.HostWritable = false;
            conn.Buffer.AppendFrom(chain, HeaderSize + written, rest, (int)BufAlloc);
        }

        // The credit check above bounds what the guest may have in flight, so the buffer never
        // outgrows what we advertised.
        Debug.Assert(conn.Buffer.Count <= BufAlloc, "Connection buffer holds more than the credit we gave.");

        MaybeCreditUpdate(conn);
    }

    private void MaybeCreditUpdate(VsockConnection conn)
    {
        // Tell the guest about freed space before its view of our buffer runs low: after a quarter
        // of the buffer, and at least every 64 KiB. Linux 6.1 guests were seen to stop sending after
        // 256 KiB without an update even with a larger buf_alloc, so a quarter of a large buffer is
        // never reached and both sides would wait for ever.
        if (conn.FwdCnt - conn.LastFwdCntSent >= Math.Min(BufAlloc / 4, MaxForwardedBeforeCreditUpdate))
        {
            conn.Pending |= PendingControl.CreditUpdate;
            Schedule(conn);
        }
    }

    private void FlushToHost(VsockConnection conn)
    {
        var host = conn.Host;
        if (host == null)
        {
            return;
        }

        while (!conn.Buffer.IsEmpty)
        {
            var r = Interop.Write(host, conn.Buffer.Peek());
            if (r.Ok)
            {
                conn.Buffer.Consume((int)r.Value);
                conn.FwdCnt += (uint)r.Value;
            }
            else if (r.WouldBlock)
            {
                conn.HostWritable = false;
                break;
            }
            else
            {
                Kill(conn, $"host write failed ({r.Error})");
                return;
            }
        }

        if (conn.Buffer.IsEmpty)
        {
            conn.HostWritable = true;
            if ((conn.PeerShutdown & ShutdownSend) != 0 && !conn.HostWriteShut)
            {
                _ = Interop.Shutdown(host, Interop.SHUT_WR);
                conn.HostWriteShut = true;
            }
        }

        MaybeCreditUpdate(conn);
    }

    private void DiscardHostInput(VsockConnection conn)
    {
        if (conn.Host == null)
        {
            return;
        }

        Span<byte> scratch = stackalloc byte[4096];
        while (true)
        {
            var r = Interop.Read(conn.Host, scratch);
            if (r.Ok && r.Value > 0)
            {
                continue;
            }

            if (!r.WouldBlock)
            {
                conn.HostEof = true;
            }

            break;
        }
    }

    private void CheckClosed(VsockConnection conn)
    {
        if (conn.State != ConnectionState.Established)
        {
            return;
        }

        bool guestToHostDone = (conn.PeerShutdown & ShutdownSend) != 0 && conn.Buffer.IsEmpty;
        bool hostToGuestDone = (conn.PeerShutdown & ShutdownRcv) != 0
            || (conn.HostEof && (conn.LocalShutdown & ShutdownSend) != 0 && (conn.Pending & PendingControl.Shutdown) == 0);
        if (guestToHostDone && hostToGuestDone)
        {
            // Both directions are finished: the RST is the orderly close confirmation.
            Kill(conn, "closed");
        }
    }

    // ---------------------------------------------------------------- rx: host -> guest

    /// <summary>
    /// Fills rx buffers with queued RSTs, control packets and host data, then notifies once.
    /// Returns true when it stopped on its budget with work left (a guest feeding bad buffers
    /// must not keep the loop here forever).
    /// </summary>
    public bool FillRx()
    {
        var rx = Rx;
        var memory = Memory;
        if (rx is null || memory is null || !rx.Ready)
        {
            return false;
        }

        bool more = false;
        for (int budget = 2 * rx.Size; _rstQueue.Count > 0 || _rxWork.Count > 0; budget--)
        {
            if (budget == 0)
            {
                more = true;
                break;
            }

            var result = rx.Pop(memory, wantWritable: true, out string? problem);
            if (result == PopResult.Empty)
            {
                if (!rx.ArmKickAndCheck())
                {
                    break;
                }

                continue;
            }

            if (result == PopResult.Broken)
            {
                VsockDeviceLog.QueueBroken(_logger, rx.Index, problem ?? "corrupt ring");
                break;
            }

            var chain = rx.Chain;
            if (result == PopResult.BadChain || chain.WritableBytes < HeaderSize)
            {
                VsockDeviceLog.BadChain(_logger, rx.Index, problem ?? "rx buffer smaller than a packet header");
                rx.PushUsed(chain.Head, 0);
                continue;
            }

            if (_rstQueue.TryDequeue(out var rst))
            {
                var h = NewHeader(rst.Local, rst.Peer, OpRst, 0);
                WriteHeader(chain, ref h);
                rx.PushUsed(chain.Head, HeaderSize);
                continue;
            }

            // Each queued connection gets at most one try per buffer: one that cannot use this
            // buffer (say, a 44-byte buffer while only data is pending) must not spin the loop.
            int used = 0;
            for (int tries = _rxWork.Count; used == 0 && tries > 0 && _rxWork.TryDequeue(out var conn); tries--)
            {
                conn.InRxQueue = false;
                if (_slots[conn.Slot] != conn)
                {
                    continue;
                }

                used = Produce(conn, chain);
                if (_slots[conn.Slot] == conn)
                {
                    Schedule(conn);
                }
            }

            if (used == 0)
            {
                rx.Unpop();
                break;
            }

            rx.PushUsed(chain.Head, (uint)used);
        }

        rx.Publish();
        return more;
    }

    private VsockPacketHeader NewHeader(uint local, uint peer, ushort op, uint fwdCnt) => new()
    {
        SrcCid = HostCid,
        DstCid = _options.GuestCid,
        SrcPort = local,
        DstPort = peer,
        Type = TypeStream,
        Op = op,
        BufAlloc = BufAlloc,
        FwdCnt = fwdCnt,
    };

    private static void WriteHeader(DescriptorChain chain, ref VsockPacketHeader h) =>
        chain.CopyTo(0, MemoryMarshal.AsBytes(new Span<VsockPacketHeader>(ref h)));

    private static bool CanSendData(VsockConnection c) =>
        c.State == ConnectionState.Established && c.HostReadable && !c.HostEof && c.Host != null
        && (c.PeerShutdown & ShutdownRcv) == 0 && (c.PeerFree > 0 || !c.CreditRequested);

    private static bool HasRxWork(VsockConnection c) => c.Pending != PendingControl.None || CanSendData(c);

    /// <summary>Writes at most one packet for <paramref name="c"/> into <paramref name="chain"/>; returns used length (0: nothing).</summary>
    private int Produce(VsockConnection c, DescriptorChain chain)
    {
        var h = NewHeader(c.LocalPort, c.PeerPort, OpInvalid, c.FwdCnt);
        if ((c.Pending & PendingControl.Rst) != 0)
        {
            h.Op = OpRst;
            WriteHeader(chain, ref h);
            Remove(c);
            return HeaderSize;
        }

        if ((c.Pending & PendingControl.Request) != 0)
        {
            h.Op = OpRequest;
            c.Pending &= ~PendingControl.Request;
        }
        else if ((c.Pending & PendingControl.Response) != 0)
        {
            h.Op = OpResponse;
            c.Pending &= ~PendingControl.Response;
            c.State = ConnectionState.Established;
        }
        else if (CanSendData(c) && c.PeerFree > 0 && chain.WritableBytes > HeaderSize)
        {
            long max = Math.Min(Math.Min(c.PeerFree, MaxPayload), chain.WritableBytes - HeaderSize);
            int n = chain.BuildIoVecs(writable: true, HeaderSize, max, _iov);
            var r = Interop.Readv(c.Host!, _iov.AsSpan(0, n));
            if (r.Ok && r.Value > 0)
            {
                Debug.Assert(r.Value <= max, "readv filled more than the iovecs described.");
                h.Op = OpRw;
                h.Len = (uint)r.Value;
                c.TxCnt += h.Len;
            }
            else if (r.Ok)
            {
                // Host EOF: the host will send no more; half-close toward the guest.
                c.HostEof = true;
                c.HostReadable = false;
                c.LocalShutdown |= ShutdownSend;
                c.Pending |= PendingControl.Shutdown;
            }
            else if (r.WouldBlock)
            {
                c.HostReadable = false;
            }
            else
            {
                Kill(c, $"host read failed ({r.Error})");
                return (c.Pending & PendingControl.Rst) != 0 ? Produce(c, chain) : 0;
            }
        }

        if (h.Op == OpInvalid)
        {
            if ((c.Pending & PendingControl.Shutdown) != 0)
            {
                h.Op = OpShutdown;
                h.Flags = c.LocalShutdown;
                c.Pending &= ~PendingControl.Shutdown;
            }
            else if (CanSendData(c) && c.PeerFree == 0)
            {
                h.Op = OpCreditRequest;
                c.CreditRequested = true;
            }
            else if ((c.Pending & PendingControl.CreditUpdate) != 0
                || (CanSendData(c) && c.PeerFree > 0 && chain.WritableBytes <= HeaderSize))
            {
                // A buffer with no room for payload still carries a (harmless) credit update, so
                // it leaves the ring instead of blocking the data behind it.
                h.Op = OpCreditUpdate;
            }
            else
            {
                return 0;
            }
        }

        // Every packet carries our credit, so a separate update is no longer owed.
        c.Pending &= ~PendingControl.CreditUpdate;
        c.LastFwdCntSent = c.FwdCnt;
        WriteHeader(chain, ref h);
        if (h.Op == OpShutdown)
        {
            CheckClosed(c);
        }

        return HeaderSize + (int)h.Len;
    }

    private void Schedule(VsockConnection c)
    {
        Debug.Assert(_slots[c.Slot] == c, "Schedule of a connection that no longer owns its slot: every caller holds a live connection.");
        if (!c.InRxQueue && HasRxWork(c))
        {
            c.InRxQueue = true;
            _rxWork.Enqueue(c);
        }
    }

    private void EnqueueRst(uint local, uint peer)
    {
        if (_rstQueue.Count < RstQueueCapacity)
        {
            _rstQueue.Enqueue((local, peer));
        }
    }

    // ---------------------------------------------------------------- connection table

    private VsockConnection Allocate(SafeFdHandle host)
    {
        Debug.Assert(_freeSlots.Count > 0, "Allocate with no free slot: callers check the connection limit first.");
        int slot = _freeSlots.Pop();
        Debug.Assert(_slots[slot] == null, "A free slot still holds a connection.");
        uint gen = (_generations[slot] + 1) & 0xFFFFFF;
        _generations[slot] = gen;
        var c = new VsockConnection(slot, gen) { Host = host };
        _slots[slot] = c;
        Interlocked.Increment(ref _active);
        _epoll.Add(host, Interop.EPOLLIN | Interop.EPOLLOUT | Interop.EPOLLRDHUP | Interop.EPOLLET, EventTokens.HostConnection | c.Token);
        return c;
    }

    /// <summary>Resets a connection: closes the host socket and tells the guest (RST) if it knows the connection.</summary>
    private void Kill(VsockConnection c, string reason)
    {
        VsockDeviceLog.ConnectionReset(_logger, c.LocalPort, c.PeerPort, reason);
        CloseHost(c);
        bool guestKnows = c.InTable && (c.State is ConnectionState.PeerInit or ConnectionState.Established
            || (c.State == ConnectionState.LocalInit && (c.Pending & PendingControl.Request) == 0));
        if (!guestKnows)
        {
            Remove(c);
            return;
        }

        c.State = ConnectionState.Closed;
        c.Pending = PendingControl.Rst;
        c.Deadline = 0;
        Schedule(c);
    }

    private static void CloseHost(VsockConnection c)
    {
        c.Host?.Dispose();
        c.Host = null;
        c.HostReadable = false;
        c.Buffer.Release();
    }

    private void Remove(VsockConnection c)
    {
        if (_slots[c.Slot] != c)
        {
            return;
        }

        CloseHost(c);
        if (c.InTable)
        {
            _table.Remove(Key(c.LocalPort, c.PeerPort));
            c.InTable = false;
        }

        _localPortsInUse.Remove(c.LocalPort);
        c.Pending = PendingControl.None;
        c.State = ConnectionState.Closed;
        _slots[c.Slot] = null;
        _freeSlots.Push(c.Slot);
        Interlocked.Decrement(ref _active);
        Debug.Assert(_active >= 0 && _freeSlots.Count <= MaxConnections, "Slot accounting went wrong: a connection was removed twice.");
    }

    /// <summary>Drops every connection without telling the guest (rings stopped, front-end gone).</summary>
    public void ResetAll()
    {
        foreach (var c in _slots)
        {
            if (c != null)
            {
                Remove(c);
            }
        }

        _rxWork.Clear();
        _rstQueue.Clear();
    }

    /// <inheritdoc/>
    public void Dispose() => ResetAll();
}
