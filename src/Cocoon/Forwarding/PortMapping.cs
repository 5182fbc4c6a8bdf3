// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;

namespace Cocoon.Forwarding;

/// <summary>
/// One forwarded port as the CLI spells it: <c>[LOCAL:]REMOTE[/udp]</c> for <c>port-forward</c>
/// (kubectl: <c>8080:80</c>, <c>80</c> for 80:80, <c>:80</c> for a free local port) and
/// <c>[IP:]HOSTPORT:PORT[/udp]</c> for <c>-p/--publish</c> (docker).
/// </summary>
/// <param name="LocalPort">The host port; 0 for a free one.</param>
/// <param name="RemotePort">The port in the box.</param>
/// <param name="Network"><c>tcp</c> or <c>udp</c>.</param>
/// <param name="HostAddress">The host address to listen on (publish only); null for the defaults.</param>
internal sealed record PortMapping(int LocalPort, int RemotePort, string Network, IPAddress? HostAddress = null)
{
    /// <summary>Parses a <c>port-forward</c> spec, <c>[LOCAL:]REMOTE[/udp]</c>.</summary>
    /// <exception cref="CocoonException">InvalidArgument quoting the spec and saying the form.</exception>
    public static PortMapping ParseForward(string spec)
    {
        const string Form = "use [LOCAL:]REMOTE[/udp], for example 8080:80, 80 or :80";
        const string Field = "port";
        var (ports, network) = SplitNetwork(spec, Field, Form);
        var colon = ports.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            var port = ParsePort(ports, spec, Field, Form, allowZero: false);
            return new PortMapping(port, port, network);
        }

        var local = colon == 0 ? 0 : ParsePort(ports[..colon], spec, Field, Form, allowZero: true);
        return new PortMapping(local, ParsePort(ports[(colon + 1)..], spec, Field, Form, allowZero: false), network);
    }

    /// <summary>Parses a <c>-p/--publish</c> spec, <c>[IP:]HOSTPORT:PORT[/udp]</c>.</summary>
    /// <param name="spec">The spec.</param>
    /// <param name="field">How messages name it: <c>--publish #1</c> on the CLI, the key and line in <c>box.yaml</c>.</param>
    /// <exception cref="CocoonException">InvalidArgument naming the field, quoting the spec and saying the form.</exception>
    public static PortMapping ParsePublish(string spec, string field = "publish")
    {
        const string Form = "use [IP:]HOSTPORT:PORT[/udp], for example 8080:80 or 127.0.0.1:8080:80";
        var (ports, network) = SplitNetwork(spec, field, Form);
        var last = ports.LastIndexOf(':');
        if (last <= 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}' is not valid; {Form}");
        }

        var remote = ParsePort(ports[(last + 1)..], spec, field, Form, allowZero: false);
        var rest = ports[..last];
        var hostColon = rest.LastIndexOf(':');
        IPAddress? address = null;
        var hostPortText = rest;
        if (hostColon >= 0)
        {
            var addressText = rest[..hostColon].Trim('[', ']');
            hostPortText = rest[(hostColon + 1)..];
            if (!IPAddress.TryParse(addressText, out address))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}': '{addressText}' is not an IP address; {Form}");
            }
        }

        return new PortMapping(ParsePort(hostPortText, spec, field, Form, allowZero: false), remote, network, address);
    }

    /// <summary>The published port this spec names.</summary>
    public PublishedPort ToPublishedPort() => new(LocalPort, RemotePort, Network, HostAddress?.ToString());

    /// <summary>The spec again, in its canonical form, for inspect and messages.</summary>
    public override string ToString()
    {
        var host = HostAddress is null ? string.Empty : (HostAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{HostAddress}]:" : $"{HostAddress}:");
        return $"{host}{LocalPort}:{RemotePort}{(Network == "udp" ? "/udp" : string.Empty)}";
    }

    private static (string Ports, string Network) SplitNetwork(string spec, string field, string form)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var slash = spec.LastIndexOf('/');
        if (slash < 0)
        {
            return (spec, "tcp");
        }

        var network = spec[(slash + 1)..].ToLowerInvariant();
        return network is "tcp" or "udp"
            ? (spec[..slash], network)
            : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}': network '{spec[(slash + 1)..]}' is not supported; use /tcp or /udp ({form})");
    }

    private static int ParsePort(string text, string spec, string field, string form, bool allowZero)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535 || port == 0 && !allowZero)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}': '{text}' is not a port in 1-65535; {form}");
        }

        return port;
    }
}
