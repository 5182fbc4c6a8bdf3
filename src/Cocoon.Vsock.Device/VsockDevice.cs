// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Devices.Vsock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Vsock.Device;

/// <summary>
/// Cocoon's own vhost-user-vsock device backend: QEMU runs the virtio transport and hands rings
/// 0 (rx) and 1 (tx) to this process; guest vsock streams are bridged to host Unix sockets with
/// Firecracker's hybrid convention (<c>CONNECT &lt;port&gt;\n</c> on <see cref="VsockDeviceOptions.UdsPath"/>,
/// guest→host at <c>UdsPath_&lt;port&gt;</c> for allowed ports only).
/// </summary>
/// <remarks>
/// One event-loop thread per device multiplexes everything through epoll; nothing blocks it.
/// The guest is untrusted: all guest memory access goes through <c>GuestMemory</c>, which checks
/// every range against the region table.
/// <code>
/// QEMU 7.2 (front-end)                         this device (back-end)
/// ─────────────────────                        ──────────────────────────────────────────────
///  1. GET_FEATURES / GET_PROTOCOL_FEATURES ──▶ offer VERSION_1|PROTOCOL_FEATURES|EVENT_IDX, 0x209
///  2. SET_PROTOCOL_FEATURES, GET_QUEUE_NUM ──▶ store; report 3 queues
///  3. SET_OWNER, SET_VRING_CALL ×2 (masked) ─▶ store call eventfds
///  4. GET_CONFIG(0, 8) ───────────────────────▶ reply le64 guest_cid
///     ── guest driver sets DRIVER_OK ──
///  5. SET_FEATURES (acked | bit 30) ─────────▶ EVENT_IDX on/off per ring
///  6. SET_MEM_TABLE + memfd per region ──────▶ mmap each region; ack
///  7. per ring 0, 1: SET_VRING_NUM, SET_VRING_BASE,
///     SET_VRING_ADDR (QEMU VAs) ─────────────▶ check size/alignment, translate desc/avail/used
///     SET_VRING_KICK + eventfd ──────────────▶ ring started; kick fd joins the epoll set
///  8. SET_VRING_ENABLE(1) ×2 ─────────────────▶ rings run; scan avail rings at once
///  9. SET_VRING_CALL ×2 (guest irq eventfds) ─▶ interrupts now reach the guest
///     ── guest reset / shutdown ──
/// 10. SET_VRING_ENABLE(0), GET_VRING_BASE ───▶ stop ring, reply last_avail_idx, drop connections
/// 11. socket EOF ─────────────────────────────▶ <see cref="Completion"/> = FrontEndDisconnected
/// </code>
/// </remarks>
public sealed class VsockDevice : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private readonly VsockWorker _worker;
    private int _disposed;

    private VsockDevice(VsockDeviceOptions options, VsockWorker worker)
    {
        Options = options;
        _worker = worker;
    }

    /// <summary>The options the device runs with.</summary>
    public VsockDeviceOptions Options { get; }

    /// <summary>
    /// Completes when the VMM front-end disconnects, the device fails fatally or is disposed, with
    /// why. By then every host connection is closed.
    /// </summary>
    public Task<VsockDeviceExit> Completion => _worker.Completion;

    /// <summary>Host connections currently open (including ones still being set up).</summary>
    public int ActiveConnections => _worker.ActiveConnections;

    /// <summary>
    /// Validates <paramref name="options"/>, removes stale socket files, binds and listens on
    /// <see cref="VsockDeviceOptions.SocketPath"/> and <see cref="VsockDeviceOptions.UdsPath"/>,
    /// starts the event loop and returns at once.
    /// </summary>
    /// <exception cref="CocoonException">The options are invalid or a socket cannot be bound.</exception>
    public static VsockDevice Start(VsockDeviceOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<VsockDevice>();
        var worker = new VsockWorker(options, logger);
        worker.Start();
        VsockDeviceLog.Started(logger, options.SocketPath, options.UdsPath, options.GuestCid);
        return new VsockDevice(options, worker);
    }

    /// <summary>Stops the loop, closes every fd and removes both socket files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _worker.RequestStop();
        try
        {
            await _worker.Exited.WaitAsync(StopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The loop never blocks, so this means a bug; still release the paths.
        }

        _worker.Dispose();
        Interop.UnlinkIfExists(Options.SocketPath);
        Interop.UnlinkIfExists(Options.UdsPath);
    }
}
