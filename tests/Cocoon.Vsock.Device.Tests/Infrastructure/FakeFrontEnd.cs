// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.VhostUser;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>
/// Plays QEMU: speaks vhost-user to a running <see cref="VsockDevice"/> over its socket, passing a
/// memfd for guest RAM and eventfds for kick/call with real SCM_RIGHTS.
/// </summary>
internal sealed class FakeFrontEnd : IDisposable
{
    private readonly Socket _socket;

    private FakeFrontEnd(Socket socket)
    {
        _socket = socket;
    }

    public SafeFdHandle[] Kicks { get; } = [Native.CreateEventFd(), Native.CreateEventFd()];

    public SafeFdHandle[] Calls { get; } = [Native.CreateEventFd(), Native.CreateEventFd()];

    public static FakeFrontEnd Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
        s.Connect(new UnixDomainSocketEndPoint(path));
        return new FakeFrontEnd(s);
    }

    public void Send(VhostUserRequest request, ReadOnlySpan<byte> payload = default, bool needReply = false, params SafeHandle[] fds)
    {
        var message = new byte[12 + payload.Length];
        var header = new VhostUserHeader { Request = (uint)request, Flags = 1u | (needReply ? 8u : 0u), Size = (uint)payload.Length };
        MemoryMarshal.Write(message, in header);
        payload.CopyTo(message.AsSpan(12));
        var r = Native.SendWithFds(_socket.SafeHandle, message, fds);
        Assert.True(r.Ok, $"sendmsg: {r.Error}");
    }

    public void SendRaw(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    public void SendU64(VhostUserRequest request, ulong value, bool needReply = false, params SafeHandle[] fds) =>
        Send(request, MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in value)), needReply, fds);

    public void SendState(VhostUserRequest request, uint index, uint num, bool needReply = false)
    {
        var s = new VhostVringState { Index = index, Num = num };
        Send(request, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringState>(in s)), needReply);
    }

    public (VhostUserHeader Header, byte[] Payload) Receive()
    {
        var head = new byte[12];
        ReadExactly(head);
        var h = MemoryMarshal.Read<VhostUserHeader>(head);
        var payload = new byte[h.Size];
        ReadExactly(payload);
        return (h, payload);
    }

    public ulong ReceiveU64(VhostUserRequest request)
    {
        var (h, p) = Receive();
        Assert.Equal((uint)request, h.Request);
        Assert.Equal(5u, h.Flags);
        Assert.Equal(8, p.Length);
        return BitConverter.ToUInt64(p);
    }

    public ulong Query(VhostUserRequest request)
    {
        Send(request);
        return ReceiveU64(request);
    }

    /// <summary>True if the device closed the connection (read returns 0).</summary>
    public bool IsClosedByPeer()
    {
        try
        {
            return _socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private void ReadExactly(Span<byte> buffer)
    {
        int at = 0;
        while (at < buffer.Length)
        {
            int n = _socket.Receive(buffer[at..]);
            if (n == 0)
            {
                throw new IOException("device closed the vhost-user socket");
            }

            at += n;
        }
    }

    /// <summary>
    /// Runs QEMU 7.2's realize + DRIVER_OK sequence with one memory region on
    /// <paramref name="ram"/> and rings <paramref name="rx"/>/<paramref name="tx"/>.
    /// </summary>
    public void StartDevice(FakeRam ram, FakeVirtqueue rx, FakeVirtqueue tx, bool eventIdx = true)
    {
        Assert.Equal(VhostUserFeatures.Offered, Query(VhostUserRequest.GetFeatures));
        Assert.Equal(VhostUserFeatures.OfferedProtocol, Query(VhostUserRequest.GetProtocolFeatures));
        SendU64(VhostUserRequest.SetProtocolFeatures, VhostUserFeatures.OfferedProtocol);
        Assert.Equal(3UL, Query(VhostUserRequest.GetQueueNum));
        Send(VhostUserRequest.SetOwner);
        Query(VhostUserRequest.GetFeatures);
        ulong features = VhostUserFeatures.Version1 | VhostUserFeatures.ProtocolFeatures | (eventIdx ? VhostUserFeatures.RingEventIdx : 0);
        SendU64(VhostUserRequest.SetFeatures, features);

        var region = new byte[8 + 32];
        BitConverter.TryWriteBytes(region.AsSpan(0), 1u);
        var r = new VhostUserMemoryRegion { GuestPhysAddr = FakeRam.GpaBase, MemorySize = ram.Size, UserspaceAddr = FakeRam.QvaBase, MmapOffset = 0 };
        MemoryMarshal.Write(region.AsSpan(8), in r);
        Send(VhostUserRequest.SetMemTable, region, needReply: true, ram.Fd!);
        Assert.Equal(0UL, ReceiveU64(VhostUserRequest.SetMemTable));

        foreach (var (q, i) in new[] { (rx, 0u), (tx, 1u) })
        {
            SendState(VhostUserRequest.SetVringNum, i, q.Size);
            SendState(VhostUserRequest.SetVringBase, i, 0);
            var addr = new VhostVringAddr { Index = i, Desc = ram.ToQva(q.DescGpa), Used = ram.ToQva(q.UsedGpa), Avail = ram.ToQva(q.AvailGpa) };
            Send(VhostUserRequest.SetVringAddr, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringAddr>(in addr)));
            SendU64(VhostUserRequest.SetVringKick, i, false, Kicks[i]);
        }

        SendState(VhostUserRequest.SetVringEnable, 0, 1, needReply: true);
        Assert.Equal(0UL, ReceiveU64(VhostUserRequest.SetVringEnable));
        SendState(VhostUserRequest.SetVringEnable, 1, 1, needReply: true);
        Assert.Equal(0UL, ReceiveU64(VhostUserRequest.SetVringEnable));
        SendU64(VhostUserRequest.SetVringCall, 0, false, Calls[0]);
        SendU64(VhostUserRequest.SetVringCall, 1, false, Calls[1]);

        // A GET_* round trip: everything before it has been applied.
        Query(VhostUserRequest.GetFeatures);
    }

    public void Kick(int queue) => Native.SignalEventFd(Kicks[queue]);

    public void Dispose()
    {
        _socket.Dispose();
        foreach (var fd in Kicks.Concat(Calls))
        {
            fd.Dispose();
        }
    }
}
