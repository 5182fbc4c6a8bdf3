// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Memory;
using Cocoon.Vsock.Device.Virtqueue;
using Microsoft.Extensions.Logging;
using static Cocoon.Vsock.Device.VhostUser.VhostUserFeatures;

namespace Cocoon.Vsock.Device.VhostUser;

/// <summary>
/// The backend state machine for one front-end session: negotiated features, the memory table
/// and the vrings. Requests come from <see cref="VhostUserChannel"/>; replies go back through it.
/// Bad requests are refused (a failure ack when the front-end asked for one, a log line
/// otherwise); only framing errors end the session.
/// </summary>
internal sealed class VhostUserBackend : IDisposable
{
    private readonly ulong _guestCid;
    private readonly ILogger _logger;

    public VhostUserBackend(ulong guestCid, ILogger logger)
    {
        _guestCid = guestCid;
        _logger = logger;
        Queues = new SplitQueue[QueueCount];
        for (int i = 0; i < QueueCount; i++)
        {
            Queues[i] = new SplitQueue(i);
        }
    }

    public SplitQueue[] Queues { get; }

    public GuestMemory? Memory { get; private set; }

    public ulong AckedFeatures { get; private set; }

    public ulong AckedProtocolFeatures { get; private set; }

    /// <summary>Kick fds taken out of service; the event loop unregisters then closes them.</summary>
    public List<SafeFdHandle> RetiredKicks { get; } = [];

    /// <summary>Set when a request stopped the rings or reset the device (connections must go).</summary>
    public bool ResetRequested { get; set; }

    private bool ProtocolFeaturesAcked => (AckedFeatures & ProtocolFeatures) != 0;

    /// <summary>Handles one request; takes ownership of <paramref name="fds"/> (closes what it does not keep).</summary>
    /// <returns>False if a reply could not be sent (the session is over).</returns>
    public bool Handle(VhostUserChannel channel, in VhostUserHeader header, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        var request = (VhostUserRequest)header.Request;
        bool needReply = (header.Flags & FlagNeedReply) != 0;
        string? error;
        try
        {
            switch (request)
            {
                case VhostUserRequest.GetFeatures:
                    return channel.ReplyU64(header.Request, Offered);
                case VhostUserRequest.GetProtocolFeatures:
                    return channel.ReplyU64(header.Request, OfferedProtocol);
                case VhostUserRequest.GetQueueNum:
                    return channel.ReplyU64(header.Request, QueueCount);
                case VhostUserRequest.GetMaxMemSlots:
                    return channel.ReplyU64(header.Request, GuestMemory.MaxRegions);
                case VhostUserRequest.GetVringBase:
                    return GetVringBase(channel, header.Request, payload);
                case VhostUserRequest.GetConfig:
                    return GetConfig(channel, header.Request, payload);
                default:
                    error = Apply(request, payload, fds);
                    break;
            }
        }
        finally
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }

