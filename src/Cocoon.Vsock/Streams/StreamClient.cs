// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Protocol;

namespace Cocoon.Vsock.Streams;

/// <summary>
/// A data stream the agent (or the host) refused, with the status it answered. <see cref="CocoonException.Code"/>
/// is the closed, coarse kind; <see cref="Status"/> tells refused, unreachable, timeout and the rest apart.
/// </summary>
public sealed class StreamException : CocoonException
{
    /// <summary>Creates the exception for a refused stream.</summary>
    /// <param name="status">What the agent answered; not ok.</param>
    /// <param name="message">The message, naming the port.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public StreamException(StreamStatusCode status, string message, Exception? innerException = null)
        : base(ToErrorCode(status), message, innerException)
    {
        Status = status;
    }

    /// <summary>The stream status: refused, unreachable, timeout, bad-network, bad-port, unknown-container, box-not-running, ...</summary>
    public StreamStatusCode Status { get; }

    /// <summary>The one mapping from stream status to <see cref="CocoonErrorCode"/>.</summary>
    /// <param name="status">The status.</param>
    /// <returns>The error code.</returns>
    public static CocoonErrorCode ToErrorCode(StreamStatusCode status) => status switch
    {
        StreamStatusCode.Refused or StreamStatusCode.Unreachable => CocoonErrorCode.Unavailable,
        StreamStatusCode.Timeout => CocoonErrorCode.Timeout,
        StreamStatusCode.BadNetwork or StreamStatusCode.BadPort or StreamStatusCode.BadAddress or StreamStatusCode.BadHeader => CocoonErrorCode.InvalidArgument,
        StreamStatusCode.UnknownContainer => CocoonErrorCode.NotFound,
        StreamStatusCode.Unsupported => CocoonErrorCode.Unsupported,
        StreamStatusCode.BoxNotRunning => CocoonErrorCode.InvalidState,
        StreamStatusCode.NotFound => CocoonErrorCode.NotFound,
        StreamStatusCode.BadPath => CocoonErrorCode.InvalidArgument,
        _ => CocoonErrorCode.Internal,
    };
}

/// <summary>The host's side of opening a data stream: header out, status line in.</summary>
public static class StreamClient
{
    /// <summary>
    /// Sends <paramref name="request"/>'s header on <paramref name="socket"/> (connected to the agent's
    /// port 1025) and reads the status line; after it returns the socket carries the stream's bytes.
    /// </summary>
    /// <param name="socket">A fresh connection to the agent's data-stream port.</param>
    /// <param name="request">What to attach to.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>A task that completes once the agent answered ok.</returns>
    /// <exception cref="StreamException">The agent answered an error, or closed without a status line.</exception>
    public static async Task OpenAsync(Socket socket, StreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var header = StreamHeader.Encode(request);
        try
        {
            var sent = 0;
            while (sent < header.Length)
            {
                sent += await socket.SendAsync(header.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException ex)
        {
            throw Failed(request, ex);
        }

        await ReadStatusAsync(socket, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a data stream through a box's hybrid vsock socket: connects to the agent's port 1025 with
    /// the header sent in the same write as the CONNECT line, then reads the status line. One round trip
    /// to the guest instead of two (CONNECT/OK, then header/status).
    /// </summary>
    /// <param name="udsPath">The box's <c>vsock.sock</c>.</param>
    /// <param name="request">What to attach to.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>A socket that carries the stream's bytes, once the agent answered ok.</returns>
    /// <exception cref="StreamException">The agent answered an error, or closed without a status line.</exception>
    /// <exception cref="CocoonException">Unavailable (not a <see cref="StreamException"/>) when the agent's port cannot be reached, as from <see cref="HybridVsock.ConnectAsync(string, uint, CancellationToken)"/>.</exception>
    public static async Task<Socket> OpenAsync(string udsPath, StreamRequest request, CancellationToken cancellationToken = default)
    {
        var header = StreamHeader.Encode(request);
        var socket = await HybridVsock.ConnectAsync(udsPath, AgentPorts.Streams, header, cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadStatusAsync(socket, request, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task ReadStatusAsync(Socket socket, StreamRequest request, CancellationToken cancellationToken)
    {
        StreamStatus? status;
        try
        {
            status = await StreamStatus.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw Failed(request, ex);
        }

        if (status is null)
        {
            throw new StreamException(StreamStatusCode.Internal, $"{Describe(request)}: the agent closed the data stream without a status line.");
        }

        if (!status.IsOk)
        {
            throw new StreamException(status.Code, $"{Describe(request)}: {status.Message}");
        }
    }

    private static StreamException Failed(StreamRequest request, SocketException ex) =>
        new(StreamStatusCode.Internal, $"{Describe(request)}: the agent's data stream failed: {ex.Message}", ex);

    /// <summary>Names a request in messages, for example <c>dial tcp port 80</c>.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The description.</returns>
    public static string Describe(StreamRequest request) => request switch
    {
        DialRequest dial => $"dial {dial.Network.Name()} port {dial.Port}{(dial.Container is null ? string.Empty : $" in container '{dial.Container}'")}",
        CopyRequest copy => $"copy {(copy.Direction == CopyDirection.In ? "to" : "from")} {copy.Path}{(copy.Container is null ? string.Empty : $" in container '{copy.Container}'")}",
        ConnectRequest connect => $"connect to socket {StreamStatus.Printable(connect.Path)}{(connect.Container is null ? string.Empty : $" in container '{connect.Container}'")}",
        AcceptRequest accept => accept.Refuse ? "refuse a forwarded connection" : "accept a forwarded connection",
        _ => request.Kind.ToString().ToLowerInvariant(),
    };
}
