// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol;

/// <summary>
/// The box's one network interface as the agent configures it at boot (docs/architecture.md §2.6a):
/// an IPv4 address, a default route through <see cref="Gateway"/> and <c>/etc/resolv.conf</c> naming
/// <see cref="Nameservers"/>. Absent from <see cref="BootConfig"/> when the box has no network.
/// </summary>
public sealed class BootNetwork
{
    /// <summary>The interface the kernel names for the box's virtio-net device.</summary>
    public string Interface { get; init; } = "eth0";

    /// <summary>The guest's IPv4 address, dotted quad.</summary>
    public required string Address { get; init; }

    /// <summary>The prefix length of <see cref="Address"/>'s network (24 for a /24).</summary>
    public required int PrefixLength { get; init; }

    /// <summary>The default route's gateway, dotted quad.</summary>
    public required string Gateway { get; init; }

    /// <summary>The DNS servers written to <c>/etc/resolv.conf</c>, in order.</summary>
    public IReadOnlyList<string> Nameservers { get; init; } = [];
}
