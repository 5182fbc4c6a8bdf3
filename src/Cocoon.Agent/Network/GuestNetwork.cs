// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Cocoon.Protocol;

namespace Cocoon.Agent.Network;

/// <summary>
/// Configures the box's network interface from the boot configuration (docs/architecture.md §2.10),
/// without a DHCP client or <c>ip</c>: the host fixed the addressing, so the agent sets it directly.
/// <code>
///  1. address and netmask on the interface (SIOCSIFADDR, SIOCSIFNETMASK)
///  2. the interface up (SIOCSIFFLAGS)
///  3. the default route through the gateway (SIOCADDRT)
///  4. /etc/resolv.conf naming the nameservers
/// </code>
/// </summary>
internal static class GuestNetwork
{
    /// <summary>Where the resolver configuration goes.</summary>
    public const string ResolvConfPath = "/etc/resolv.conf";

    /// <summary>Applies <paramref name="network"/>.</summary>
    /// <exception cref="CocoonException">An address is not IPv4, or the kernel refused a step.</exception>
    public static void Configure(BootNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var address = ToSinAddr(network.Address, "address");
        var gateway = ToSinAddr(network.Gateway, "gateway");
        Interop.SetInterfaceAddress(network.Interface, address, Netmask(network.PrefixLength));
        Interop.InterfaceUp(network.Interface);
        Interop.AddDefaultRoute(gateway);
        Directory.CreateDirectory(Path.GetDirectoryName(ResolvConfPath)!);
        File.WriteAllText(ResolvConfPath, ResolvConf(network.Nameservers));
    }

    /// <summary>The netmask of a prefix length, in network byte order as <c>sin_addr</c> holds it.</summary>
    public static uint Netmask(int prefixLength)
    {
        if (prefixLength is < 0 or > 32)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The network prefix length {prefixLength} is out of range: use 0 to 32.");
        }

        var hostOrder = prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(hostOrder) : hostOrder;
    }

    /// <summary>The text of <c>/etc/resolv.conf</c>.</summary>
    public static string ResolvConf(IEnumerable<string> nameservers)
    {
        var text = "";
        foreach (var server in nameservers)
        {
            if (!IPAddress.TryParse(server, out _) || server.Any(char.IsWhiteSpace))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The nameserver '{server}' is not an IP address.");
            }

            text += $"nameserver {server}\n";
        }

        return text;
    }

    /// <summary>An IPv4 address as <c>sin_addr</c> holds it (network byte order in memory).</summary>
    public static uint ToSinAddr(string text, string what)
    {
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The network {what} '{text}' is not an IPv4 address.");
        }

        return BitConverter.ToUInt32(address.GetAddressBytes());
    }
}
