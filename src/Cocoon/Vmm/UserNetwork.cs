// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Protocol;

namespace Cocoon.Vmm;

/// <summary>
/// A box's virtio-net device on QEMU user-mode networking (docs/architecture.md §2.10). QEMU itself
/// NATs the guest's outbound connections through host sockets and answers DNS at <see cref="Dns"/>
/// from the host's resolver; no root, tap or bridge. The addressing is fixed here once, for QEMU's
/// <c>-netdev</c> and for the agent, which configures the interface statically (no DHCP client).
/// </summary>
internal sealed record UserNetwork
{
    /// <summary>The guest's network.</summary>
    public const string Subnet = "10.0.2.0";

    /// <summary>The prefix length of <see cref="Subnet"/>.</summary>
    public const int PrefixLength = 24;

    /// <summary>QEMU's gateway: the guest's default route, and the host's loopback seen from the guest.</summary>
    public const string Gateway = "10.0.2.2";

    /// <summary>QEMU's DNS forwarder.</summary>
    public const string Dns = "10.0.2.3";

    /// <summary>The guest's own address.</summary>
    public const string GuestAddress = "10.0.2.15";

    /// <summary>
    /// TCP ports QEMU forwards from host loopback into the guest (<c>hostfwd</c>). Boxes get none:
    /// nothing inbound reaches a box through this device. Only the port-forward benchmark sets them,
    /// for its baseline.
    /// </summary>
    public IReadOnlyList<(int HostPort, int GuestPort)> HostForwards { get; init; } = [];

    /// <summary>
    /// Names QEMU <c>hostfwd</c> ports for a box's supervisor, <c>HOSTPORT:GUESTPORT[,...]</c>: the
    /// port-forward benchmark sets it to measure QEMU's own forwarding as its baseline. Not for
    /// boxes in use: it opens a way in that bypasses the vsock dial path.
    /// </summary>
    public const string BenchHostForwardsVariable = "COCOON_BENCH_HOSTFWD";

    /// <summary>Reads <see cref="BenchHostForwardsVariable"/>'s value; null or empty is none.</summary>
    /// <exception cref="CocoonException">The value is not <c>HOSTPORT:GUESTPORT[,...]</c> with ports 1–65535.</exception>
    public static IReadOnlyList<(int HostPort, int GuestPort)> ParseHostForwards(string? value)
    {
        var forwards = new List<(int, int)>();
        foreach (var item in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var host) || host is < 1 or > 65535
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var guest) || guest is < 1 or > 65535)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{BenchHostForwardsVariable} item '{item}' is not HOSTPORT:GUESTPORT with ports 1-65535");
            }

            forwards.Add((host, guest));
        }

        return forwards;
    }

    /// <summary>The <c>-netdev</c> value for a user-mode backend called <paramref name="id"/>.</summary>
    public string NetdevArgument(string id)
    {
        var value = $"user,id={id},net={Subnet}/{PrefixLength.ToString(CultureInfo.InvariantCulture)},host={Gateway},dns={Dns},ipv6=off";
        foreach (var (hostPort, guestPort) in HostForwards)
        {
            value += string.Create(CultureInfo.InvariantCulture, $",hostfwd=tcp:127.0.0.1:{hostPort}-:{guestPort}");
        }

        return value;
    }

    /// <summary>What the agent configures: the guest side of this network.</summary>
    public static BootNetwork GuestSide() => new()
    {
        Address = GuestAddress,
        PrefixLength = PrefixLength,
        Gateway = Gateway,
        Nameservers = [Dns],
    };
}
