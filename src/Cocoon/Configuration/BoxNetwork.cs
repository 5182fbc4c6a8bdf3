// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon;

/// <summary>
/// The network a box gets (<c>--network</c>, <c>network:</c> in box.yaml, <see cref="BoxOptions.Network"/>).
/// Either way nothing inbound reaches the box through it: host connections into a box go only
/// through the vsock dial path (<c>cocoon port-forward</c>, <c>-p</c>).
/// </summary>
public enum BoxNetwork
{
    /// <summary>
    /// The default: a virtio-net interface on QEMU user-mode networking, with outbound NAT through
    /// the host and DNS through QEMU's resolver, no root needed. The host itself is reachable from the
    /// box at 10.0.2.2.
    /// </summary>
    [JsonStringEnumMemberName("user")]
    User,

    /// <summary>No network interface: the box has only loopback.</summary>
    [JsonStringEnumMemberName("none")]
    None,
}
