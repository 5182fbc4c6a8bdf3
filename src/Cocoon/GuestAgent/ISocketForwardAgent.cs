// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.GuestAgent;

/// <summary>A connection a guest client made to a forwarded socket, as the agent announced it (untrusted).</summary>
/// <param name="ForwardId">The forward id the agent names; the host checks it against its own record.</param>
/// <param name="Token">The token for the accept stream.</param>
internal readonly record struct AnnouncedConnection(string ForwardId, string Token);

/// <summary>The agent's SocketForwards service (proto/cocoon/agent/v1/socket_forward.proto), host side.</summary>
internal interface ISocketForwardAgent
{
    /// <summary>Binds the listener of <paramref name="forwardId"/> in the box, and a symlink at <paramref name="linkPath"/> when given.</summary>
    /// <returns>The listener's path in the box.</returns>
    Task<string> BindSocketForwardAsync(string forwardId, string? linkPath, CancellationToken cancellationToken);

    /// <summary>
    /// Binds the listener of a container's forward <paramref name="forwardId"/> (the id of
    /// <paramref name="container"/> and <paramref name="destination"/>); mounted at the destination at
    /// once when the container runs, else by the container's spec when it is created.
    /// </summary>
    /// <returns>The listener's path in the box.</returns>
    Task<string> BindContainerSocketForwardAsync(string forwardId, string container, string destination, CancellationToken cancellationToken);

    /// <summary>Closes the listener of <paramref name="forwardId"/>; false when it was not bound.</summary>
    Task<bool> UnbindSocketForwardAsync(string forwardId, CancellationToken cancellationToken);

    /// <summary>
    /// Every connection accepted on a bound forward, until cancelled or the connection to the agent
    /// breaks. The first item has empty fields: the watch is in place from then on.
    /// </summary>
    IAsyncEnumerable<AnnouncedConnection> WatchSocketForwardAcceptsAsync(CancellationToken cancellationToken);
}
