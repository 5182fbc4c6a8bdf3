// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>Which way a socket forward carries connections.</summary>
public enum SocketForwardDirection
{
    /// <summary>A socket in the box served on the host: clients on the host connect to the host path.</summary>
    Out,

    /// <summary>A host socket seen in the box: clients in the box connect to the box path.</summary>
    In,
}

/// <summary>A socket forward the box's supervisor keeps for the box's life (<c>pod.socketForward.list</c>).</summary>
/// <param name="Id">
/// The forward's id: for <see cref="SocketForwardDirection.In"/> the forward id of docs/architecture.md §3
/// (SHA-256 of container id, ':' and the box path); for <see cref="SocketForwardDirection.Out"/> the
/// SHA-256 of <c>out:</c> and the host path.
/// </param>
/// <param name="Direction">Out of or into the box.</param>
/// <param name="HostPath">The socket on the host: listened on (out) or connected to (in).</param>
/// <param name="BoxPath">The socket path in the box: connected to (out) or listened on (in).</param>
/// <param name="Container">The container; null for the box itself.</param>
public sealed record SocketForwardInfo(string Id, SocketForwardDirection Direction, string HostPath, string BoxPath, string? Container = null);
