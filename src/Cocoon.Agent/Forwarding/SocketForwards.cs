// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Threading.Channels;
using Cocoon.Protocol;
using Cocoon.Vsock.Streams;

namespace Cocoon.Agent.Forwarding;

/// <summary>One connection a guest client made to a forwarded socket, announced to the host.</summary>
/// <param name="ForwardId">The forward the client connected to.</param>
/// <param name="Token">The one-time token the host's accept stream must carry.</param>
internal sealed record AcceptedForwardConnection(string ForwardId, string Token);

/// <summary>
/// The agent's side of socket forwards into the box (a host service seen inside; docs/architecture.md §6b).
/// <code>
///  1. Bind(forward_id)   listen on DIR/&lt;forward_id&gt;.sock (0666), plus a symlink at the destination
///                        for a box-level forward; the host named the id, the agent names the path
///  2. a client connects  accept; a token from getrandom(2) (16 bytes, hex) pairs it with its forward
///  3. announce           (forward_id, token) to every WatchAccepts call; with none watching the
///                        client is closed at once, so it never waits for a host that is not there
///  4. accept stream      the host's accept header carries the token: TakePending hands the client
///                        to the stream server, which splices it (or closes it when refused)
///  5. expiry             a token not taken within PendingTimeout closes its client
///  6. Unbind             closes the listener and the forward's pending clients, removes socket and link
/// </code>
/// Nothing here opens anything on the host; the host resolves forward ids against its own record.
/// </summary>
internal sealed class SocketForwards : IDisposable
{
    /// <summary>Where a box's listeners live (docs/architecture.md §3 rule 2).</summary>
    public const string DefaultDirectory = "/run/socketfwd";

    private const int Backlog = 128;

    private readonly string _directory;
    private readonly TimeSpan _pendingTimeout;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Listener> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly List<Channel<AcceptedForwardConnection>> _watchers = [];

    public SocketForwards(string directory, TimeSpan pendingTimeout, ILogger logger)
    {
        _directory = directory;
        _pendingTimeout = pendingTimeout;
        _logger = logger;
    }

    /// <summary>The listener path of <paramref name="forwardId"/>.</summary>
    public string ListenerPath(string forwardId) => Path.Combine(_directory, forwardId + ".sock");

    /// <summary>The bound forward ids.</summary>
    public IReadOnlyList<string> Bound
    {
        get
        {
            lock (_lock)
            {
                return [.. _listeners.Keys];
            }
        }
    }

    /// <summary>The listener path of <paramref name="forwardId"/> when it is bound; null when not.</summary>
    public string? BoundListener(string forwardId)
    {
        lock (_lock)
        {
            return _listeners.TryGetValue(forwardId, out var listener) ? listener.Path : null;
        }
    }

    /// <summary>The number of accepted connections waiting for their accept stream.</summary>
    public int PendingCount => _pending.Count;

