// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Forwarding;
using Cocoon.Protocol;
using Cocoon.Vsock.Streams;

namespace Cocoon;

/// <summary>
/// A running socket forward out of a box (<see cref="Box.ForwardSocketAsync"/>, <c>cocoon socket-forward</c>,
/// <c>pod.socketForward.add</c> with direction <c>out</c>): a UNIX socket on the host whose every
/// connection opens a <c>connect</c> data stream to a socket path in the box (docs/architecture.md §6b).
/// <code>
///  1. validate   both paths (absolute, sun_path, no NUL) before anything is opened
///  2. check      the host path: absent, or a socket nobody serves (replaced); a live socket or any
///                other file is refused, naming it
///  3. bind       in a fresh 0700 directory beside the path, chmod 0600, then rename into place, so
///                the socket is owner-only from the moment it has its name
///  4. serve      each connection: connect stream (vsock port 1025, header, status), StreamRelay
///  5. dispose    close the listener and every connection, remove the socket
/// </code>
/// </summary>
public sealed class SocketForward : IAsyncDisposable
{
    private readonly ConnectionForwarder _forwarder;
    private readonly Socket _listener;
    private int _disposed;

    private SocketForward(ConnectionForwarder forwarder, Socket listener, string hostPath, ConnectRequest request)
    {
        _forwarder = forwarder;
        _listener = listener;
        HostPath = hostPath;
        BoxPath = request.Path;
        Container = request.Container;
    }

    /// <summary>The socket on the host.</summary>
    public string HostPath { get; }

    /// <summary>The socket path in the box (or container) each connection reaches.</summary>
    public string BoxPath { get; }

    /// <summary>The container whose socket is forwarded; null for the box's own.</summary>
    public string? Container { get; }

    /// <summary>Checks both paths and binds the host socket; then serves until disposed.</summary>
    /// <exception cref="CocoonException">InvalidArgument naming a bad path; AlreadyExists when the host path is a live socket or another file.</exception>
    internal static SocketForward Start(Func<StreamRequest, CancellationToken, Task<Socket>> open, string hostPath, string boxPath, string? container, Action<CocoonException>? connectionFailed)
    {
        // :: Step 1
        UnixSocketPath.EnsureValid(hostPath, "host socket path");
        var request = new ConnectRequest(boxPath, container);
        StreamHeader.Validate(request);

        // :: Steps 2 and 3
        var listener = BindOwnerOnly(hostPath);

        // :: Step 4
        var forwarder = new ConnectionForwarder(cancellationToken => open(request, cancellationToken), connectionFailed);
        forwarder.Serve(listener);
        return new SocketForward(forwarder, listener, hostPath, request);
    }

    // :: Step 5
    /// <summary>Stops listening, closes every forwarded connection and removes the host socket.</summary>
    /// <returns>A task that completes when all of them are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _forwarder.DisposeAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            File.Delete(HostPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed or replaced by someone else meanwhile.
        }
    }

    /// <summary>Binds a listening UNIX socket at <paramref name="path"/>, mode 0600 from the moment it has that name.</summary>
    internal static Socket BindOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, "Cocoon runs on Linux only");
        }

        EnsureFree(path);
        var directory = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"host socket path '{path}': the directory '{directory}' does not exist; create it first");
        }

        // A short name beside the target (same file system, so rename works, and it fits sun_path
        // whenever the target does).
        var staging = Path.Combine(directory, ".cocoon-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)));
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var staged = Path.Combine(staging, "s");
            socket.Bind(new UnixDomainSocketEndPoint(staged));
            File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(512);
            File.Move(staged, path, overwrite: true);
            return socket;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"cannot listen on host socket path '{path}': {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        finally
        {
            try
            {
                Directory.Delete(staging, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>
    /// Whether something other than a socket is at <paramref name="path"/> (a file, a directory, a link,
    /// dangling or not), which a listener would destroy by replacing it.
    /// </summary>
    internal static bool HoldsOtherThanSocket(string path)
    {
        var info = new FileInfo(path);
        return (info.Exists || info.LinkTarget is not null || Directory.Exists(path)) && !Interop.IsSocketFile(path);
    }

    /// <summary>Refuses a live socket or any other file at <paramref name="path"/>; a stale socket is left to be replaced.</summary>
    private static void EnsureFree(string path)
    {
        if (HoldsOtherThanSocket(path))
        {
            throw new CocoonException(CocoonErrorCode.AlreadyExists, $"host socket path '{path}' exists and is not a socket; remove it or choose another path");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            return; // Nothing there, or a stale socket nobody serves: replaced by the rename.
        }

        throw new CocoonException(CocoonErrorCode.AlreadyExists, $"host socket path '{path}' is a socket in use by another process; stop it or choose another path");
    }
}
