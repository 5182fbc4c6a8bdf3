// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Forwarding;
using Cocoon.Vsock.Streams;

namespace Cocoon.Files;

/// <summary>
/// The host's side of <c>cocoon cp</c> and <c>Box.CopyToAsync</c>/<c>CopyFromAsync</c>: one copy
/// data stream per copy (docs/architecture.md §2.3), a tar stream in it, never a gRPC message.
/// <code>
///  to the box:    check the host source · header (in, place|into, path) · ok · tar → half-close · final status line
///  from the box:  check the host destination · header (out, path) · ok · tar ← until the agent closes
/// </code>
/// Host paths are checked before the stream opens, box paths by the agent before it answers ok, so a
/// missing source or destination directory is a clear error and nothing is half-copied. With a
/// container, the box path is in that container's file system (the agent resolves it there).
/// </summary>
internal static class BoxCopy
{
    /// <summary>Copies the host file or directory <paramref name="source"/> to <paramref name="destination"/> in the box.</summary>
    public static async Task ToBoxAsync(StreamDialer dialer, string source, string destination, string? container, CancellationToken cancellationToken)
    {
        TarCopy.CheckSource(source);
        var request = new CopyRequest(CopyDirection.In, destination, CopyPlacement.Place, container);
        using var socket = await dialer.CopyAsync(request, cancellationToken).ConfigureAwait(false);
        await SendAndConfirmAsync(socket, request, stream => TarCopy.PackAsync(source, stream, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Unpacks the tar stream <paramref name="archive"/> into the box directory <paramref name="directory"/>.</summary>
    public static async Task ToBoxAsync(StreamDialer dialer, Stream archive, string directory, string? container, CancellationToken cancellationToken)
    {
        var request = new CopyRequest(CopyDirection.In, directory, CopyPlacement.Into, container);
        using var socket = await dialer.CopyAsync(request, cancellationToken).ConfigureAwait(false);
        await SendAndConfirmAsync(socket, request, stream => archive.CopyToAsync(stream, 128 * 1024, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="source"/> in the box to the host path <paramref name="destination"/>.</summary>
    public static async Task FromBoxAsync(StreamDialer dialer, string source, string destination, string? container, CancellationToken cancellationToken)
    {
        TarCopy.CheckDestination(destination, CopyPlacement.Place);
        var request = new CopyRequest(CopyDirection.Out, source, Container: container);
        using var socket = await dialer.CopyAsync(request, cancellationToken).ConfigureAwait(false);
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            // The box is untrusted: no set-ID bits from it land on the host.
            await TarCopy.UnpackAsync(stream, destination, CopyPlacement.Place, dropSetId: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the tar stream of <paramref name="source"/> in the box to <paramref name="archive"/>.</summary>
    public static async Task FromBoxAsync(StreamDialer dialer, string source, Stream archive, string? container, CancellationToken cancellationToken)
    {
        var request = new CopyRequest(CopyDirection.Out, source, Container: container);
        using var socket = await dialer.CopyAsync(request, cancellationToken).ConfigureAwait(false);
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CopyToAsync(archive, 128 * 1024, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SendAndConfirmAsync(Socket socket, CopyRequest request, Func<Stream, Task> send, CancellationToken cancellationToken)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                await send(stream).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (IOException e)
            {
                // The agent stopped reading: its final status line says why.
                var early = await StreamStatus.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
                throw new StreamException(early?.Code ?? StreamStatusCode.Internal, $"{StreamClient.Describe(request)}: {early?.Message ?? e.Message}", e);
            }
        }

        var status = await StreamStatus.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
        if (status is null)
        {
            throw new StreamException(StreamStatusCode.Internal, $"{StreamClient.Describe(request)}: the agent closed the copy stream without saying whether it finished.");
        }

        if (!status.IsOk)
        {
            throw new StreamException(status.Code, $"{StreamClient.Describe(request)}: {status.Message}");
        }
    }
}
