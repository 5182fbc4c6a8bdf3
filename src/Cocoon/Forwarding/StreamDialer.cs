// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Vsock.Streams;

namespace Cocoon.Forwarding;

/// <summary>Opens dial and copy streams into one box through its hybrid vsock socket (port 1025).</summary>
/// <param name="boxName">The box, for messages.</param>
/// <param name="vsockPath">The box's <c>vsock.sock</c>.</param>
internal sealed class StreamDialer(string boxName, string vsockPath)
{
    public string BoxName { get; } = boxName;

    /// <summary>Validates, connects, sends the header and waits for ok.</summary>
    /// <returns>A socket that carries the dialed connection's bytes.</returns>
    /// <exception cref="StreamException">With the status that tells the failures apart; box-not-running when the box's agent cannot be reached.</exception>
    public Task<Socket> DialAsync(DialRequest request, CancellationToken cancellationToken)
    {
        StreamHeader.Validate(request);
        return OpenAsync(request, cancellationToken);
    }

    /// <summary>Validates, connects, sends the copy header and waits for ok.</summary>
    /// <returns>A socket that carries the copy's tar stream.</returns>
    /// <exception cref="StreamException">bad-path or not-found from the agent; box-not-running when the box's agent cannot be reached.</exception>
    public Task<Socket> CopyAsync(CopyRequest request, CancellationToken cancellationToken)
    {
        StreamHeader.Validate(request);
        return OpenAsync(request, cancellationToken);
    }

    /// <summary>Connects to the agent's port 1025, sends <paramref name="request"/>'s header (validated by its encoder) and waits for ok.</summary>
    /// <returns>A socket that carries the stream's bytes.</returns>
    /// <exception cref="StreamException">With the agent's status; box-not-running when the box's agent cannot be reached.</exception>
    public async Task<Socket> OpenAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await StreamClient.OpenAsync(vsockPath, request, cancellationToken).ConfigureAwait(false);
        }
        catch (CocoonException ex) when (ex is not StreamException && ex.Code == CocoonErrorCode.Unavailable)
        {
            throw new StreamException(
                StreamStatusCode.BoxNotRunning,
                $"{StreamClient.Describe(request)}: box '{BoxName}' is not running or its agent does not serve data streams ({ex.Message})",
                ex);
        }
    }

    /// <summary>Parses a network name from the SDK or CLI.</summary>
    /// <exception cref="StreamException">bad-network naming the value.</exception>
    public static DialNetwork ParseNetwork(string network) =>
        StreamHeader.TryParseNetwork(network, out var parsed)
            ? parsed
            : throw new StreamException(StreamStatusCode.BadNetwork, $"network '{network}' is not supported; use tcp or udp");
}
