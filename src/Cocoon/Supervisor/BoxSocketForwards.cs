// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net.Sockets;
using Cocoon.Forwarding;
using Cocoon.GuestAgent;
using Cocoon.Protocol;
using Cocoon.Vsock.Streams;
using Microsoft.Extensions.Logging;

namespace Cocoon.Supervisor;

/// <summary>
/// The supervisor's record of a box's socket forwards (<c>pod.socketForward.*</c>), both ways, for
/// the box's life. Out of the box: a <see cref="SocketForward"/> per entry. Into the box:
/// <code>
///  1. add         record forward_id → host path (this record is the only place a host path comes from)
///  2. watch       one WatchAccepts call, started on the first add, in place before any bind
///  3. bind        the agent listens at /run/socketfwd/&lt;forward_id&gt;.sock, linked from the box path;
///                 a container's: bind-mounted at the path in it (now when it runs, else when it is created)
///  4. announced   (forward_id, token) from the guest: untrusted. Resolve forward_id here; unknown
///                 ids are refused (accept stream with refuse) and logged. Connect the recorded host
///                 socket; absent or refusing, refuse too, so the guest client is closed at once
///  5. splice      an accept stream with the token, StreamRelay with the host connection
///  6. remove      unbind in the box, drop the record; dispose ends every forward and connection
/// </code>
/// </summary>
internal sealed class BoxSocketForwards : IAsyncDisposable
{
    private readonly StreamDialer _dialer;
    private readonly Func<ISocketForwardAgent> _connectAgent;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly ConcurrentDictionary<string, SocketForwardInfo> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SocketForward> _out = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private ISocketForwardAgent? _agent;
    private object? _agentLock;
    private Task? _watching;

    public BoxSocketForwards(StreamDialer dialer, Func<ISocketForwardAgent> connectAgent, ILogger logger)
    {
        _dialer = dialer;
        _connectAgent = connectAgent;
        _logger = logger;
    }

    /// <summary>The forwards, in no particular order.</summary>
    public IReadOnlyList<SocketForwardInfo> List() => [.. _entries.Values];

    /// <summary>Validates, then starts a forward and records it.</summary>
    /// <param name="direction">Out of the box or into it.</param>
    /// <param name="hostPath">The host socket.</param>
    /// <param name="boxPath">The socket path in the box or container.</param>
    /// <param name="container">The container; null for the box's own namespace, or see <paramref name="firstContainer"/>.</param>
    /// <param name="firstContainer">
    /// For an out forward without <paramref name="container"/>: connect in the box's first running container
    /// at each connection (as exec picks one), in the box's own namespace while none runs. A box's
    /// <see cref="BoxConfig.SocketForwards"/> in a box with an image are added so.
    /// </param>
    /// <param name="cancellationToken">Cancels the add.</param>
    /// <exception cref="CocoonException">InvalidArgument naming a bad path; AlreadyExists for a forward of the same id or a host path in use.</exception>
    public async Task<SocketForwardInfo> AddAsync(SocketForwardDirection direction, string hostPath, string boxPath, string? container, CancellationToken cancellationToken, bool firstContainer = false)
    {
        UnixSocketPath.EnsureValid(hostPath, "hostPath");
        UnixSocketPath.EnsureValid(boxPath, "path");
        if (container is not null)
        {
            ContainerName.EnsureValid(container);
        }

        var id = direction == SocketForwardDirection.In ? ForwardId.Compute(container, boxPath) : ForwardId.Compute("out", hostPath);
        var entry = new SocketForwardInfo(id, direction, hostPath, boxPath, container);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_entries.TryGetValue(id, out var existing) && existing == entry && container is not null && direction == SocketForwardDirection.In)
            {
                // The same socket mount again, for a container of the same name: its listener is still bound.
                return existing;
            }

            if (_entries.ContainsKey(id))
            {
                throw new CocoonException(CocoonErrorCode.AlreadyExists, $"a socket forward {(direction == SocketForwardDirection.In ? $"into '{boxPath}'" : $"at host path '{hostPath}'")} exists already (id {id})");
            }

            if (direction == SocketForwardDirection.Out)
            {
                Func<StreamRequest, CancellationToken, Task<Socket>> open = firstContainer && container is null ? OpenInFirstContainerAsync : _dialer.OpenAsync;
                _out[id] = SocketForward.Start(open, hostPath, boxPath, container, e => SupervisorLog.SocketForwardConnectFailed(_logger, hostPath, e.Message));
                _entries[id] = entry;
                return entry;
            }

            // :: Steps 1 to 3
            _entries[id] = entry;
            try
            {
                var agent = await EnsureWatchingAsync(cancellationToken).ConfigureAwait(false);
                if (container is null)
                {
                    await agent.BindSocketForwardAsync(id, boxPath, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await agent.BindContainerSocketForwardAsync(id, container, boxPath, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                _entries.TryRemove(id, out _);
                throw;
            }

            return entry;
        }
        finally
        {
            _changes.Release();
        }
    }

    // :: Step 6
    /// <summary>Ends the forward <paramref name="id"/>; false when there is none.</summary>
    public async Task<bool> RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_entries.TryRemove(id, out var entry))
            {
                return false;
            }

