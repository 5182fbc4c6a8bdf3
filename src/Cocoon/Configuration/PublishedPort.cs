// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A port the box's supervisor publishes on the host for the box's lifetime (<c>-p/--publish</c>):
/// it listens on <paramref name="HostAddress"/>:<paramref name="HostPort"/> and dials
/// <paramref name="Port"/> in the box for every connection (docs/architecture.md §2.3).
/// </summary>
/// <param name="HostPort">The host port, 1–65535.</param>
/// <param name="Port">The port in the box, 1–65535.</param>
/// <param name="Network"><c>tcp</c> or <c>udp</c>.</param>
/// <param name="HostAddress">The host IP address to listen on; null for 127.0.0.1 and ::1.</param>
public sealed record PublishedPort(int HostPort, int Port, string Network = "tcp", string? HostAddress = null)
{
    /// <summary>The docker-style spelling, <c>[IP:]HOSTPORT:PORT[/udp]</c>.</summary>
    /// <returns>For example <c>127.0.0.1:8080:80</c>.</returns>
    public override string ToString() =>
        $"{(HostAddress is null ? string.Empty : HostAddress.Contains(':', StringComparison.Ordinal) ? $"[{HostAddress}]:" : HostAddress + ":")}{HostPort}:{Port}{(Network == "udp" ? "/udp" : string.Empty)}";

    /// <summary>Parses docker's <c>-p/--publish</c> spelling, <c>[IP:]HOSTPORT:PORT[/udp]</c>.</summary>
    /// <param name="spec">For example <c>8080:80</c>, <c>127.0.0.1:8080:80</c> or <c>[::1]:5353:53/udp</c>.</param>
    /// <returns>The port; <see cref="BoxOptions.Build()"/> checks it against the box's other ports.</returns>
    /// <exception cref="CocoonException">InvalidArgument quoting the spec and saying the form.</exception>
    public static PublishedPort Parse(string spec) => Parse(spec, "publish");

    /// <summary>Parses docker's <c>-p/--publish</c> spelling, naming the value in messages the way the caller's user knows it.</summary>
    /// <param name="spec">For example <c>8080:80</c>, <c>127.0.0.1:8080:80</c> or <c>[::1]:5353:53/udp</c>.</param>
    /// <param name="field">How messages name the value (<c>--publish #1</c>).</param>
    /// <returns>The port; <see cref="BoxOptions.Build()"/> checks it against the box's other ports.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming <paramref name="field"/>, quoting the spec and saying the form.</exception>
    public static PublishedPort Parse(string spec, string field) => Forwarding.PortMapping.ParsePublish(spec, field).ToPublishedPort();
}
