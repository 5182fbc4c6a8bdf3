// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Tests.Common;

/// <summary>Byte helpers for tests that talk to sockets: send everything, read to end of stream.</summary>
public static class SocketBytes
{
    public static async Task SendAllAsync(Socket socket, byte[] data)
    {
        for (var sent = 0; sent < data.Length;)
        {
            sent += await socket.SendAsync(data.AsMemory(sent));
        }
    }

    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var output = new MemoryStream();
        var buffer = new byte[65536];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}
