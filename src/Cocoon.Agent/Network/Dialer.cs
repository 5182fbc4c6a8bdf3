// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using Cocoon.Vsock.Streams;

namespace Cocoon.Agent.Network;

/// <summary>
/// Dials TCP or UDP to an address inside the box, in the box's network namespace or a container's.
/// Failures are values: a <see cref="StreamStatus"/> whose code and message name the port.
/// </summary>
internal sealed class Dialer(INetworkNamespaces namespaces, TimeSpan connectTimeout)
{
    public async Task<(Socket? Socket, StreamStatus Status)> DialAsync(DialRequest request, CancellationToken cancellationToken)
    {
        var address = request.Address is null or "localhost" ? IPAddress.Loopback : IPAddress.Parse(request.Address);
        var endPoint = new IPEndPoint(address, request.Port);
        var what = $"{request.Network.Name()} {FormatEndPoint(endPoint)}{(request.Container is null ? string.Empty : $" in container '{request.Container}'")}";
        var (type, protocol) = request.Network == DialNetwork.Udp
            ? (SocketType.Dgram, ProtocolType.Udp)
            : (SocketType.Stream, ProtocolType.Tcp);

        Socket socket;
        if (request.Container is { } container)
        {
            if (namespaces.Find(container) is not { } path)
            {
                return (null, StreamStatus.Error(StreamStatusCode.UnknownContainer, $"no container '{container}' runs in this box (dialing {what})"));
            }

            try
            {
                socket = await NamespacedSocket.CreateAsync(path, address.AddressFamily, type, protocol).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is CocoonException or IOException or UnauthorizedAccessException)
            {
                return (null, StreamStatus.Error(StreamStatusCode.UnknownContainer, $"cannot enter the network namespace of container '{container}': {ex.Message}"));
            }
        }
        else
        {
            socket = new Socket(address.AddressFamily, type, protocol);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connectTimeout);
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            return (socket, StreamStatus.Ok);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, StreamStatus.Error(StreamStatusCode.Timeout, $"connecting to {what} timed out after {connectTimeout.TotalSeconds:0} s"));
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            return (null, Classify(ex, what));
        }
    }

    private static StreamStatus Classify(SocketException ex, string what) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => StreamStatus.Error(StreamStatusCode.Refused, $"connection refused: nothing listens on {what}"),
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported or SocketError.NetworkDown
            => StreamStatus.Error(StreamStatusCode.Unreachable, $"{what} is unreachable from the box: {ex.Message}"),
        SocketError.TimedOut => StreamStatus.Error(StreamStatusCode.Timeout, $"connecting to {what} timed out"),
        _ => StreamStatus.Error(StreamStatusCode.Internal, $"connecting to {what} failed: {ex.Message}"),
    };

    private static string FormatEndPoint(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";
}
