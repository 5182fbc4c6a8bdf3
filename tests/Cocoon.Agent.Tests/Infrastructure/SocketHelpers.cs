// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Vsock.Streams;

namespace Cocoon.Agent.Tests.Infrastructure;

/// <summary>Byte helpers for tests that talk to the agent's sockets.</summary>
internal static class SocketHelpers
{
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    public static async Task<Socket> ConnectUnixAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(StepTimeout);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens a data stream to the agent under test (its streams socket is the control socket's path + "_1025").</summary>
    public static async Task<Socket> OpenStreamAsync(AgentProcessFixture fixture, StreamRequest request)
    {
        var socket = await ConnectUnixAsync(fixture.SocketPath + "_1025");
        try
        {
            await StreamClient.OpenAsync(socket, request).WaitAsync(StepTimeout);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static Task SendAllAsync(Socket socket, byte[] data) => Cocoon.Tests.Common.SocketBytes.SendAllAsync(socket, data);

    public static Task<byte[]> ReadToEndAsync(Socket socket) => Cocoon.Tests.Common.SocketBytes.ReadToEndAsync(socket);

    /// <summary>True once the peer closed: end-of-stream, or a reset because our unread bytes were discarded.</summary>
    public static async Task<bool> ClosedAsync(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[1]) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

}
