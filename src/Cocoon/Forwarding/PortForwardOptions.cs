// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;

namespace Cocoon;

/// <summary>What <see cref="Box.ForwardPortAsync"/> forwards: a local port on the host to a port in the box.</summary>
/// <param name="RemotePort">The port in the box, 1–65535.</param>
public sealed record PortForwardOptions(int RemotePort)
{
    /// <summary>The local port, 1–65535, or 0 to let the system pick a free one (the same on every listen address).</summary>
    public int LocalPort { get; init; }

    /// <summary><c>tcp</c> (default) or <c>udp</c>.</summary>
    public string Network { get; init; } = "tcp";

    /// <summary>The address inside the box to dial; null for 127.0.0.1.</summary>
    public string? Address { get; init; }

    /// <summary>The container whose network namespace to dial from; null for the box's own.</summary>
    public string? Container { get; init; }

    /// <summary>
    /// The host addresses to listen on; by default 127.0.0.1 and ::1 (docs/architecture.md §2.5 rule 5). A default
    /// ::1 is skipped when the host has no IPv6.
    /// </summary>
    public IReadOnlyList<IPAddress> ListenAddresses { get; init; } = DefaultListenAddresses;

    /// <summary>
    /// Called when one forwarded connection cannot be dialed (refused, unreachable, ...); the forwarder
    /// closes that local connection and keeps serving. The exception is a <see cref="Vsock.Streams.StreamException"/>.
    /// </summary>
    public Action<CocoonException>? ConnectionFailed { get; init; }

    /// <summary>
    /// Parses kubectl's <c>port-forward</c> spelling, <c>[LOCAL:]REMOTE[/udp]</c>: <c>8080:80</c>, <c>80</c> for
    /// 80:80, <c>:80</c> for a free local port, <c>53/udp</c>.
    /// </summary>
    /// <param name="spec">The spec.</param>
    /// <returns>Options with <see cref="RemotePort"/>, <see cref="LocalPort"/> and <see cref="Network"/> set.</returns>
    /// <exception cref="CocoonException">InvalidArgument quoting the spec and saying the form.</exception>
    public static PortForwardOptions Parse(string spec)
    {
        var mapping = Forwarding.PortMapping.ParseForward(spec);
        return new PortForwardOptions(mapping.RemotePort) { LocalPort = mapping.LocalPort, Network = mapping.Network };
    }

    /// <summary>127.0.0.1 and ::1.</summary>
    public static IReadOnlyList<IPAddress> DefaultListenAddresses { get; } = [IPAddress.Loopback, IPAddress.IPv6Loopback];
}
