// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Devices.Vsock;
using Cocoon.Vsock.Device.Memory;
using Cocoon.Vsock.Device.Virtqueue;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>
/// The vsock muxer over fake guest RAM with guard pages, without the vhost-user layer or a
/// thread: the test plays the guest and calls <see cref="Pump"/> to run the device deterministically.
/// Every translated range is checked to stay inside the fake RAM.
/// </summary>
internal sealed class MuxerHarness : IDisposable
{
    public const ulong Cid = 3;
    private readonly Native.EpollEvent[] _events = new Native.EpollEvent[64];
    private readonly ushort _queueSize;
    private readonly bool _eventIdx;
    private readonly ulong _ramMark;
    private long _skippedMs;

    public MuxerHarness(ushort queueSize = 256, uint[]? allowedPorts = null, int bufferSize = 256 * 1024, bool eventIdx = false, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        Dir = new TempDir();
        Options = new VsockDeviceOptions
        {
            SocketPath = Dir.File("vu.sock"),
            UdsPath = Dir.File("v.sock"),
            GuestCid = Cid,
            AllowedHostPorts = allowedPorts ?? [],
            ConnectionBufferSize = bufferSize,
        };
        Ram = FakeRam.WithGuardPages(32 << 20);
        Memory = Ram.CreateMemory();
        Memory.TranslationObserver = (host, len) =>
        {
            if (!Ram.Contains(host, len))
            {
                OutOfBounds++;
            }
        };
        _queueSize = queueSize;
        _eventIdx = eventIdx;
        _ramMark = Ram.Mark;
        Epoll = new Epoll();
        Muxer = new VsockMuxer(Options, Epoll, logger ?? NullLogger.Instance) { Memory = Memory };
        ResetRings();
    }

    /// <summary>Fresh rings and device queues (after a fuzzed ring broke); connections are dropped.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(RxRing), nameof(TxRing), nameof(Guest), nameof(Rx), nameof(Tx))]
    public void ResetRings()
    {
        Ram.ResetTo(_ramMark);
        RxRing = new FakeVirtqueue(Ram, _queueSize);
        TxRing = new FakeVirtqueue(Ram, _queueSize);
        Guest = new GuestPackets(Ram, RxRing, TxRing, Cid);
        Rx = RxRing.CreateDeviceQueue(Memory, 0, _eventIdx);
        Tx = TxRing.CreateDeviceQueue(Memory, 1, _eventIdx);
        Muxer.ResetAll();
        Muxer.Rx = Rx;
        Muxer.Tx = Tx;
    }

    public TempDir Dir { get; }

    public VsockDeviceOptions Options { get; }

    public FakeRam Ram { get; }

    public GuestMemory Memory { get; }

    public FakeVirtqueue RxRing { get; private set; }

    public FakeVirtqueue TxRing { get; private set; }

    public GuestPackets Guest { get; private set; }

    public SplitQueue Rx { get; set; }

    public SplitQueue Tx { get; set; }

    public Epoll Epoll { get; }

    public VsockMuxer Muxer { get; }

    /// <summary>Translations that left the fake RAM (must stay 0).</summary>
    public int OutOfBounds { get; private set; }

    /// <summary>Runs the device until it has nothing left to do.</summary>
    public void Pump(int rounds = 4)
    {
        for (int r = 0; r < rounds; r++)
        {
            int n = Epoll.Wait(_events, 0);
            for (int i = 0; i < n; i++)
            {
                if ((_events[i].Data & EventTokens.KindMask) == EventTokens.HostConnection)
                {
                    Muxer.OnHostEvent(_events[i].Data & ~EventTokens.KindMask, _events[i].Events);
                }
            }

            while (Muxer.ProcessTx())
            {
                Muxer.FillRx();
            }

            Muxer.FillRx();
            Muxer.CheckTimers(Now);
        }
    }

    /// <summary>
    /// The clock the muxer's timers are checked against: the real tick count plus whatever
    /// <see cref="Advance"/> skipped, so a timeout test never waits the timeout out.
    /// </summary>
    public long Now => Environment.TickCount64 + _skippedMs;

    /// <summary>Moves <see cref="Now"/> forward by <paramref name="milliseconds"/> without waiting.</summary>
    public void Advance(int milliseconds) => _skippedMs += milliseconds;

    /// <summary>Pumps until <paramref name="done"/> holds (host sockets are real, so allow a little time).</summary>
    public void PumpUntil(Func<bool> done, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!done())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("condition not reached");
            }

            Pump(1);
            Thread.Sleep(1);
        }
    }

    public ushort Send(ushort op, uint srcPort, uint dstPort, ReadOnlySpan<byte> payload = default, uint flags = 0, Layout layout = Layout.Single, uint bufAlloc = 256 * 1024, uint fwdCnt = 0)
    {
        var h = Guest.Header(op, srcPort, dstPort, (uint)payload.Length, flags, bufAlloc, fwdCnt);
        return Guest.SendTx(h, payload, layout);
    }

    public void Dispose()
    {
        Muxer.Dispose();
        Epoll.Dispose();
        Memory.Dispose();
        Ram.Dispose();
        Dir.Dispose();
    }
}
