// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device.Devices.Vsock;

/// <summary>virtio-vsock wire constants (include/uapi/linux/virtio_vsock.h).</summary>
internal static class VsockProtocol
{
    internal const ulong HostCid = 2;
    internal const int HeaderSize = 44;

    /// <summary>Largest payload per packet (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).</summary>
    internal const int MaxPayload = 64 * 1024;

    internal const ushort TypeStream = 1;

    internal const ushort OpInvalid = 0;
    internal const ushort OpRequest = 1;
    internal const ushort OpResponse = 2;
    internal const ushort OpRst = 3;
    internal const ushort OpShutdown = 4;
    internal const ushort OpRw = 5;
    internal const ushort OpCreditUpdate = 6;
    internal const ushort OpCreditRequest = 7;

    /// <summary>SHUTDOWN flag: the sender will receive no more.</summary>
    internal const uint ShutdownRcv = 1;

    /// <summary>SHUTDOWN flag: the sender will send no more.</summary>
    internal const uint ShutdownSend = 2;

    /// <summary>Host ports handed to host-initiated connections: [2^30, 2^31), round robin.</summary>
    internal const uint FirstLocalPort = 1u << 30;
    internal const uint LocalPortEnd = 1u << 31;
}
