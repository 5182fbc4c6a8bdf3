// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Shim;

/// <summary>Names derived the way containerd derives them, so containerd and every shim agree.</summary>
internal static class ShimAddress
{
    /// <summary>Where containerd 1.6 puts shim sockets (its default state directory, whatever its --state).</summary>
    public const string SocketDirectory = "/run/containerd/s";

    /// <summary>
    /// The shim socket for task <paramref name="id"/>: <c>unix:///run/containerd/s/</c> + the hex
    /// SHA-256 of <c>CONTAINERD_ADDRESS/NAMESPACE/ID</c>, as containerd's shim library computes it.
    /// </summary>
    public static string For(string containerdAddress, string ns, string id)
    {
        var key = Path.Join(containerdAddress, ns, id);
        return "unix://" + SocketDirectory + "/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The socket path of a <c>unix://</c> address.</summary>
    public static string PathOf(string address) => address.StartsWith("unix://", StringComparison.Ordinal) ? address["unix://".Length..] : address;

    /// <summary>
    /// The Cocoon box of sandbox <paramref name="sandboxId"/> in namespace <paramref name="ns"/>:
    /// <c>ctrd-</c> + 16 hex digits of their hash (box names are short; containerd ids are not).
    /// </summary>
    public static string BoxName(string ns, string sandboxId)
        => "ctrd-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ns + "/" + sandboxId)))[..16];
}
