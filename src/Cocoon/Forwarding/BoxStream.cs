// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon;

/// <summary>
/// A connection dialed into a box (<see cref="Box.DialAsync"/>): its bytes, both ways. For a UDP dial
/// every datagram travels as a 2-byte big-endian length and its bytes
/// (<see cref="Vsock.Streams.DatagramFraming"/>). Dispose closes the connection in the box too.
/// </summary>
public sealed class BoxStream : NetworkStream
{
    internal BoxStream(Socket socket)
        : base(socket, ownsSocket: true)
    {
    }

    /// <summary>
    /// Half-closes: the peer in the box reads end-of-stream, while this side can still read its
    /// answer (shutdown(SHUT_WR) carried through the relay).
    /// </summary>
    public void CompleteWrites() => Socket.Shutdown(SocketShutdown.Send);
}
