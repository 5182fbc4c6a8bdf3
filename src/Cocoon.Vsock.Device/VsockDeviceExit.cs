// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device;

/// <summary>Why a <see cref="VsockDevice"/> stopped.</summary>
/// <param name="Reason">The kind of ending.</param>
/// <param name="Detail">A human-readable detail (the failure message), if any.</param>
public sealed record VsockDeviceExit(VsockDeviceExitReason Reason, string? Detail);

/// <summary>The ways a <see cref="VsockDevice"/> session ends.</summary>
public enum VsockDeviceExitReason
{
    /// <summary>The VMM closed the vhost-user connection (VM shut down or crashed).</summary>
    FrontEndDisconnected,

    /// <summary>The device was disposed.</summary>
    Disposed,

    /// <summary>The device hit a fatal error (protocol violation by the front-end, syscall failure).</summary>
    Failed,
}
