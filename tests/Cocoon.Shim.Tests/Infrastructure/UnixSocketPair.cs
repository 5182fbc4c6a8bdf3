// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Shim.Tests.Infrastructure;

/// <summary>Two connected UNIX stream sockets (the listener's path is removed at once).</summary>
internal static class UnixSocketPair
{
    public static (Socket Server, Socket Client) Create()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cocoon-ttrpc-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
        var server = listener.Accept();
        File.Delete(path);
        return (server, client);
    }
}
