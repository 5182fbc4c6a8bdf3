// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Agent.Forwarding;
using Cocoon.Agent.Processes;
using Cocoon.Vsock;
using Cocoon.Vsock.Streams;

namespace Cocoon.Agent.Network;

/// <summary>
/// The agent's data-stream server on vsock port 1025 (docs/architecture.md §2.3). For each connection:
/// <code>
///  1. read the stream header (bounded, within <see cref="HeaderTimeout"/>)
///  2. dial what it names, connect to a UNIX socket, take an announced connection by its token,
///     or check a copy's path
///  3. answer one status line: ok, or error CODE MESSAGE, and close on error
///  4. relay: raw bytes for tcp, connect and accept (StreamRelay), length-prefixed datagrams for
///     udp (DatagramRelay); a copy packs its path as tar (out), or unpacks the host's tar and
///     answers a second status line (in)
/// </code>
/// Connections run on .NET's async socket engine; no thread per stream.
/// </summary>
internal sealed class StreamServer : IDisposable
{
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a connect stream waits for a UNIX socket whose backlog is full.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly VsockListener _listener;
    private readonly Dialer _dialer;
    private readonly SocketForwards _forwards;
    private readonly Containers.BoxContainers _containers;
    private readonly StdioStreams? _stdio;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    /// <param name="listener">Port 1025's listener.</param>
    /// <param name="dialer">Dials tcp and udp.</param>
    /// <param name="forwards">The announced connections accept streams take.</param>
    /// <param name="containers">The box's containers, whose files and sockets copy and connect streams may name.</param>
    /// <param name="logger">Logs failed streams.</param>
    /// <param name="stdio">The execs waiting for their stdio streams; null serves none.</param>
    public StreamServer(VsockListener listener, Dialer dialer, SocketForwards forwards, Containers.BoxContainers containers, ILogger logger, StdioStreams? stdio = null)
    {
        _listener = listener;
        _dialer = dialer;
        _forwards = forwards;
        _containers = containers;
        _stdio = stdio;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (await _listener.AcceptAsync(CancellationToken.None).ConfigureAwait(false) is { } connection)
        {
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        try
        {
            StreamRequest? request;
            StreamStatus? error;
            using (var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                headerTimeout.CancelAfter(HeaderTimeout);
                try
                {
                    (request, error) = await StreamHeader.ReadAsync(connection, headerTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    (request, error) = (null, StreamStatus.Error(StreamStatusCode.BadHeader, $"no stream header within {HeaderTimeout.TotalSeconds:0} s"));
                }
            }

            if (request is CopyRequest copy)
            {
                await ServeCopyAsync(connection, copy).ConfigureAwait(false);
                return;
            }

            if (request is AcceptRequest accept)
            {
                await ServeAcceptAsync(connection, accept).ConfigureAwait(false);
                return;
            }

            if (request is ConnectRequest connect)
            {
                var (socket, connected) = await ConnectAsync(connect).ConfigureAwait(false);
                await AnswerAndRelayAsync(connection, socket, connected).ConfigureAwait(false);
                return;
            }

            if (request is not DialRequest dial)
            {
                await AnswerAndCloseAsync(connection, error ?? StreamStatus.Error(StreamStatusCode.Unsupported, "only dial, connect, accept and copy streams are served")).ConfigureAwait(false);
                return;
            }

            var (target, status) = await _dialer.DialAsync(dial, _stop.Token).ConfigureAwait(false);
            await AnswerAndRelayAsync(connection, target, status, datagrams: dial.Network == DialNetwork.Udp).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            connection.Dispose();
        }
        catch (Exception ex)
        {
            NetworkLog.StreamFailed(_logger, ex);
            connection.Dispose();
        }
    }

    /// <summary>
    /// An accept stream: the token names a connection a guest client made to a forwarded socket
    /// (<see cref="SocketForwards"/>), or an exec's stdio (<see cref="StdioStreams"/>), which takes
    /// the connection itself after ok. Unknown, taken or expired tokens are refused and logged.
    /// </summary>
    private async Task ServeAcceptAsync(Socket connection, AcceptRequest accept)
    {
        if (!accept.Refuse && _stdio is not null && await TryAttachStdioAsync(connection, accept.Token).ConfigureAwait(false))
        {
            return;
        }

        if (_forwards.TakePending(accept.Token) is not { } client)
        {
            ForwardingLog.UnknownToken(_logger);
            await AnswerAndCloseAsync(connection, StreamStatus.Error(StreamStatusCode.NotFound, "no forwarded connection waits with that token (unknown, taken or expired)")).ConfigureAwait(false);
            return;
        }

        if (accept.Refuse)
        {
            // The host has nothing to connect it to: the guest client sees its connection closed now.
            client.Dispose();
            await AnswerAndCloseAsync(connection, StreamStatus.Ok).ConfigureAwait(false);
            return;
        }

        await AnswerAndRelayAsync(connection, client, StreamStatus.Ok).ConfigureAwait(false);
    }

    /// <summary>Answers ok and hands the connection to the exec waiting for <paramref name="token"/>; false when none does.</summary>
    private async Task<bool> TryAttachStdioAsync(Socket connection, string token)
    {
        // Ok goes out before the process can write to the connection, so it is the first thing the host reads.
        if (!_stdio!.IsPending(token))
        {
            return false;
        }

        await SendAllAsync(connection, StreamStatus.Ok.Encode()).ConfigureAwait(false);
        if (!_stdio.TryAttach(token, connection))
        {
            // The exec gave up (timed out or its client left) in between.
            connection.Dispose();
        }

        return true;
    }

    /// <summary>
    /// Connects to a UNIX socket in the box, or in a container: there the path is resolved inside the
    /// container's root (<c>/proc/PID/root</c> of its init, links followed with that root as <c>/</c>,
    /// <see cref="Containers.RootedPath"/>) so the socket is the one the container's processes see.
    /// Failures are values naming the path.
    /// </summary>
    private async Task<(Socket? Socket, StreamStatus Status)> ConnectAsync(ConnectRequest connect)
    {
        var what = $"socket {StreamStatus.Printable(connect.Path)}";
        var where = "the box";
        var path = connect.Path;
        if (connect.Container is { } container)
        {
            where = $"container '{StreamStatus.Printable(container)}'";
            if (_containers.FindRoot(container) is not { } root)
            {
                return (null, StreamStatus.Error(StreamStatusCode.UnknownContainer, $"no container '{StreamStatus.Printable(container)}' runs in this box (connecting to {what})"));
            }

            if (Containers.RootedPath.Resolve(root, path) is not { } resolved)
            {
                return (null, StreamStatus.Error(StreamStatusCode.NotFound, $"{what} in {where} leads through too many symbolic links"));
            }

            path = root + resolved;
            if (System.Text.Encoding.UTF8.GetByteCount(path) > Protocol.UnixSocketPath.MaxBytes)
            {
                return (null, StreamStatus.Error(StreamStatusCode.Unsupported, $"{what} in {where} is '{StreamStatus.Printable(path)}' in the box, longer than a socket path may be"));
            }
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            return (socket, StreamStatus.Ok);
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, StreamStatus.Error(StreamStatusCode.Timeout, $"connecting to {what} in {where} timed out after {ConnectTimeout.TotalSeconds:0} s (its backlog is full)"));
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            return (null, ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => StreamStatus.Error(StreamStatusCode.Refused, $"connection refused: nothing listens on {what} in {where}"),
                SocketError.AddressNotAvailable => StreamStatus.Error(StreamStatusCode.NotFound, $"no {what} in {where}"),
                _ => StreamStatus.Error(StreamStatusCode.Internal, $"connecting to {what} in {where} failed: {ex.Message}"),
            });
        }
    }

