// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Vsock;

/// <summary>Connects AF_VSOCK stream sockets (for kernel vhost-vsock backends and inside the guest).</summary>
public static class VsockSocket
{
    /// <summary>
    /// Connects to <paramref name="endPoint"/> and returns the connected socket. The kernel's vsock
    /// connect timeout (2 s by default) bounds the wait; cancellation abandons it.
    /// </summary>
    /// <param name="endPoint">The CID and port to connect to.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A connected <see cref="Socket"/> that supports the async APIs.</returns>
    /// <exception cref="CocoonException">Unavailable when refused, Timeout when the guest never answered; Unsupported without AF_VSOCK.</exception>
    public static async Task<Socket> ConnectAsync(VsockEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        cancellationToken.ThrowIfCancellationRequested();
        var handle = new SafeSocketHandle(Interop.CreateVsockSocket(nonBlocking: false), ownsHandle: true);
        var connect = Task.Run(() => Interop.ConnectVsock(handle, endPoint.ToSockaddr(), $"connect({endPoint})"), CancellationToken.None);
        try
        {
            await connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _ = connect.ContinueWith(_ => handle.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        // .NET's Socket registers the fd with its epoll engine, which switches it to non-blocking.
        return new Socket(handle);
    }
}