            if (_out.TryRemove(id, out var forward))
            {
                await forward.DisposeAsync().ConfigureAwait(false);
            }
            else if (entry.Direction == SocketForwardDirection.In && _agent is { } agent)
            {
                await agent.UnbindSocketForwardAsync(id, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Ends every forward and connection; the box is going away, so nothing is unbound in it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var forward in _out.Values)
        {
            await forward.DisposeAsync().ConfigureAwait(false);
        }

        _out.Clear();
        _entries.Clear();
        if (_watching is { } watching)
        {
            await watching.ConfigureAwait(false);
        }

        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        if (_agent is IAsyncDisposable agent)
        {
            await agent.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Opens <paramref name="request"/> in the box's first running container, if one runs.</summary>
    private async Task<Socket> OpenInFirstContainerAsync(StreamRequest request, CancellationToken cancellationToken)
    {
        if (request is ConnectRequest { Container: null } connect && Agent() is IContainerAgent containers)
        {
            var running = (await containers.ListContainersAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(c => c.Exit is null);
            if (running is not null)
            {
                request = connect with { Container = running.Name };
            }
        }

        return await _dialer.OpenAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The one agent client, made on first use (connections of out forwards may ask at once).</summary>
    private ISocketForwardAgent Agent() => LazyInitializer.EnsureInitialized(ref _agent, ref _agentLock, _connectAgent);

    // :: Step 2
    private async Task<ISocketForwardAgent> EnsureWatchingAsync(CancellationToken cancellationToken)
    {
        var agent = Agent();
        if (_watching is { IsCompleted: false })
        {
            return agent;
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _watching = WatchAsync(agent, ready);
        await ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return agent;
    }

    private async Task WatchAsync(ISocketForwardAgent agent, TaskCompletionSource ready)
    {
        try
        {
            await foreach (var announced in agent.WatchSocketForwardAcceptsAsync(_stop.Token).ConfigureAwait(false))
            {
                if (announced.ForwardId.Length == 0 && announced.Token.Length == 0)
                {
                    ready.TrySetResult();
                    continue;
                }

                var connection = AcceptAsync(announced);
                _connections[connection] = true;
                _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            ready.TrySetException(new CocoonException(CocoonErrorCode.Unavailable, "the guest agent ended the socket forward watch"));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            ready.TrySetCanceled();
        }
        catch (CocoonException e)
        {
            SupervisorLog.SocketForwardWatchEnded(_logger, e.Message);
            ready.TrySetException(e);
        }
    }

    // :: Steps 4 and 5
    private async Task AcceptAsync(AnnouncedConnection announced)
    {
        if (!StreamHeader.IsToken(announced.Token))
        {
            SupervisorLog.SocketForwardRefused(_logger, StreamStatus.Printable(announced.ForwardId), "the token is malformed");
            return;
        }

        if (!_entries.TryGetValue(announced.ForwardId, out var entry) || entry.Direction != SocketForwardDirection.In)
        {
            SupervisorLog.SocketForwardRefused(_logger, StreamStatus.Printable(announced.ForwardId), "no forward of that id is recorded for this box");
            await RefuseAsync(announced.Token).ConfigureAwait(false);
            return;
        }

        var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await host.ConnectAsync(new UnixDomainSocketEndPoint(entry.HostPath), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            host.Dispose();
            SupervisorLog.SocketForwardRefused(_logger, entry.Id, $"the host socket '{entry.HostPath}' cannot be reached ({e.Message})");
            await RefuseAsync(announced.Token).ConfigureAwait(false);
            return;
        }

        Socket stream;
        try
        {
            stream = await _dialer.OpenAsync(new AcceptRequest(announced.Token), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CocoonException or OperationCanceledException)
        {
            host.Dispose();
            SupervisorLog.SocketForwardConnectFailed(_logger, entry.HostPath, e.Message);
            return;
        }

        await StreamRelay.RunAsync(host, stream, _stop.Token).ConfigureAwait(false);
    }

    private async Task RefuseAsync(string token)
    {
        try
        {
            using var refused = await _dialer.OpenAsync(new AcceptRequest(token, Refuse: true), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CocoonException or OperationCanceledException)
        {
            // Taken, expired or the box is going away: the guest client is closed either way.
        }
    }
}

/// <summary>Socket forwards' log messages of the supervisor (event ids 1360-1369).</summary>
internal static partial class SupervisorLog
{
    [LoggerMessage(EventId = 1360, Level = LogLevel.Warning, Message = "Socket forward {ForwardId}: a connection from the box was refused: {Reason}")]
    public static partial void SocketForwardRefused(ILogger logger, string forwardId, string reason);

    [LoggerMessage(EventId = 1361, Level = LogLevel.Warning, Message = "Socket forward {HostPath}: {Message}")]
    public static partial void SocketForwardConnectFailed(ILogger logger, string hostPath, string message);

    [LoggerMessage(EventId = 1362, Level = LogLevel.Warning, Message = "The socket forward watch of the guest agent ended: {Message}")]
    public static partial void SocketForwardWatchEnded(ILogger logger, string message);
}
