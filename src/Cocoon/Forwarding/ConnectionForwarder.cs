// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net.Sockets;
using Cocoon.Vsock.Streams;

namespace Cocoon.Forwarding;

/// <summary>
/// The host side of every forward that listens on the host: accept loops whose every connection is
/// dialed afresh into the box and relayed (<see cref="StreamRelay"/>) until both ends close. Shared by
/// <see cref="PortForward"/> (TCP, and the tracking of its UDP loops) and <see cref="SocketForward"/>.
/// A failed dial closes that one local connection and is reported; the listener keeps serving.
/// Dispose closes the listeners and every forwarded connection.
/// </summary>
internal sealed class ConnectionForwarder(Func<CancellationToken, Task<Socket>> dial, Action<CocoonException>? connectionFailed) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private readonly ConcurrentBag<Socket> _owned = [];
    private int _disposed;

    /// <summary>Cancelled when the forwarder is disposed.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Accepts on <paramref name="listener"/> (owned from here) and forwards each connection.</summary>
    public void Serve(Socket listener)
    {
        Own(listener);
        Track(AcceptLoopAsync(listener));
    }

    /// <summary>Closes <paramref name="socket"/> when the forwarder is disposed.</summary>
    public void Own(Socket socket) => _owned.Add(socket);

    /// <summary>Waits for <paramref name="task"/> when the forwarder is disposed.</summary>
    public void Track(Task task)
    {
        _running[task] = true;
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Reports a failed connection unless the forwarder is stopping; a failing callback is ignored.</summary>
    public void ReportFailure(CocoonException ex)
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        try
        {
            connectionFailed?.Invoke(ex);
        }
        catch (Exception)
        {
            // A failing callback must not stop the forwarder.
        }
    }

    /// <summary>Stops listening and closes every forwarded connection.</summary>
    /// <returns>A task that completes when all of them are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var socket in _owned)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_running.Keys).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            Track(ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        Socket remote;
        try
        {
            remote = await dial(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            return;
        }
        catch (CocoonException ex)
        {
            // Reported before the close, so whoever sees the connection end can read why.
            ReportFailure(ex);
            client.Dispose();
            return;
        }

        await StreamRelay.RunAsync(client, remote, _stop.Token).ConfigureAwait(false);
    }
}
