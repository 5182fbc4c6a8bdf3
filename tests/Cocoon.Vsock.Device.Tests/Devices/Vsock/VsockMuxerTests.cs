// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;
using Cocoon.Vsock.Device.Devices.Vsock;
using Cocoon.Vsock.Device.Tests.Infrastructure;
using static Cocoon.Vsock.Device.Devices.Vsock.VsockProtocol;

namespace Cocoon.Vsock.Device.Tests.Devices.Vsock;

public sealed class VsockMuxerTests
{
    private const uint GuestPort = 5000;
    private const uint HostPort = 2000;
    private const uint GuestSrcPort = 40000;

    /// <summary>A host-initiated connection taken to Established; returns the host end and the local port.</summary>
    private static (Socket Host, uint LocalPort) OpenHostConnection(MuxerHarness h, uint guestBufAlloc = 256 * 1024)
    {
        var hostSocket = AdoptHostPair(h);
        hostSocket.Send(Encoding.ASCII.GetBytes($"CONNECT {GuestPort}\n"));
        h.Guest.PostRx(4);
        h.PumpUntil(() => h.RxRing.UsedIdx > 0);
        var request = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRequest, request.Header.Op);
        Assert.Equal(GuestPort, request.Header.DstPort);
        Assert.Equal(MuxerHarness.Cid, request.Header.DstCid);
        Assert.Equal(HostCid, request.Header.SrcCid);
        Assert.True(request.Header.SrcPort >= FirstLocalPort);
        uint local = request.Header.SrcPort;
        h.Send(OpResponse, GuestPort, local, bufAlloc: guestBufAlloc);
        h.Pump();
        var ok = ReadLine(hostSocket);
        Assert.Equal($"OK {local}", ok);
        return (hostSocket, local);
    }

    /// <summary>A socketpair: the device end (non-blocking, as accept4 gives it) goes to the muxer.</summary>
    private static Socket AdoptHostPair(MuxerHarness h)
    {
        var (device, host) = Native.CreateUnixSocketPair(nonBlocking: true);
        var hostSocket = new Socket(new SafeSocketHandle(host.DangerousGetHandle(), ownsHandle: true)) { Blocking = true, ReceiveTimeout = 10000 };
        host.SetHandleAsInvalid();
        h.Muxer.AdoptHost(device);
        return hostSocket;
    }

    /// <summary>The device closed its end: EOF, or a reset when it closed with our bytes unread.</summary>
    private static void AssertClosed(Socket s)
    {
        try
        {
            Assert.Equal(0, s.Receive(new byte[16]));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    private static string ReadLine(Socket s)
    {
        var sb = new StringBuilder();
        var b = new byte[1];
        while (s.Receive(b) == 1 && b[0] != (byte)'\n')
        {
            sb.Append((char)b[0]);
        }

        return sb.ToString();
    }

    private static byte[] Pattern(int n, int seed = 1)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static byte[] ReceiveExactly(Socket s, int n)
    {
        var buf = new byte[n];
        int at = 0;
        while (at < n)
        {
            int r = s.Receive(buf.AsSpan(at));
            Assert.NotEqual(0, r);
            at += r;
        }

        return buf;
    }

    [Fact]
    public void HostConnect_GuestResponds_OkThenBytesBothWays()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;

        var toHost = Pattern(3000);
        h.Send(OpRw, GuestPort, local, toHost);
        h.Pump();
        Assert.Equal(toHost, ReceiveExactly(host, toHost.Length));

        var toGuest = Pattern(2500, 2);
        host.Send(toGuest);
        h.Guest.PostRx(4);
        h.PumpUntil(() => h.RxRing.UsedIdx >= 2);
        var rw = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRw, rw.Header.Op);
        Assert.Equal(toGuest, rw.Payload);
        Assert.Equal((uint)(HeaderSize + toGuest.Length), rw.UsedLen);
        Assert.Equal((uint)toHost.Length, rw.Header.FwdCnt);
        Assert.Equal(0, h.OutOfBounds);
    }

    [Fact]
    public void HostConnect_BytesSentWithConnectLine_HeldUntilResponseThenDelivered()
    {
        // A stream header written in the same write as the CONNECT line (StreamClient does this):
        // nothing but the REQUEST may reach the guest before it accepted, then the bytes arrive intact.
        using var h = new MuxerHarness();
        using var host = AdoptHostPair(h);
        var early = Pattern(11, 3);
        host.Send([.. Encoding.ASCII.GetBytes($"CONNECT {GuestPort}\n"), .. early]);
        h.Guest.PostRx(4);
        h.PumpUntil(() => h.RxRing.UsedIdx > 0);
        h.Pump();
        var request = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRequest, request.Header.Op);

        uint local = request.Header.SrcPort;
        h.Send(OpResponse, GuestPort, local, bufAlloc: 256 * 1024);
        h.PumpUntil(() => h.RxRing.UsedIdx >= 2);
        Assert.Equal($"OK {local}", ReadLine(host));
        var rw = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRw, rw.Header.Op);
        Assert.Equal(early, rw.Payload);
        Assert.Equal(0, h.OutOfBounds);
    }

    [Theory]
    [InlineData(Layout.Single)]
    [InlineData(Layout.HeaderThenPayload)]
    [InlineData(Layout.HeaderSplit)]
    [InlineData(Layout.Confetti)]
    public void GuestData_AnyDescriptorLayout_ReachesHostIntact(Layout layout)
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        var data = Pattern(1000, (int)layout);

        h.Send(OpRw, GuestPort, local, data, layout: layout);
        h.Pump();

        Assert.Equal(data, ReceiveExactly(host, data.Length));
        Assert.Equal(1, h.Guest.DrainTxUsed() > 0 ? 1 : 0);
    }

    [Fact]
    public void HostData_SplitRxBuffers_HeaderAndPayloadLandInPlace()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        var data = Pattern(1500, 9);
        host.Send(data);

        h.Guest.PostRx(2, 4096, split: true);
        h.PumpUntil(() => h.RxRing.UsedIdx >= 2);

        var rw = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRw, rw.Header.Op);
        Assert.Equal(local, rw.Header.SrcPort);
        Assert.Equal(data, rw.Payload);
    }

    [Fact]
    public void HostData_GuestCreditExhausted_StopsAtCreditAndRequestsMore()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h, guestBufAlloc: 1000);
        using var _ = host;
        host.Send(Pattern(5000));
        h.Guest.PostRx(8);

        h.PumpUntil(() => h.RxRing.UsedIdx >= 3);
        h.Pump();
        var packets = h.Guest.ReadRx();
        Assert.Equal(1000, packets.Where(p => p.Header.Op == OpRw).Sum(p => p.Payload.Length));
        Assert.Single(packets, p => p.Header.Op == OpCreditRequest);

        h.Send(OpCreditUpdate, GuestPort, local, bufAlloc: 1000, fwdCnt: 1000);
        h.PumpUntil(() => h.Guest.ReadRx().Any(p => p.Header.Op == OpRw && p.Payload.Length == 1000));
    }

    [Fact]
    public void HostData_GuestShrinksBufAllocBelowInFlight_SendsNothingUntilCreditReturns()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h, guestBufAlloc: 1000);
        using var _ = host;
        host.Send(Pattern(5000));
        h.Guest.PostRx(8);
        h.PumpUntil(() => h.Guest.ReadRx().Where(p => p.Header.Op == OpRw).Sum(p => p.Payload.Length) == 1000);

        // 1000 bytes are in flight; a hostile guest now claims a 500-byte buffer and has forwarded none.
        h.Send(OpCreditUpdate, GuestPort, local, bufAlloc: 500, fwdCnt: 0);
        h.Pump(16);
        Assert.DoesNotContain(h.Guest.ReadRx(), p => p.Header.Op == OpRw);

        // Positive control: once the guest has forwarded everything, its 500 bytes of credit are used.
        h.Send(OpCreditUpdate, GuestPort, local, bufAlloc: 500, fwdCnt: 1000);
        h.PumpUntil(() => h.Guest.ReadRx().Any(p => p.Header.Op == OpRw && p.Payload.Length == 500));
    }

    [Fact]
    public void HostData_RxBufferOnlyFitsHeader_UsedForCreditUpdateNotSpun()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Pump();
        h.Guest.ReadRx();
        while (h.Rx.HasAvailable)
        {
            // Use up the spare buffers OpenHostConnection posted.
            h.Send(OpCreditRequest, GuestPort, local);
            h.Pump();
            h.Guest.ReadRx();
        }

        h.Guest.PostRx(1, HeaderSize);
        h.Guest.PostRx(1);
        host.Send("data"u8);
        h.PumpUntil(() => h.RxRing.UsedIdx == h.RxRing.AvailIdx);

        var packets = h.Guest.ReadRx();
        Assert.Equal(2, packets.Count);
        Assert.Equal(OpCreditUpdate, packets[0].Header.Op);
        Assert.Equal("data"u8.ToArray(), packets[1].Payload);
    }

    [Fact]
    public void GuestCreditRequest_Always_AnsweredWithCreditUpdate()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Send(OpRw, GuestPort, local, Pattern(100));
        h.Pump();
        ReceiveExactly(host, 100);

        h.Send(OpCreditRequest, GuestPort, local);
        h.Guest.PostRx(1);
        h.Pump();

        var p = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpCreditUpdate, p.Header.Op);
        Assert.Equal(100u, p.Header.FwdCnt);
        Assert.Equal(256u * 1024, p.Header.BufAlloc);
    }

    [Fact]
    public void GuestData_ConsumedPastQuarterBuffer_CreditUpdateSent()
    {
        using var h = new MuxerHarness(bufferSize: 16 * 1024);
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(2);

        h.Send(OpRw, GuestPort, local, Pattern(5000));
        h.Pump();
        ReceiveExactly(host, 5000);

        var p = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpCreditUpdate, p.Header.Op);
        Assert.Equal(5000u, p.Header.FwdCnt);
    }

    [Fact]
    public void GuestData_LargeBuffer_CreditUpdateAfter64KiB()
    {
        // A quarter of 4 MiB is never reached: a Linux guest stops after 256 KiB without an update.
        using var h = new MuxerHarness(bufferSize: 4 * 1024 * 1024);
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(2);

        h.Send(OpRw, GuestPort, local, Pattern(40 * 1024));
        h.Send(OpRw, GuestPort, local, Pattern(30 * 1024));
        h.Pump();
        ReceiveExactly(host, 70 * 1024);

        var p = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpCreditUpdate, p.Header.Op);
        Assert.Equal(70u * 1024, p.Header.FwdCnt);
    }

    [Fact]
    public void GuestData_OverrunsAdvertisedBuffer_ConnectionReset()
    {
        using var h = new MuxerHarness(bufferSize: 4096);
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(4);

        // The host never reads; once its socket is full the device buffers at most 4 KiB.
        var chunk = Pattern(60000);
        bool reset = false;
        for (int i = 0; i < 200 && !reset; i++)
        {
            h.Send(OpRw, GuestPort, local, chunk);
            h.Pump(1);
            reset = h.Guest.ReadRx().Any(p => p.Header.Op == OpRst);
            h.Guest.DrainTxUsed();
        }

        Assert.True(reset);
        Assert.Equal(0, h.Muxer.ActiveConnections);
    }

    [Fact]
    public void HostConnect_GuestRefuses_HostClosedWithoutOk()
    {
        using var h = new MuxerHarness();
        using var hostSocket = AdoptHostPair(h);
        hostSocket.Send("connect 5000\n"u8);
        h.Guest.PostRx(1);
        h.PumpUntil(() => h.RxRing.UsedIdx > 0);
        var req = Assert.Single(h.Guest.ReadRx());

        h.Send(OpRst, GuestPort, req.Header.SrcPort);
        h.Pump();

        Assert.Equal(0, hostSocket.Receive(new byte[16]));
        Assert.Equal(0, h.Muxer.ActiveConnections);
    }

    [Theory]
    [InlineData("HELLO 5000\n")]
    [InlineData("CONNECT\n")]
    [InlineData("CONNECT abc\n")]
    [InlineData("CONNECT 99999999999\n")]
    [InlineData("CONNECT 5000 6000 7000 8000 9000 10000\n")]
    public void HostConnect_BadLine_ClosedWithoutRequest(string line)
    {
        using var h = new MuxerHarness();
        using var hostSocket = AdoptHostPair(h);
        hostSocket.Send(Encoding.ASCII.GetBytes(line));
        h.Guest.PostRx(1);
        h.Pump();

        AssertClosed(hostSocket);
        Assert.Empty(h.Guest.ReadRx());
    }

    [Fact]
    public void HostConnect_LineInPieces_Parsed()
    {
        using var h = new MuxerHarness();
        using var hostSocket = AdoptHostPair(h);
        h.Guest.PostRx(1);

        hostSocket.Send("Conn"u8);
        h.Pump();
        hostSocket.Send("ect 77"u8);
        h.Pump();
        hostSocket.Send("\r\n"u8);
        h.PumpUntil(() => h.RxRing.UsedIdx > 0);

        var req = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRequest, req.Header.Op);
        Assert.Equal(77u, req.Header.DstPort);
    }

    [Fact]
    public void GuestConnect_AllowedPortWithListener_ReachesListener()
    {
        using var h = new MuxerHarness(allowedPorts: [HostPort]);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint($"{h.Options.UdsPath}_{HostPort}"));
        listener.Listen();
        h.Guest.PostRx(4);

        h.Send(OpRequest, GuestSrcPort, HostPort);
        h.Pump();
        using var accepted = listener.Accept();
        accepted.ReceiveTimeout = 5000;

        var resp = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpResponse, resp.Header.Op);
        Assert.Equal(HostPort, resp.Header.SrcPort);
        Assert.Equal(GuestSrcPort, resp.Header.DstPort);

        h.Send(OpRw, GuestSrcPort, HostPort, "ping"u8);
        h.Pump();
        Assert.Equal("ping"u8.ToArray(), ReceiveExactly(accepted, 4));
        accepted.Send("pong"u8);
        h.PumpUntil(() => h.RxRing.UsedIdx > 1);
        var rw = Assert.Single(h.Guest.ReadRx());
        Assert.Equal("pong"u8.ToArray(), rw.Payload);
    }

    [Fact]
    public void GuestConnect_PortNotAllowed_Rst()
    {
        using var h = new MuxerHarness(allowedPorts: [HostPort]);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint($"{h.Options.UdsPath}_{HostPort + 1}"));
        listener.Listen();
        h.Guest.PostRx(1);

        h.Send(OpRequest, GuestSrcPort, HostPort + 1);
        h.Pump();

        var rst = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRst, rst.Header.Op);
        Assert.Equal(GuestSrcPort, rst.Header.DstPort);
        Assert.False(listener.Poll(0, SelectMode.SelectRead));
    }

    [Fact]
    public void GuestConnect_AllowedPortNoListener_RstAndAWarningNamingPortAndPath()
    {
        var logger = new RecordingLogger();
        using var h = new MuxerHarness(allowedPorts: [HostPort], logger: logger);
        h.Guest.PostRx(1);

        h.Send(OpRequest, GuestSrcPort, HostPort);
        h.Pump();

        Assert.Equal(OpRst, Assert.Single(h.Guest.ReadRx()).Header.Op);
        Assert.Equal(0, h.Muxer.ActiveConnections);
        var warning = Assert.Single(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains($"host port {HostPort}", warning.Message, StringComparison.Ordinal);
        Assert.Contains($"{h.Options.UdsPath}_{HostPort}", warning.Message, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OpRw)]
    [InlineData(OpResponse)]
    [InlineData(OpShutdown)]
    [InlineData(OpCreditUpdate)]
    [InlineData(OpCreditRequest)]
    [InlineData(OpInvalid)]
    [InlineData((ushort)99)]
    public void GuestPacket_UnknownConnection_Rst(ushort op)
    {
        using var h = new MuxerHarness();
        h.Guest.PostRx(1);

        h.Send(op, 1234, 4321, op == OpRw ? "x"u8 : default);
        h.Pump();

        var rst = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRst, rst.Header.Op);
        Assert.Equal(4321u, rst.Header.SrcPort);
        Assert.Equal(1234u, rst.Header.DstPort);
    }

    [Fact]
    public void GuestRst_UnknownConnection_NoReply()
    {
        using var h = new MuxerHarness();
        h.Guest.PostRx(1);
        h.Send(OpRst, 1, 2);
        h.Pump();
        Assert.Empty(h.Guest.ReadRx());
        Assert.Equal(1, h.Guest.DrainTxUsed());
    }

    [Fact]
    public void GuestPacket_UnknownType_Rst()
    {
        using var h = new MuxerHarness();
        h.Guest.PostRx(1);
        var header = h.Guest.Header(OpRequest, 1, 2);
        header.Type = 2;
        h.Guest.SendTx(header, default);
        h.Pump();
        Assert.Equal(OpRst, Assert.Single(h.Guest.ReadRx()).Header.Op);
    }

    [Fact]
    public void GuestPacket_UnknownOpOnConnection_ConnectionReset()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(1);

        h.Send(42, GuestPort, local);
        h.Pump();

        Assert.Equal(OpRst, Assert.Single(h.Guest.ReadRx()).Header.Op);
        Assert.Equal(0, host.Receive(new byte[1]));
    }

    [Fact]
    public void GuestPacket_AfterResetBeforeRstSent_IgnoredAndRstStillDelivered()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;

        h.Send(42, GuestPort, local);
        h.Send(OpRw, GuestPort, local, "late"u8);
        h.Send(OpShutdown, GuestPort, local, flags: ShutdownSend);
        h.Pump();
        h.Guest.PostRx(4);
        h.Pump();

        var rst = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpRst, rst.Header.Op);
        Assert.Equal(0, h.Muxer.ActiveConnections);
    }

    [Theory]
    [InlineData(4UL, 2UL)]
    [InlineData(3UL, 7UL)]
    public void GuestPacket_WrongCids_Dropped(ulong srcCid, ulong dstCid)
    {
        using var h = new MuxerHarness();
        h.Guest.PostRx(1);
        var header = h.Guest.Header(OpRequest, 1, 2);
        header.SrcCid = srcCid;
        header.DstCid = dstCid;
        h.Guest.SendTx(header, default);
        h.Pump();
        Assert.Empty(h.Guest.ReadRx());
        Assert.Equal(1, h.Guest.DrainTxUsed());
    }

    [Fact]
    public void GuestPacket_LengthBeyondChain_DroppedAndConnectionReset()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(1);
        var header = h.Guest.Header(OpRw, GuestPort, local, len: 500);
        h.Guest.SendTx(header, Pattern(100));
        h.Pump();
        Assert.Equal(OpRst, Assert.Single(h.Guest.ReadRx()).Header.Op);
        Assert.Equal(0, host.Receive(new byte[1]));
    }

    [Fact]
    public void GuestPacket_PayloadOver64KiB_Dropped()
    {
        using var h = new MuxerHarness();
        h.Guest.PostRx(1);
        var header = h.Guest.Header(OpRequest, 1, 2, len: MaxPayload + 1);
        h.Guest.SendTx(header, new byte[MaxPayload + 1]);
        h.Pump();
        Assert.Empty(h.Guest.ReadRx());
    }

    [Fact]
    public void GuestShutdownSend_HostSeesEofAndCanStillSend()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;

        h.Send(OpShutdown, GuestPort, local, flags: ShutdownSend);
        h.Pump();
        Assert.Equal(0, host.Receive(new byte[1]));

        host.Send("late"u8);
        h.Guest.PostRx(2);
        h.PumpUntil(() => h.RxRing.UsedIdx > 1);
        Assert.Equal("late"u8.ToArray(), Assert.Single(h.Guest.ReadRx()).Payload);
    }

    [Fact]
    public void HostHalfClose_GuestGetsShutdownThenFullCloseRst()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Guest.PostRx(4);

        host.Shutdown(SocketShutdown.Send);
        h.PumpUntil(() => h.RxRing.UsedIdx > 1);
        var shutdown = Assert.Single(h.Guest.ReadRx());
        Assert.Equal(OpShutdown, shutdown.Header.Op);
        Assert.Equal(ShutdownSend, shutdown.Header.Flags & ShutdownSend);

        // Guest data still flows to the host after the host's half-close.
        h.Send(OpRw, GuestPort, local, "after"u8);
        h.Pump();
        Assert.Equal("after"u8.ToArray(), ReceiveExactly(host, 5));

        h.Send(OpShutdown, GuestPort, local, flags: ShutdownSend | ShutdownRcv);
        h.Pump();
        Assert.Equal(OpRst, Assert.Single(h.Guest.ReadRx()).Header.Op);
        Assert.Equal(0, host.Receive(new byte[1]));
        Assert.Equal(0, h.Muxer.ActiveConnections);
    }

    [Fact]
    public void GuestRst_Established_HostSocketClosed()
    {
        using var h = new MuxerHarness();
        var (host, local) = OpenHostConnection(h);
        using var _ = host;
        h.Send(OpRst, GuestPort, local);
        h.Pump();
        Assert.Equal(0, host.Receive(new byte[1]));
        Assert.Equal(0, h.Muxer.ActiveConnections);
    }

    [Fact]
    public void HostConnect_GuestNeverAnswers_ClosedAfterTimeout()
    {
        using var h = new MuxerHarness();
        using var hostSocket = AdoptHostPair(h);
        hostSocket.Send("CONNECT 5000\n"u8);
        h.Guest.PostRx(2);
        h.PumpUntil(() => h.RxRing.UsedIdx > 0);
        h.Advance(VsockMuxer.LocalInitTimeoutMs / 2);
        h.Pump();
        var beforeTimeout = h.Muxer.ActiveConnections;

        h.Advance(VsockMuxer.LocalInitTimeoutMs);
        h.Pump();

        Assert.Equal(1, beforeTimeout);
        Assert.Equal(0, h.Muxer.ActiveConnections);
        Assert.Equal(0, hostSocket.Receive(new byte[4]));
        var packets = h.Guest.ReadRx();
        Assert.Equal(OpRequest, packets[0].Header.Op);
        Assert.Equal(OpRst, packets[1].Header.Op);
    }

    [Fact]
    public void TryParseConnect_Variants()
    {
        Assert.True(VsockMuxer.TryParseConnect("CONNECT 52"u8, out uint p) && p == 52);
        Assert.True(VsockMuxer.TryParseConnect("connect 1024\r"u8, out p) && p == 1024);
        Assert.False(VsockMuxer.TryParseConnect("CONNECT -1"u8, out _));
        Assert.False(VsockMuxer.TryParseConnect("CONNECT  5"u8, out _));
        Assert.False(VsockMuxer.TryParseConnect("CONNECT 5x"u8, out _));
    }
}