    // :: Step 1
    /// <summary>Binds the listener of <paramref name="forwardId"/>, and a symlink to it at <paramref name="linkPath"/> when given.</summary>
    /// <returns>The listener's path.</returns>
    /// <exception cref="CocoonException">InvalidArgument for a bad id or link path; AlreadyExists when bound or the link path exists.</exception>
    public string Bind(string forwardId, string? linkPath)
    {
        if (!ForwardId.IsValid(forwardId))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"forward id '{StreamStatus.Printable(forwardId ?? string.Empty)}' is not {ForwardId.Length} lowercase hex digits");
        }

        if (linkPath is not null)
        {
            UnixSocketPath.EnsureValid(linkPath, "socket forward destination");
        }

        var path = ListenerPath(forwardId);
        if (!UnixSocketPath.Fits(path))
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"socket forward listener '{path}' does not fit a UNIX socket path; the agent's forward directory '{_directory}' is too long");
        }

        lock (_lock)
        {
            if (_listeners.ContainsKey(forwardId))
            {
                throw new CocoonException(CocoonErrorCode.AlreadyExists, $"socket forward {forwardId} is already bound at {path}");
            }

            if (linkPath is not null && (File.Exists(linkPath) || Directory.Exists(linkPath) || new FileInfo(linkPath).LinkTarget is not null))
            {
                throw new CocoonException(CocoonErrorCode.AlreadyExists, $"socket forward destination '{linkPath}' already exists in the box; remove it or choose another path");
            }

            Directory.CreateDirectory(_directory);
            File.Delete(path);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Bind(new UnixDomainSocketEndPoint(path));

                // Any user in the box may connect, as to the host socket's stand-in; the box is the boundary.
                File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
                socket.Listen(Backlog);
                if (linkPath is not null)
                {
                    if (Path.GetDirectoryName(linkPath) is { Length: > 0 } parent)
                    {
                        Directory.CreateDirectory(parent);
                    }

                    File.CreateSymbolicLink(linkPath, path);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
            {
                socket.Dispose();
                File.Delete(path);
                throw new CocoonException(CocoonErrorCode.Internal, $"cannot bind socket forward {forwardId} at {path}{(linkPath is null ? string.Empty : $" linked from {linkPath}")}: {e.Message}", e);
            }
            catch
            {
                socket.Dispose();
                File.Delete(path);
                throw;
            }

            var listener = new Listener(forwardId, path, linkPath, socket);
            _listeners.Add(forwardId, listener);
            listener.Accepting = AcceptLoopAsync(listener);
        }

        ForwardingLog.Bound(_logger, forwardId, linkPath ?? path);
        return path;
    }

    // :: Step 6
    /// <summary>Closes <paramref name="forwardId"/>'s listener and pending clients and removes its socket and link.</summary>
    /// <returns>False when it was not bound.</returns>
    public bool Unbind(string forwardId)
    {
        Listener? listener;
        lock (_lock)
        {
            if (!_listeners.Remove(forwardId, out listener))
            {
                return false;
            }
        }

        Close(listener);
        foreach (var (token, pending) in _pending)
        {
            if (pending.ForwardId == forwardId && _pending.TryRemove(token, out var removed))
            {
                removed.Dispose();
            }
        }

        ForwardingLog.Unbound(_logger, forwardId);
        return true;
    }

    // :: Step 3
    /// <summary>Subscribes to announcements at once; dispose the watcher to unsubscribe.</summary>
    public Watcher Watch()
    {
        var watcher = new Watcher(this);
        lock (_lock)
        {
            _watchers.Add(watcher.Channel);
        }

        return watcher;
    }

    // :: Step 4
    /// <summary>Takes the client announced with <paramref name="token"/>; null when no such token is pending (unknown, taken or expired).</summary>
    public Socket? TakePending(string token)
    {
        if (!_pending.TryRemove(token, out var pending))
        {
            return null;
        }

        pending.Expiry.Dispose();
        return pending.Client;
    }

    /// <summary>Unbinds every forward and removes the directory when it is left empty.</summary>
    public void Dispose()
    {
        foreach (var id in Bound)
        {
            Unbind(id);
        }

        try
        {
            Directory.Delete(_directory);
        }
        catch (IOException)
        {
            // Absent, or not empty: leave it.
        }

        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }
    }

    // :: Steps 2, 3 and 5
    private async Task AcceptLoopAsync(Listener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var token = NewToken();
            var pending = new Pending(listener.ForwardId, client, new Timer(Expire, token, _pendingTimeout, Timeout.InfiniteTimeSpan));
            _pending[token] = pending;
            var delivered = false;
            lock (_lock)
            {
                foreach (var watcher in _watchers)
                {
                    delivered |= watcher.Writer.TryWrite(new AcceptedForwardConnection(listener.ForwardId, token));
                }
            }

            if (!delivered)
            {
                ForwardingLog.NobodyWatching(_logger, listener.ForwardId);
                if (_pending.TryRemove(token, out var dropped))
                {
                    dropped.Dispose();
                }
            }
        }
    }

    private void Expire(object? state)
    {
        if (state is string token && _pending.TryRemove(token, out var pending))
        {
            ForwardingLog.TokenExpired(_logger, pending.ForwardId);
            pending.Dispose();
        }
    }

    private static void Close(Listener listener)
    {
        listener.Socket.Dispose();
        TryDelete(listener.Path);
        if (listener.LinkPath is { } link && new FileInfo(link).LinkTarget == listener.Path)
        {
            TryDelete(link);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A token of 16 bytes from getrandom(2), as 32 lowercase hex digits (<see cref="StreamHeader.TokenLength"/>).</summary>
    internal static string NewToken()
    {
        Span<byte> bytes = stackalloc byte[StreamHeader.TokenLength / 2];
        Interop.GetRandom(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>One subscriber to announcements (a WatchAccepts call).</summary>
    internal sealed class Watcher(SocketForwards owner) : IDisposable
    {
        public Channel<AcceptedForwardConnection> Channel { get; } =
            System.Threading.Channels.Channel.CreateBounded<AcceptedForwardConnection>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

        public IAsyncEnumerable<AcceptedForwardConnection> ReadAllAsync(CancellationToken cancellationToken) => Channel.Reader.ReadAllAsync(cancellationToken);

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._watchers.Remove(Channel);
            }
        }
    }

    private sealed record Listener(string ForwardId, string Path, string? LinkPath, Socket Socket)
    {
        public Task? Accepting { get; set; }
    }

    private sealed record Pending(string ForwardId, Socket Client, Timer Expiry) : IDisposable
    {
        public void Dispose()
        {
            Expiry.Dispose();
            Client.Dispose();
        }
    }
}
