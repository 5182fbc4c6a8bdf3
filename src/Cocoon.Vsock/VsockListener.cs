// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Cocoon.Vsock;

/// <summary>
/// A listening stream socket whose accepted connections come back as ordinary .NET <see cref="Socket"/>s.
/// .NET cannot accept on an AF_VSOCK socket itself (it needs a known address family), so one
/// background thread polls the listening socket and an eventfd, calls accept4 and wraps each
/// connection; everything after the accept uses .NET's own async socket engine.
/// </summary>
public sealed class VsockListener : IDisposable
{
    private readonly SafeSocketHandle _listen;
    private readonly SafeFdHandle _wake;
    private readonly Channel<Socket> _accepted = Channel.CreateUnbounded<Socket>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Thread _thread;
    private int _disposed;

    private readonly IDisposable? _owner;

    internal VsockListener(SafeSocketHandle listening, EndPoint endPoint, IDisposable? owner = null)
    {
        _listen = listening;
        _owner = owner;
        LocalEndPoint = endPoint;
        _wake = Interop.CreateEventFd();
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = $"accept {endPoint}" };
        _thread.Start();
    }

    /// <summary>The bound address (with the kernel's port when bound to <see cref="VsockEndPoint.AnyPort"/>).</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>Binds and listens on <paramref name="endPoint"/>.</summary>
    /// <param name="endPoint">Usually <c>new VsockEndPoint(VsockCids.Any, port)</c>.</param>
    /// <param name="backlog">The listen backlog.</param>
    /// <returns>The listener; accepted connections queue until <see cref="AcceptAsync"/> takes them.</returns>
    /// <exception cref="CocoonException">AlreadyExists when the port is taken; Unsupported without AF_VSOCK.</exception>
    public static VsockListener Bind(VsockEndPoint endPoint, int backlog = 512)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var handle = new SafeSocketHandle(Interop.CreateVsockSocket(nonBlocking: true), ownsHandle: true);
        try
        {
            Interop.BindVsock(handle, endPoint.ToSockaddr(), $"bind({endPoint})");
            Interop.Listen(handle, backlog, $"listen({endPoint})");
            var address = Interop.GetVsockName(handle, $"getsockname({endPoint})");
            return new VsockListener(handle, new VsockEndPoint(address.svm_cid, address.svm_port));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Binds and listens on a UNIX stream socket at <paramref name="path"/> through the same accept
    /// loop (the agent's test mode, and tests where AF_VSOCK loopback is missing).
    /// </summary>
    /// <param name="path">The socket path; it must not exist.</param>
    /// <param name="backlog">The listen backlog.</param>
    /// <returns>The listener; accepted connections queue until <see cref="AcceptAsync"/> takes them.</returns>
    public static VsockListener BindUnix(string path, int backlog = 512)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            socket.Bind(endPoint);
            socket.Listen(backlog);
            socket.Blocking = false;
            // The Socket owns the handle: kept alive by the listener and disposed with it.
            return new VsockListener(socket.SafeHandle, endPoint, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the next connection.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A connected socket, or null once the listener is disposed.</returns>
    public async ValueTask<Socket?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Stops listening; pending and future <see cref="AcceptAsync"/> calls return null.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The accept thread owns the listening socket and closes it when it sees the wake-up.
        Interop.SignalEventFd(_wake);
    }

    private void AcceptLoop()
    {
        Exception? failure = null;
        try
        {
            while (WaitReadable())
            {
                while (true)
                {
                    var accepted = Interop.Accept(_listen, nonBlocking: false);
                    if (accepted.WouldBlock)
                    {
                        break;
                    }

                    var connection = new SafeSocketHandle((nint)accepted.ThrowIfFailed($"accept4({LocalEndPoint})"), ownsHandle: true);
                    _accepted.Writer.TryWrite(new Socket(connection));
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            _listen.Dispose();
            _owner?.Dispose();
            _wake.Dispose();
            _accepted.Writer.TryComplete(failure);
            while (_accepted.Reader.TryRead(out var pending))
            {
                pending.Dispose();
            }
        }
    }

    /// <summary>Blocks until a connection is pending (true) or the listener is disposed (false).</summary>
    private bool WaitReadable()
    {
        var addedListen = false;
        var addedWake = false;
        try
        {
            _listen.DangerousAddRef(ref addedListen);
            _wake.DangerousAddRef(ref addedWake);
            var fds = new Interop.PollFd[]
            {
                new() { fd = (int)_listen.DangerousGetHandle(), events = Interop.POLLIN },
                new() { fd = (int)_wake.DangerousGetHandle(), events = Interop.POLLIN },
            };
            while (true)
            {
                fds[0].revents = 0;
                fds[1].revents = 0;
                Interop.Poll(fds, -1, $"poll({LocalEndPoint})");
                if (fds[1].revents != 0 || Volatile.Read(ref _disposed) != 0)
                {
                    return false;
                }

                if (fds[0].revents != 0)
                {
                    return true;
                }
            }
        }
        finally
        {
            if (addedWake)
            {
                _wake.DangerousRelease();
            }

            if (addedListen)
            {
                _listen.DangerousRelease();
            }
        }
    }
}