    /// <summary>Answers ok and relays (bytes, or framed datagrams for udp), or answers the failure and closes; the target is owned from here.</summary>
    private async Task AnswerAndRelayAsync(Socket connection, Socket? target, StreamStatus status, bool datagrams = false)
    {
        if (target is null)
        {
            NetworkLog.DialFailed(_logger, status.ToString());
            await AnswerAndCloseAsync(connection, status).ConfigureAwait(false);
            return;
        }

        try
        {
            await SendAllAsync(connection, StreamStatus.Ok.Encode()).ConfigureAwait(false);
        }
        catch
        {
            target.Dispose();
            throw;
        }

        if (datagrams)
        {
            await DatagramRelay.RunAsync(connection, target, _stop.Token).ConfigureAwait(false);
        }
        else
        {
            await StreamRelay.RunAsync(connection, target, _stop.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A copy stream (<see cref="TarCopy"/>): the path is checked before <c>ok</c>, so a missing source
    /// or destination directory is the status line's error; a copy in answers a second line once
    /// the whole archive is unpacked (or why it was not).
    /// </summary>
    private async Task ServeCopyAsync(Socket connection, CopyRequest copy)
    {
        // In a container, the box path that leads to the same file, and messages name the container's path.
        // A container stays frozen for the whole copy, so none of its processes can move a link under it.
        var path = copy.Path;
        Func<string, string> shown = message => message;
        using var frozen = copy.Container is { } named ? await FreezeAsync(connection, copy, named).ConfigureAwait(false) : null;
        if (copy.Container is { } container)
        {
            if (frozen is not { Root: var root })
            {
                return;
            }

            if (Containers.RootedPath.ForCopy(root, copy.Path, into: copy.Direction == CopyDirection.In) is not { } resolved)
            {
                await AnswerAndCloseAsync(connection, StreamStatus.Error(StreamStatusCode.BadPath, $"{StreamStatus.Printable(copy.Path)} in container '{StreamStatus.Printable(container)}' leads through too many symbolic links")).ConfigureAwait(false);
                return;
            }

            path = resolved;
            shown = message => message.Replace(root, string.Empty, StringComparison.Ordinal);
        }

        try
        {
            if (copy.Direction == CopyDirection.Out)
            {
                TarCopy.CheckSource(path);
            }
            else
            {
                TarCopy.CheckDestination(path, copy.Placement);
            }
        }
        catch (StreamException e)
        {
            await AnswerAndCloseAsync(connection, StreamStatus.Error(e.Status, shown(e.Message))).ConfigureAwait(false);
            return;
        }

        await SendAllAsync(connection, StreamStatus.Ok.Encode()).ConfigureAwait(false);
        var stream = new SocketStream(connection, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            if (copy.Direction == CopyDirection.Out)
            {
                try
                {
                    await TarCopy.PackAsync(path, stream, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is StreamException or IOException or UnauthorizedAccessException)
                {
                    // The host sees the archive end early; the reason stays in the agent's log.
                    NetworkLog.CopyFailed(_logger, "out of", path, e.Message);
                    throw;
                }

                stream.CompleteWrites();
                await DrainAsync(stream).ConfigureAwait(false);
                return;
            }

            StreamStatus result;
            try
            {
                await TarCopy.UnpackAsync(stream, path, copy.Placement, dropSetId: false, _stop.Token).ConfigureAwait(false);
                result = StreamStatus.Ok;
            }
            catch (StreamException e)
            {
                result = StreamStatus.Error(e.Status, shown(e.Message));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CocoonException)
            {
                result = StreamStatus.Error(StreamStatusCode.Internal, shown($"unpacking at {path} failed: {e.Message}"));
            }

            // The answer first, then the rest of the host's bytes (all of them after a failure), so
            // the host finishes sending and reads why.
            if (!result.IsOk)
            {
                NetworkLog.CopyFailed(_logger, "into", path, result.Message);
            }

            await SendAllAsync(connection, result.Encode()).ConfigureAwait(false);
            await DrainAsync(stream).ConfigureAwait(false);
            connection.Shutdown(SocketShutdown.Send);
        }
    }

    /// <summary>Freezes the copy's container; on failure answers why (unknown container, or not frozen) and returns null.</summary>
    private async Task<Containers.FrozenContainer?> FreezeAsync(Socket connection, CopyRequest copy, string container)
    {
        var what = $"copying {(copy.Direction == CopyDirection.Out ? "out of" : "into")} {StreamStatus.Printable(copy.Path)}";
        StreamStatus error;
        try
        {
            if (await _containers.FreezeAsync(container, _stop.Token).ConfigureAwait(false) is { } frozen)
            {
                return frozen;
            }

            error = StreamStatus.Error(StreamStatusCode.UnknownContainer, $"no container '{StreamStatus.Printable(container)}' runs in this box ({what})");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = StreamStatus.Error(StreamStatusCode.Internal, $"container '{StreamStatus.Printable(container)}' could not be frozen for {what}: {ex.Message}");
        }

        await AnswerAndCloseAsync(connection, error).ConfigureAwait(false);
        return null;
    }

    /// <summary>Reads the peer's side to its end (its half-close), so closing loses nothing in flight.</summary>
    private async Task DrainAsync(Stream stream)
    {
        var buffer = new byte[16 * 1024];
        while (await stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false) > 0)
        {
        }
    }

    private async Task AnswerAndCloseAsync(Socket connection, StreamStatus status)
    {
        try
        {
            await SendAllAsync(connection, status.Encode()).ConfigureAwait(false);
            connection.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            connection.Dispose();
        }
    }

    private async Task SendAllAsync(Socket connection, byte[] data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            sent += await connection.SendAsync(data.AsMemory(sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
        }
    }
}
