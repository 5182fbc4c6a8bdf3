// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Vsock.Device.Tests.Infrastructure;
using Cocoon.Vsock.Device.Virtqueue;
using Xunit.Abstractions;
using static Cocoon.Vsock.Device.Devices.Vsock.VsockProtocol;

namespace Cocoon.Vsock.Device.Tests.Devices.Vsock;

/// <summary>
/// Feeds random and mutated descriptor tables and packets through the device. The fake RAM sits
/// between PROT_NONE guard pages (a stray access kills the test host), and every range the
/// device translates is checked to lie inside the RAM. Set COCOON_FUZZ_SEED to replay a run.
/// </summary>
public sealed class VsockFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 100_000;
    private const ushort QueueSize = 64;
    private const uint AllowedPort = 2000;

    [Fact]
    public void RandomRingsAndPackets_DeviceStaysInsideGuestMemory()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("COCOON_FUZZ_SEED"), out int s) ? s : 0x5EED_C0C0;
        output.WriteLine($"fuzz seed: {seed} (replay with COCOON_FUZZ_SEED={seed})");
        var rng = new Random(seed);
        using var h = new MuxerHarness(QueueSize, [AllowedPort], bufferSize: 16 * 1024);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint($"{h.Options.UdsPath}_{AllowedPort}"));
        listener.Listen(1024);
        var accepted = new List<Socket>();
        int brokenRings = 0, packets = 0, tables = 0;

        for (int i = 0; i < Iterations; i++)
        {
            if (h.Rx.Broken || h.Tx.Broken || i % 500 == 0)
            {
                brokenRings += h.Rx.Broken || h.Tx.Broken ? 1 : 0;
                h.ResetRings();
                foreach (var a in accepted)
                {
                    a.Dispose();
                }

                accepted.Clear();
            }

            int mode = rng.Next(10);
            if (mode < 2)
            {
                GarbageTable(h, rng);
                tables++;
            }
            else if (mode < 3)
            {
                GarbageRx(h, rng);
                tables++;
            }
            else
            {
                MutatedPacket(h, rng);
                packets++;
            }

            if (rng.Next(4) == 0 && h.RxRing.FreeDescriptors > 8)
            {
                h.Guest.PostRx(rng.Next(1, 4), (uint)(rng.Next(8) == 0 ? HeaderSize : rng.Next(1, 9000)), split: rng.Next(2) == 0);
            }

            h.Pump(1);
            while (listener.Poll(0, SelectMode.SelectRead))
            {
                var a = listener.Accept();
                a.Blocking = false;
                accepted.Add(a);
            }

            if (rng.Next(8) == 0 && accepted.Count > 0)
            {
                // Host activity: write, read or close a random connection.
                var a = accepted[rng.Next(accepted.Count)];
                try
                {
                    switch (rng.Next(3))
                    {
                        case 0: a.Send(new byte[rng.Next(1, 5000)]); break;
                        case 1: a.Receive(new byte[65536]); break;
                        default: a.Shutdown(SocketShutdown.Send); break;
                    }
                }
                catch (SocketException)
                {
                }
            }

            // Invariants: nothing outside guest memory; every chain the device consumed went back
            // to the used ring and was published (it never holds or loses guest buffers).
            Assert.Equal(0, h.OutOfBounds);
            Assert.True(h.Tx.Broken || h.Tx.LastAvailIdx == h.TxRing.UsedIdx, $"iteration {i} mode {mode}: tx consumed {h.Tx.LastAvailIdx}, used {h.TxRing.UsedIdx}, avail {h.TxRing.AvailIdx}");
            Assert.True(h.Rx.Broken || h.Rx.LastAvailIdx == h.RxRing.UsedIdx);
            Assert.True(h.Muxer.ActiveConnections <= 1024);
            Assert.True(h.Muxer.QueuedRsts <= 256);
            DrainGuest(h);
        }

        output.WriteLine($"{packets} packets, {tables} garbage tables, {brokenRings} rings broken and reset");
        foreach (var a in accepted)
        {
            a.Dispose();
        }
    }

    private static void DrainGuest(MuxerHarness h)
    {
        while (h.TxRing.TryTakeUsed(out _, out _))
        {
        }

        h.Guest.DiscardRx();
    }

    private static ulong RandomAddress(MuxerHarness h, Random rng) => rng.Next(6) switch
    {
        0 => (ulong)rng.NextInt64(),
        1 => ulong.MaxValue - (ulong)rng.Next(64),
        2 => FakeRam.GpaBase + h.Ram.Size - (ulong)rng.Next(64),
        3 => FakeRam.GpaBase - (ulong)rng.Next(1, 64),
        // In RAM, but above the rings: a guest aliasing its own rings can corrupt them
        // legitimately, which would blur the used-ring invariant checked here.
        _ => FakeRam.GpaBase + (h.Ram.Size / 2) + (ulong)rng.NextInt64((long)h.Ram.Size / 2),
    };

    private static uint RandomLength(Random rng) => rng.Next(5) switch
    {
        0 => 0,
        1 => uint.MaxValue - (uint)rng.Next(64),
        2 => (uint)rng.Next(1, 64),
        3 => (uint)rng.Next(1 << 20),
        _ => (uint)rng.Next(44, 70000),
    };

    private static void GarbageTable(MuxerHarness h, Random rng)
    {
        var ring = h.TxRing;
        for (int d = 0; d < ring.Size; d++)
        {
            if (rng.Next(3) == 0)
            {
                ring.WriteDescriptor(d, RandomAddress(h, rng), RandomLength(rng), (ushort)rng.Next(8), (ushort)rng.Next(ring.Size + 4));
            }
        }

        int heads = rng.Next(1, 4);
        for (int k = 0; k < heads; k++)
        {
            ring.PublishHead((ushort)rng.Next(ring.Size + 2));
        }

        if (rng.Next(20) == 0)
        {
            ring.SetAvailIdx((ushort)rng.Next(ushort.MaxValue));
        }
    }

    private static void GarbageRx(MuxerHarness h, Random rng)
    {
        var ring = h.RxRing;
        int d = rng.Next(ring.Size);
        ring.WriteDescriptor(d, RandomAddress(h, rng), RandomLength(rng), (ushort)(rng.Next(8) | SplitQueue.DescFWrite), (ushort)rng.Next(ring.Size + 4));
        ring.PublishHead((ushort)d);
    }

    private static void MutatedPacket(MuxerHarness h, Random rng)
    {
        if (h.TxRing.FreeDescriptors < 16)
        {
            return;
        }

        ushort op = rng.Next(10) == 0 ? (ushort)rng.Next(ushort.MaxValue) : (ushort)rng.Next(0, 8);
        uint srcPort = (uint)rng.Next(100, 104);
        uint dstPort = rng.Next(4) == 0 ? (uint)rng.Next() : AllowedPort + (uint)rng.Next(2);
        int payloadLength = op == OpRw ? rng.Next(0, 20000) : rng.Next(10) == 0 ? rng.Next(0, 100) : 0;
        var payload = new byte[payloadLength];
        rng.NextBytes(payload);
        var header = h.Guest.Header(op, srcPort, dstPort, (uint)payloadLength, (uint)rng.Next(4), (uint)rng.Next(0, 1 << 18), (uint)rng.Next(0, 1 << 18));
        switch (rng.Next(12))
        {
            case 0: header.Len = (uint)rng.Next(); break;
            case 1: header.SrcCid = (ulong)rng.NextInt64(); break;
            case 2: header.DstCid = (ulong)rng.Next(5); break;
            case 3: header.Type = (ushort)rng.Next(4); break;
            case 4: header.Len = (uint)payloadLength + (uint)rng.Next(1, 100); break;
        }

        var layout = (Layout)rng.Next(4);
        if (layout == Layout.Confetti && payload.Length > 60)
        {
            // 7-byte descriptors: keep the chain within the free descriptors.
            payload = payload[..60];
            header.Len = Math.Min(header.Len, 60);
        }
        if (rng.Next(10) == 0 && payload.Length > 0)
        {
            // Truncate the chain below what the header claims.
            payload = payload[..rng.Next(payload.Length)];
        }

        h.Guest.SendTx(header, payload, layout);
    }
}
