// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using Cocoon.Protocol;

namespace Cocoon.Vsock;

/// <summary>
/// An AF_VSOCK address: a context id (see <see cref="VsockCids"/>) and a port. .NET cannot bind or
/// connect this family itself; use <see cref="VsockListener"/> and <see cref="VsockSocket"/>.
/// </summary>
public sealed class VsockEndPoint : EndPoint, IEquatable<VsockEndPoint>
{
    /// <summary>VMADDR_PORT_ANY: let the kernel pick a port when binding.</summary>
    public const uint AnyPort = uint.MaxValue;

    /// <summary>Creates an address.</summary>
    /// <param name="cid">The context id; see <see cref="VsockCids"/>.</param>
    /// <param name="port">The port.</param>
    public VsockEndPoint(uint cid, uint port)
    {
        Cid = cid;
        Port = port;
    }

    /// <summary>The context id.</summary>
    public uint Cid { get; }

    /// <summary>The port.</summary>
    public uint Port { get; }

    /// <summary>AF_VSOCK (40), which has no <see cref="System.Net.Sockets.AddressFamily"/> member.</summary>
    public override AddressFamily AddressFamily => (AddressFamily)Interop.AF_VSOCK;

    /// <summary>This address as the kernel's <c>struct sockaddr_vm</c>.</summary>
    internal Interop.SockaddrVm ToSockaddr() => new()
    {
        svm_family = Interop.AF_VSOCK,
        svm_port = Port,
        svm_cid = Cid,
    };

    /// <inheritdoc/>
    public bool Equals(VsockEndPoint? other) => other is not null && other.Cid == Cid && other.Port == Port;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as VsockEndPoint);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Cid, Port);

    /// <summary>Formats as <c>vsock:CID:PORT</c>, with <c>any</c> for VMADDR_CID_ANY.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"vsock:{(Cid == VsockCids.Any ? "any" : Cid.ToString(System.Globalization.CultureInfo.InvariantCulture))}:{Port}";
}
