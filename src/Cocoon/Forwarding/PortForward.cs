// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Cocoon.Forwarding;
using Cocoon.Vsock.Streams;

namespace Cocoon;

/// <summary>
/// A running port forward (<see cref="Box.ForwardPortAsync"/>, <c>cocoon port-forward</c>, <c>-p</c>):
/// host listeners whose every connection is a new dial into the box (docs/architecture.md §2.3).
/// <code>
///  TCP: accept ─▶ dial (vsock port 1025, header, status) ─▶ StreamRelay until both ends close
///       a failed dial closes that one local connection and is reported; the listener keeps serving
///  UDP: one socket per listen address; each new peer (source address) gets its own dial, datagrams
///       go framed over it and answers come back to that peer
/// </code>
/// Dispose closes the listeners and every forwarded connection.
/// </summary>
public sealed class PortForward : IAsyncDisposable
{
    private const int MaxUdpPeers = 1024;

    private readonly Func<DialRequest, CancellationToken, Task<Socket>> _dial;
    private readonly DialRequest _request;
    private readonly ConnectionForwarder _forwarder;

    private PortForward(Func<DialRequest, CancellationToken, Task<Socket>> dial, DialRequest request, Action<CocoonException>? connectionFailed, List<Socket> listeners)
    {
        _dial = dial;
        _request = request;
        _forwarder = new ConnectionForwarder(cancellationToken => dial(request, cancellationToken), connectionFailed);
        LocalEndPoints = [.. listeners.Select(l => (IPEndPoint)l.LocalEndPoint!)];
        LocalPort = LocalEndPoints[0].Port;
    }

    /// <summary>The bound local addresses, all with <see cref="LocalPort"/>.</summary>
    public IReadOnlyList<IPEndPoint> LocalEndPoints { get; }

    /// <summary>The local port (the one the system picked when 0 was asked).</summary>
    public int LocalPort { get; }

    /// <summary>The port in the box.</summary>
    public int RemotePort => _request.Port;

    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    public string Network => _request.Network.Name();

    /// <summary>Binds the listeners and starts serving.</summary>
    /// <exception cref="CocoonException">InvalidArgument for a bad port, network or address; AlreadyExists naming the local port in use.</exception>
    internal static PortForward Start(Func<DialRequest, CancellationToken, Task<Socket>> dial, PortForwardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var network = StreamDialer.ParseNetwork(options.Network);
        var request = new DialRequest(network, options.RemotePort, options.Address, options.Container);
        StreamHeader.Validate(request);
        if (options.LocalPort is < 0 or > 65535)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"local port {options.LocalPort} is outside 1-65535 (0 picks a free one)");
        }

        if (options.ListenAddresses.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "no listen address given; use 127.0.0.1 or another local address");
        }

        var listeners = Bind(options, network);
        var forward = new PortForward(dial, request, options.ConnectionFailed, listeners);
        foreach (var listener in listeners)
        {
            if (network == DialNetwork.Udp)
            {
                forward._forwarder.Own(listener);
                forward._forwarder.Track(forward.ServeUdpAsync(listener));
            }
            else
            {
                forward._forwarder.Serve(listener);
            }
        }

        return forward;
    }

    /// <summary>Stops listening and closes every forwarded connection.</summary>
    /// <returns>A task that completes when all of them are closed.</returns>
    public ValueTask DisposeAsync() => _forwarder.DisposeAsync();

    private static List<Socket> Bind(PortForwardOptions options, DialNetwork network)
    {
        var listeners = new List<Socket>();
        var port = options.LocalPort;
        try
        {
            foreach (var address in options.ListenAddresses)
            {
                var socket = network == DialNetwork.Udp
                    ? new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
                    : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    if (address.AddressFamily == AddressFamily.InterNetworkV6)
                    {
                        socket.DualMode = false;
                    }

                    socket.Bind(new IPEndPoint(address, port));
                    if (network == DialNetwork.Tcp)
                    {
                        socket.Listen(512);
                    }

                    port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                    listeners.Add(socket);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported
                    && address.Equals(IPAddress.IPv6Loopback) && options.ListenAddresses.Count > 1)
                {
                    // A host without IPv6: the default ::1 listener is optional, as in kubectl.
                    socket.Dispose();
                }
                catch (SocketException ex)
                {
                    socket.Dispose();
                    var where = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
                    throw ex.SocketErrorCode switch
                    {
                        SocketError.AddressAlreadyInUse => new CocoonException(CocoonErrorCode.AlreadyExists, $"local port {port} is already in use on {address} ({network.Name()}); pick another local port, or ':{options.RemotePort}' for a free one", ex),
                        SocketError.AddressNotAvailable => new CocoonException(CocoonErrorCode.InvalidArgument, $"cannot listen on {where} ({network.Name()}): {address} is not an address of this host; name one of its own addresses, or leave the address out for localhost", ex),
                        _ => new CocoonException(CocoonErrorCode.InvalidArgument, $"cannot listen on {where} ({network.Name()}): {ex.Message}", ex),
                    };
                }
            }

            return listeners;
        }
        catch
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            throw;
        }
    }

    private async Task ServeUdpAsync(Socket local)
    {
        var peers = new ConcurrentDictionary<EndPoint, Socket>();
        var frame = new byte[DatagramFraming.MaxFrameLength];
        var any = new IPEndPoint(local.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (true)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await local.ReceiveFromAsync(frame.AsMemory(DatagramFraming.PrefixLength, DatagramFraming.MaxDatagramLength), SocketFlags.None, any, _forwarder.Stopping).ConfigureAwait(false);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    continue;
                }

                var peer = received.RemoteEndPoint;
                if (!peers.TryGetValue(peer, out var stream))
                {
                    if (peers.Count >= MaxUdpPeers)
                    {
                        continue;
                    }

                    try
                    {
                        stream = await _dial(_request, _forwarder.Stopping).ConfigureAwait(false);
                    }
                    catch (CocoonException ex)
                    {
                        _forwarder.ReportFailure(ex);
                        continue;
                    }

                    peers[peer] = stream;
                    _forwarder.Track(UdpAnswersAsync(local, peer, stream, peers));
                }

                try
                {
                    await DatagramFraming.SendFrameAsync(stream, frame, received.ReceivedBytes, _forwarder.Stopping).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    if (peers.TryRemove(peer, out var dead))
                    {
                        dead.Dispose();
                    }
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            foreach (var stream in peers.Values)
            {
                stream.Dispose();
            }
        }
    }

    private async Task UdpAnswersAsync(Socket local, EndPoint peer, Socket stream, ConcurrentDictionary<EndPoint, Socket> peers)
    {
        var buffer = new byte[DatagramFraming.MaxDatagramLength];
        try
        {
            while (true)
            {
                var length = await DatagramFraming.ReceiveFrameAsync(stream, buffer, _forwarder.Stopping).ConfigureAwait(false);
                if (length < 0)
                {
                    break;
                }

                await local.SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, peer, _forwarder.Stopping).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            if (peers.TryRemove(new KeyValuePair<EndPoint, Socket>(peer, stream)))
            {
                stream.Dispose();
            }
        }
    }
}
