// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Vsock.Device;

/// <summary>Every log line of the vsock device, with fixed event ids.</summary>
internal static partial class VsockDeviceLog
{
    [LoggerMessage(1, LogLevel.Information, "vsock device listening on {SocketPath} (hybrid socket {UdsPath}, guest CID {GuestCid})")]
    public static partial void Started(ILogger logger, string socketPath, string udsPath, ulong guestCid);

    [LoggerMessage(2, LogLevel.Information, "vhost-user front-end connected")]
    public static partial void FrontEndConnected(ILogger logger);

    [LoggerMessage(3, LogLevel.Information, "vhost-user front-end disconnected")]
    public static partial void FrontEndDisconnected(ILogger logger);

    [LoggerMessage(4, LogLevel.Error, "vhost-user protocol error: {Detail}")]
    public static partial void ProtocolError(ILogger logger, string detail);

    [LoggerMessage(5, LogLevel.Warning, "vhost-user request {Request} is not supported")]
    public static partial void UnsupportedRequest(ILogger logger, uint request);

    [LoggerMessage(6, LogLevel.Warning, "virtqueue {Queue} is broken and will be ignored until set up again: {Reason}")]
    public static partial void QueueBroken(ILogger logger, int queue, string reason);

    [LoggerMessage(7, LogLevel.Debug, "guest memory mapped: {Regions} regions, {Bytes} bytes")]
    public static partial void MemoryMapped(ILogger logger, int regions, ulong bytes);

    [LoggerMessage(8, LogLevel.Information, "guest connect to host port {Port} refused: port not allowed")]
    public static partial void GuestPortNotAllowed(ILogger logger, uint port);

    [LoggerMessage(9, LogLevel.Debug, "guest connect to {Path} failed: {Error}")]
    public static partial void HostConnectFailed(ILogger logger, string path, string error);

    [LoggerMessage(19, LogLevel.Warning, "guest connect to host port {Port} failed: {Path}{Target}: {Error}; the guest got a reset")]
    public static partial void GuestDialFailed(ILogger logger, uint port, string path, string target, string error);

    [LoggerMessage(10, LogLevel.Debug, "connection host:{LocalPort} guest:{PeerPort} reset: {Reason}")]
    public static partial void ConnectionReset(ILogger logger, uint localPort, uint peerPort, string reason);

    [LoggerMessage(11, LogLevel.Debug, "host connection closed: bad CONNECT line")]
    public static partial void BadConnectLine(ILogger logger);

    [LoggerMessage(12, LogLevel.Error, "vsock device failed")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Debug, "features negotiated: 0x{Features:x}")]
    public static partial void FeaturesSet(ILogger logger, ulong features);

    [LoggerMessage(14, LogLevel.Debug, "front-end acknowledged features we did not offer: 0x{Bits:x} (ignored)")]
    public static partial void UnofferedFeatures(ILogger logger, ulong bits);

    [LoggerMessage(15, LogLevel.Debug, "guest packet dropped: {Reason}")]
    public static partial void PacketDropped(ILogger logger, string reason);

    [LoggerMessage(16, LogLevel.Warning, "connection limit ({Limit}) reached; refusing a new connection")]
    public static partial void ConnectionLimit(ILogger logger, int limit);

    [LoggerMessage(17, LogLevel.Debug, "bad descriptor chain on queue {Queue}: {Reason}")]
    public static partial void BadChain(ILogger logger, int queue, string reason);

    [LoggerMessage(18, LogLevel.Warning, "a second vhost-user front-end tried to connect; refused")]
    public static partial void SecondFrontEnd(ILogger logger);
}
