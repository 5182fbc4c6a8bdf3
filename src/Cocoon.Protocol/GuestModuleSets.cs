// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol;

/// <summary>
/// Kernel modules a box carries in its initramfs but loads only on demand, and where the agent finds
/// them. The host resolves each set through <c>modules.dep</c> (dependencies first) and writes the
/// guest paths, one a line in load order, to the set's list file; the agent loads them when a
/// container first asks for what needs them.
/// </summary>
internal static class GuestModuleSets
{
    /// <summary>
    /// What dockerd needs beyond a box's lean set: its default bridge network (bridge, br_netfilter,
    /// veth), NAT and filtering through either iptables backend (legacy <c>iptable_*</c> and
    /// <c>xt_*</c>, or nftables with <c>nft_compat</c>), and overlay for its overlay2 storage driver.
    /// </summary>
    public static readonly IReadOnlyList<string> Docker =
    [
        "bridge", "br_netfilter", "veth", "overlay", "nf_conntrack", "nf_nat", "iptable_nat", "iptable_filter",
        "xt_MASQUERADE", "xt_addrtype", "xt_conntrack", "xt_nat", "xt_tcpudp", "nf_tables", "nft_compat", "nft_chain_nat",
    ];

    /// <summary>The list file of <see cref="Docker"/>'s guest module paths, in load order.</summary>
    public const string DockerListPath = "/lib/m/docker.list";
}
