// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Tests.Infrastructure;
using Cocoon.Vsock.Device.VhostUser;
using static Cocoon.Vsock.Device.Devices.Vsock.VsockProtocol;

namespace Cocoon.Vsock.Device.Tests;

/// <summary>The whole device: real sockets, a fake QEMU over vhost-user and a fake guest on a memfd.</summary>
public sealed class VsockDeviceTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VsockDeviceOptions Options(ulong cid = 3, uint[]? ports = null) => new()
    {
        SocketPath = _dir.File("vu.sock"),
        UdsPath = _dir.File("v.sock"),
        GuestCid = cid,
        AllowedHostPorts = ports ?? [],
    };

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached");
            }

            Thread.Sleep(2);
        }
    }

    [Theory]
    [InlineData(2UL, 4096, 0U, "GuestCid")]
    [InlineData(0xFFFFFFFFUL, 4096, 0U, "GuestCid")]
    [InlineData(3UL, 100, 0U, "ConnectionBufferSize")]
    [InlineData(3UL, 4096, 0U, "AllowedHostPorts")]
    public void Start_InvalidOptions_ThrowsNamingTheOption(ulong cid, int buffer, uint port, string option)
    {
        var options = new VsockDeviceOptions
        {
            SocketPath = _dir.File("vu.sock"),
            UdsPath = _dir.File("v.sock"),
            GuestCid = cid,
            ConnectionBufferSize = buffer,
            AllowedHostPorts = option == "AllowedHostPorts" ? [port] : [],
        };

        var e = Assert.Throws<CocoonException>(() => VsockDevice.Start(options));

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_UdsPathTooLongForPorts_Throws()
    {
        var options = Options();
        var longPath = "/tmp/" + new string('x', 98);
        var e = Assert.Throws<CocoonException>(() => VsockDevice.Start(new VsockDeviceOptions
        {
            SocketPath = options.SocketPath,
            UdsPath = longPath,
            GuestCid = 3,
            AllowedHostPorts = [65535],
        }));
        Assert.Contains("UdsPath", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_DirectoryMissing_ThrowsCocoonException()
    {
        var e = Assert.Throws<CocoonException>(() => VsockDevice.Start(new VsockDeviceOptions
        {
            SocketPath = _dir.File("missing/vu.sock"),
            UdsPath = _dir.File("v.sock"),
            GuestCid = 3,
        }));
        Assert.Contains("vu.sock", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_StaleSocketFiles_ReplacedAndRemovedOnDispose()
    {
        var options = Options();
        File.WriteAllText(options.SocketPath, "stale");
        File.WriteAllText(options.UdsPath, "stale");

        var device = VsockDevice.Start(options);
        using (var probe = FakeFrontEnd.Connect(options.SocketPath))
        {
            Assert.Equal(VhostUserFeatures.Offered, probe.Query(VhostUserRequest.GetFeatures));
        }

        await device.DisposeAsync();

        var exit = await device.Completion.WaitAsync(Timeout);
        Assert.True(exit.Reason is VsockDeviceExitReason.Disposed or VsockDeviceExitReason.FrontEndDisconnected);
        Assert.False(File.Exists(options.SocketPath));
        Assert.False(File.Exists(options.UdsPath));
    }

    [Fact]
    public async Task Queries_BeforeSetup_AnswerOfferedValues()
    {
        await using var device = VsockDevice.Start(Options(cid: 0x1234_5678));
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);

        Assert.Equal(0x1_6000_0000UL, fe.Query(VhostUserRequest.GetFeatures));
        Assert.Equal(0x209UL, fe.Query(VhostUserRequest.GetProtocolFeatures));
        Assert.Equal(3UL, fe.Query(VhostUserRequest.GetQueueNum));
        Assert.Equal(8UL, fe.Query(VhostUserRequest.GetMaxMemSlots));
    }

    [Fact]
    public async Task GetConfig_QemuRequest_ReturnsGuestCid()
    {
        await using var device = VsockDevice.Start(Options(cid: 0x1234_5678));
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);
        var request = new byte[20];
        BitConverter.TryWriteBytes(request.AsSpan(4), 8u);

        fe.Send(VhostUserRequest.GetConfig, request);
        var (h, payload) = fe.Receive();

        Assert.Equal((uint)VhostUserRequest.GetConfig, h.Request);
        Assert.Equal(5u, h.Flags);
        Assert.Equal(20, payload.Length);
        Assert.Equal(0x1234_5678UL, BitConverter.ToUInt64(payload, 12));
    }

    [Fact]
    public async Task ReplyAck_GoodAndBadRequests_AckedWithStatus()
    {
        await using var device = VsockDevice.Start(Options());
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);
        fe.SendU64(VhostUserRequest.SetProtocolFeatures, 0x209);

        fe.SendState(VhostUserRequest.SetVringNum, 0, 1024, needReply: true);
        Assert.Equal(0UL, fe.ReceiveU64(VhostUserRequest.SetVringNum));
        fe.SendState(VhostUserRequest.SetVringNum, 0, 1000, needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64(VhostUserRequest.SetVringNum));
        fe.SendState(VhostUserRequest.SetVringNum, 7, 128, needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64(VhostUserRequest.SetVringNum));
        fe.Send((VhostUserRequest)99, default, needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64((VhostUserRequest)99));
        fe.Send(VhostUserRequest.SetConfig, new byte[20], needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64(VhostUserRequest.SetConfig));
        fe.Send(VhostUserRequest.SetMemTable, new byte[40], needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64(VhostUserRequest.SetMemTable));
        var addr = new VhostVringAddr { Index = 0, Desc = 0x1001, Used = 0x2000, Avail = 0x3000 };
        fe.Send(VhostUserRequest.SetVringAddr, MemoryMarshal.AsBytes(new ReadOnlySpan<VhostVringAddr>(in addr)), needReply: true);
        Assert.NotEqual(0UL, fe.ReceiveU64(VhostUserRequest.SetVringAddr));

        // Still serving after the refusals.
        Assert.Equal(VhostUserFeatures.Offered, fe.Query(VhostUserRequest.GetFeatures));
    }

    [Fact]
    public async Task BadFraming_FrontEndSendsVersionZero_DeviceFails()
    {
        await using var device = VsockDevice.Start(Options());
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);

        fe.SendRaw(new byte[12] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });

        var exit = await device.Completion.WaitAsync(Timeout);
        Assert.Equal(VsockDeviceExitReason.Failed, exit.Reason);
        Assert.True(fe.IsClosedByPeer());
    }

    [Fact]
    public async Task SecondFrontEnd_WhileSessionRuns_Refused()
    {
        await using var device = VsockDevice.Start(Options());
        using var first = FakeFrontEnd.Connect(device.Options.SocketPath);
        first.Query(VhostUserRequest.GetFeatures);

        using var second = FakeFrontEnd.Connect(device.Options.SocketPath);

        Assert.True(second.IsClosedByPeer());
        Assert.Equal(VhostUserFeatures.Offered, first.Query(VhostUserRequest.GetFeatures));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FullSession_HostConnect_BytesBothWaysThenDisconnect(bool eventIdx)
    {
        // Arrange: QEMU's 7.2 start sequence over a memfd, then a host client on the hybrid socket.
        await using var device = VsockDevice.Start(Options());
        using var ram = FakeRam.OnMemfd(16 << 20);
        var rx = new FakeVirtqueue(ram, 128);
        var tx = new FakeVirtqueue(ram, 128);
        var guest = new GuestPackets(ram, rx, tx, 3);
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);
        fe.StartDevice(ram, rx, tx, eventIdx);
        guest.PostRx(16);
        fe.Kick(0);
        using var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10000 };
        host.Connect(new UnixDomainSocketEndPoint(device.Options.UdsPath));

        // Act + Assert: CONNECT -> REQUEST in the guest, with an interrupt.
        host.Send("CONNECT 1024\n"u8);
        WaitUntil(() => rx.UsedIdx >= 1);
        var request = Assert.Single(guest.ReadRx());
        Assert.Equal(OpRequest, request.Header.Op);
        Assert.Equal(1024u, request.Header.DstPort);
        WaitUntil(() => Native.Read(fe.Calls[0], new byte[8]).Ok);

        // Guest accepts -> OK line on the host.
        guest.SendTx(guest.Header(OpResponse, 1024, request.Header.SrcPort), default);
        fe.Kick(1);
        var line = new byte[64];
        int n = host.Receive(line);
        Assert.Equal($"OK {request.Header.SrcPort}\n", Encoding.ASCII.GetString(line, 0, n));

        // Host -> guest.
        var toGuest = new byte[10000];
        new Random(5).NextBytes(toGuest);
        host.Send(toGuest);
        var received = new List<byte>();
        WaitUntil(() =>
        {
            received.AddRange(guest.ReadRx().Where(p => p.Header.Op == OpRw).SelectMany(p => p.Payload));
            return received.Count >= toGuest.Length;
        });
        Assert.Equal(toGuest, received);

        // Guest -> host, header split from payload.
        var toHost = new byte[3000];
        new Random(6).NextBytes(toHost);
        guest.SendTx(guest.Header(OpRw, 1024, request.Header.SrcPort, (uint)toHost.Length), toHost, Layout.HeaderThenPayload);
        fe.Kick(1);
        var got = new byte[toHost.Length];
        int at = 0;
        while (at < got.Length)
        {
            at += host.Receive(got.AsSpan(at));
        }

        Assert.Equal(toHost, got);
        Assert.Equal(1, device.ActiveConnections);

        // The ring stops: GET_VRING_BASE reports how far the device consumed tx (RESPONSE + RW).
        fe.SendState(VhostUserRequest.SetVringEnable, 1, 0);
        fe.SendState(VhostUserRequest.GetVringBase, 1, 0);
        var (h, payload) = fe.Receive();
        Assert.Equal((uint)VhostUserRequest.GetVringBase, h.Request);
        Assert.Equal(2u, BitConverter.ToUInt32(payload, 4));

        // The front-end goes away: completion, and the host connection is closed.
        fe.Dispose();
        var exit = await device.Completion.WaitAsync(Timeout);
        Assert.Equal(VsockDeviceExitReason.FrontEndDisconnected, exit.Reason);
        Assert.Equal(0, host.Receive(new byte[1]));
        Assert.Equal(0, device.ActiveConnections);
    }

    [Fact]
    public async Task FullSession_GuestConnectsToAllowedPort_ReachesListener()
    {
        await using var device = VsockDevice.Start(Options(ports: [2000]));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(device.Options.UdsPath + "_2000"));
        listener.Listen();
        using var ram = FakeRam.OnMemfd(16 << 20);
        var rx = new FakeVirtqueue(ram, 128);
        var tx = new FakeVirtqueue(ram, 128);
        var guest = new GuestPackets(ram, rx, tx, 3);
        using var fe = FakeFrontEnd.Connect(device.Options.SocketPath);
        fe.StartDevice(ram, rx, tx);
        guest.PostRx(4);

        guest.SendTx(guest.Header(OpRequest, 777, 2000), default);
        guest.SendTx(guest.Header(OpRequest, 778, 2001), default);
        fe.Kick(1);

        using var accepted = await listener.AcceptAsync().WaitAsync(Timeout);
        var packets = new List<RxPacket>();
        WaitUntil(() =>
        {
            packets.AddRange(guest.ReadRx());
            return packets.Count >= 2;
        });
        Assert.Contains(packets, p => p.Header.Op == OpResponse && p.Header.DstPort == 777);
        Assert.Contains(packets, p => p.Header.Op == OpRst && p.Header.DstPort == 778);
    }
}
