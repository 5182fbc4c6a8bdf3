// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.GuestAgent;
using Cocoon.Protocol;
using Cocoon.Vsock;
using Cocoon.Vsock.Streams;

namespace Cocoon;

/// <summary>Creates <see cref="IGuestAgent"/> clients.</summary>
public static class GuestAgentClient
{
    /// <summary>A client whose HTTP/2 connection comes from <paramref name="connect"/> (called again after a connection drops).</summary>
    /// <param name="connect">Opens a byte stream to the agent's gRPC port.</param>
    /// <returns>The client; dispose it to close the connection.</returns>
    public static IGuestAgent Connect(Func<CancellationToken, ValueTask<Stream>> connect)
    {
        ArgumentNullException.ThrowIfNull(connect);
        return new GrpcGuestAgent(connect, "the connection the caller supplies");
    }

    /// <summary>A client for a box: connects through its hybrid vsock socket to <see cref="AgentPorts.Control"/>.</summary>
    /// <param name="vsockSocketPath">The box's <c>vsock.sock</c>.</param>
    /// <returns>The client.</returns>
    public static IGuestAgent ConnectHybridVsock(string vsockSocketPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(vsockSocketPath);
        return ConnectBox(null, vsockSocketPath);
    }

    /// <summary>A client for the box <paramref name="name"/>, whose messages name it.</summary>
    internal static IGuestAgent ConnectBox(string? name, string vsockSocketPath) =>
        new GrpcGuestAgent(
            async cancellationToken => new NetworkStream(await HybridVsock.ConnectAsync(vsockSocketPath, AgentPorts.Control, cancellationToken).ConfigureAwait(false), ownsSocket: true),
            $"vsock port {AgentPorts.Control} through '{vsockSocketPath}'",
            name,
            (request, cancellationToken) => StreamClient.OpenAsync(vsockSocketPath, request, cancellationToken));

    /// <summary>
    /// A client for an agent serving on a plain UNIX socket (<c>cocoon-agent --listen-unix PATH</c>),
    /// with its data streams on <c>PATH_1025</c>.
    /// </summary>
    /// <param name="path">The socket path.</param>
    /// <returns>The client.</returns>
    public static IGuestAgent ConnectUnix(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var streams = $"{path}_{AgentPorts.Streams.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        return new GrpcGuestAgent(
            async cancellationToken => new NetworkStream(await ConnectUnixAsync(path, cancellationToken).ConfigureAwait(false), ownsSocket: true),
            $"socket '{path}'",
            openStream: async (request, cancellationToken) =>
            {
                var socket = await ConnectUnixAsync(streams, cancellationToken).ConfigureAwait(false);
                try
                {
                    await StreamClient.OpenAsync(socket, request, cancellationToken).ConfigureAwait(false);
                    return socket;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            });
    }

    private static async Task<Socket> ConnectUnixAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new CocoonException(CocoonErrorCode.Unavailable, $"Cannot connect to the agent socket '{path}': {ex.Message}.", ex);
        }
    }
}