            fds.Clear();
        }

        if (error != null)
        {
            VsockDeviceLog.ProtocolError(_logger, $"{request}: {error}");
        }

        // REPLY_ACK: honour NEED_REPLY whenever it is set, even if the front-end skipped
        // GET_PROTOCOL_FEATURES (rust-vmm/vhost#290).
        return !needReply || channel.ReplyU64(header.Request, error == null ? 0UL : 1UL);
    }

    /// <summary>Applies a request without a reply body; returns an error or null. Takes fds it keeps out of the list.</summary>
    private string? Apply(VhostUserRequest request, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        switch (request)
        {
            case VhostUserRequest.SetOwner:
                return null;
            case VhostUserRequest.ResetOwner:
            case VhostUserRequest.ResetDevice:
                foreach (var q in Queues)
                {
                    Retire(q.Stop());
                }

                ResetRequested = true;
                return null;
            case VhostUserRequest.SetFeatures:
                {
                    if (!TryRead(payload, out ulong features))
                    {
                        return "payload is not a u64";
                    }

                    ulong unoffered = features & ~Offered;
                    if (unoffered != 0)
                    {
                        // Some QEMU builds pass through bits they do not filter (e.g. RING_RESET).
                        VsockDeviceLog.UnofferedFeatures(_logger, unoffered);
                    }

                    AckedFeatures = features & Offered;
                    VsockDeviceLog.FeaturesSet(_logger, AckedFeatures);
                    foreach (var q in Queues)
                    {
                        q.EventIdx = (AckedFeatures & RingEventIdx) != 0;
                        if (!ProtocolFeaturesAcked && q.Started)
                        {
                            q.Enabled = true;
                        }
                    }

                    return null;
                }

            case VhostUserRequest.SetProtocolFeatures:
                {
                    if (!TryRead(payload, out ulong features))
                    {
                        return "payload is not a u64";
                    }

                    AckedProtocolFeatures = features & OfferedProtocol;
                    return null;
                }

            case VhostUserRequest.SetMemTable:
                return SetMemTable(payload, fds);
            case VhostUserRequest.SetVringNum:
                {
                    if (!TryReadState(payload, out var state, out var q))
                    {
                        return "bad vring state";
                    }

                    return q.TrySetSize(state.Num) ? null : $"queue size {state.Num} is not a power of two in 1..{SplitQueue.MaxSize}";
                }

            case VhostUserRequest.SetVringBase:
                {
                    if (!TryReadState(payload, out var state, out var q))
                    {
                        return "bad vring state";
                    }

                    if (state.Num > ushort.MaxValue)
                    {
                        return $"base {state.Num} does not fit a split ring index";
                    }

                    q.LastAvailIdx = (ushort)state.Num;
                    return null;
                }

            case VhostUserRequest.SetVringAddr:
                {
                    if (!TryRead(payload, out VhostVringAddr addr) || addr.Index >= QueueCount)
                    {
                        return "bad vring address payload";
                    }

                    var q = Queues[addr.Index];
                    if (!q.TrySetAddresses(addr.Desc, addr.Used, addr.Avail))
                    {
                        return "ring addresses are misaligned";
                    }

                    if (Memory != null && !q.TryMap(Memory))
                    {
                        return $"ring {addr.Index} addresses are outside guest memory";
                    }

                    return null;
                }

            case VhostUserRequest.SetVringKick:
            case VhostUserRequest.SetVringCall:
            case VhostUserRequest.SetVringErr:
                return SetVringFd(request, payload, fds);
            case VhostUserRequest.SetVringEnable:
                {
                    if (!TryReadState(payload, out var state, out var q) || state.Num > 1)
                    {
                        return "bad vring enable payload";
                    }

                    q.Enabled = state.Num == 1;
                    return null;
                }

            case VhostUserRequest.SetConfig:
                return "the vsock config space is read-only";
            case VhostUserRequest.SetLogBase:
            case VhostUserRequest.SetLogFd:
                return "dirty logging is not supported (the device is not migratable)";
            default:
                VsockDeviceLog.UnsupportedRequest(_logger, (uint)request);
                return $"request {(uint)request} is not supported";
        }
    }

    private string? SetMemTable(ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        if (payload.Length < 8)
        {
            return "payload too short";
        }

        uint n = MemoryMarshal.Read<uint>(payload);
        int regionSize = Unsafe.SizeOf<VhostUserMemoryRegion>();
        if (n is < 1 or > GuestMemory.MaxRegions || payload.Length < 8 + (n * regionSize))
        {
            return $"{n} regions in a payload of {payload.Length} bytes";
        }

        if (fds.Count != n)
        {
            return $"{n} regions but {fds.Count} fds";
        }

        var table = MemoryMarshal.Cast<byte, VhostUserMemoryRegion>(payload.Slice(8, (int)n * regionSize));
        GuestMemory memory;
        try
        {
            memory = GuestMemory.Map(table, fds);
        }
        catch (CocoonException e)
        {
            return e.Message;
        }

        // Swap, re-translate ring pointers, then unmap the old table (single-threaded: no chain is in flight).
        var old = Memory;
        Memory = memory;
        VsockDeviceLog.MemoryMapped(_logger, memory.RegionCount, memory.TotalSize);
        foreach (var q in Queues)
        {
            if (q.AddressesSet && q.Size != 0 && !q.TryMap(memory))
            {
                q.MarkBroken();
                VsockDeviceLog.QueueBroken(_logger, q.Index, "ring outside the new memory table");
            }
        }

        old?.Dispose();
        return null;
    }

    private string? SetVringFd(VhostUserRequest request, ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        if (!TryRead(payload, out ulong value))
        {
            return "payload is not a u64";
        }

        ulong index = value & VringIndexMask;
        if (index >= QueueCount)
        {
            return $"ring index {index} out of range";
        }

        bool noFd = (value & VringNoFd) != 0;
        SafeFdHandle? fd = null;
        if (!noFd)
        {
            if (fds.Count != 1)
            {
                return $"expected one fd, got {fds.Count}";
            }

            fd = fds[0];
            fds.Clear();
        }

        var q = Queues[index];
        switch (request)
        {
            case VhostUserRequest.SetVringKick:
                Retire(q.Kick);
                q.Kick = fd;
                q.Started = true;
                if (!ProtocolFeaturesAcked)
                {
                    q.Enabled = true;
                }

                if (!q.Mapped)
                {
                    q.TryMap(Memory);
                }

                break;
            case VhostUserRequest.SetVringCall:
                q.Call?.Dispose();
                q.Call = fd;
                break;
            default:
                q.Err?.Dispose();
                q.Err = fd;
                break;
        }

        return null;
    }

    private bool GetVringBase(VhostUserChannel channel, uint request, ReadOnlySpan<byte> payload)
    {
        if (!TryReadState(payload, out var state, out var q))
        {
            VsockDeviceLog.ProtocolError(_logger, "GET_VRING_BASE: bad payload");
            state = default;
            return channel.Reply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringState>(in state)));
        }

        // Stop the ring: everything popped has already been returned (we never hold chains).
        var reply = new VhostVringState { Index = state.Index, Num = q.LastAvailIdx };
        Retire(q.Stop());
        ResetRequested = true;
        return channel.Reply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringState>(in reply)));
    }

    private bool GetConfig(VhostUserChannel channel, uint request, ReadOnlySpan<byte> payload)
    {
        const int ConfigHeader = 12;
        if (!TryRead(payload, out VhostUserConfigHeader config) || config.Size > VhostUserChannel.MaxPayload - ConfigHeader
            || payload.Length != ConfigHeader + config.Size)
        {
            VsockDeviceLog.ProtocolError(_logger, "GET_CONFIG: bad payload");
            return channel.Reply(request, []);
        }

        // The vsock config space: le64 guest_cid.
        Span<byte> reply = stackalloc byte[ConfigHeader + (int)config.Size];
        reply.Clear();
        MemoryMarshal.Write(reply, in config);
        Span<byte> space = stackalloc byte[sizeof(ulong)];
        MemoryMarshal.Write(space, in _guestCid);
        for (uint i = 0; i < config.Size; i++)
        {
            ulong at = (ulong)config.Offset + i;
            if (at < sizeof(ulong))
            {
                reply[ConfigHeader + (int)i] = space[(int)at];
            }
        }

        return channel.Reply(request, reply);
    }

    private void Retire(SafeFdHandle? kick)
    {
        if (kick != null)
        {
            RetiredKicks.Add(kick);
        }
    }

    private bool TryReadState(ReadOnlySpan<byte> payload, out VhostVringState state, out SplitQueue queue)
    {
        queue = null!;
        if (!TryRead(payload, out state) || state.Index >= QueueCount)
        {
            return false;
        }

        queue = Queues[state.Index];
        return true;
    }

    private static bool TryRead<T>(ReadOnlySpan<byte> payload, out T value)
        where T : unmanaged
    {
        if (payload.Length < Unsafe.SizeOf<T>())
        {
            value = default;
            return false;
        }

        value = MemoryMarshal.Read<T>(payload);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var q in Queues)
        {
            q.DisposeFds();
        }

        foreach (var fd in RetiredKicks)
        {
            fd.Dispose();
        }

        RetiredKicks.Clear();
        Memory?.Dispose();
        Memory = null;
    }
}
