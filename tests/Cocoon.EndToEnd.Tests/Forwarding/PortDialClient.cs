// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// A <c>pod.portDial</c> client as docs/control-api.md tells one to be written: a plain UNIX socket,
/// the answer line read byte by byte so nothing of the dialed stream behind it is read ahead.
/// </summary>
internal static class PortDialClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Sends one <c>pod.portDial</c> with <paramref name="parameters"/> (and <paramref name="early"/> right behind the line); returns the socket and the answer.</summary>
    public static async Task<(Socket Socket, JsonElement Answer)> DialAsync(string controlSocket, string parameters, byte[]? early = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(controlSocket)).WaitAsync(Timeout);
            var request = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":7,"method":"pod.portDial","params":{{parameters}}}""" + "\n");
            await socket.SendAsync((early is null ? request : [.. request, .. early]).AsMemory()).AsTask().WaitAsync(Timeout);
            return (socket, await ReadLineAsync(socket) ?? throw new InvalidOperationException("control.sock closed without answering"));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The next JSON line, one byte at a time; null at end of stream.</summary>
    public static async Task<JsonElement?> ReadLineAsync(Socket socket)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await socket.ReceiveAsync(one).WaitAsync(Timeout) == 0)
            {
                return null;
            }

            if (one[0] == (byte)'\n')
            {
                return JsonDocument.Parse(line.ToArray()).RootElement.Clone();
            }

            line.Add(one[0]);
        }
    }

    /// <summary>Everything until the peer ends its side.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[65536];
        for (var read = await socket.ReceiveAsync(buffer).WaitAsync(Timeout); read > 0; read = await socket.ReceiveAsync(buffer).WaitAsync(Timeout))
        {
            all.Write(buffer, 0, read);
        }

        return all.ToArray();
    }
}
