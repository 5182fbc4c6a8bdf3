// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Cocoon.Tests.Common;

/// <summary>A raw client for a line-oriented UNIX socket (control.sock): sends bytes, reads answer lines, sees the close.</summary>
public sealed class LineSocketClient : IDisposable
{
    /// <summary>Every await here gives up after this long.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private LineSocketClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects to <paramref name="path"/>.</summary>
    public static async Task<LineSocketClient> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
            return new LineSocketClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="text"/> as UTF-8, as is (add the newline yourself).</summary>
    public async Task SendAsync(string text) => await _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(Timeout);

    /// <summary>Sends raw bytes.</summary>
    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    /// <summary>Sends one line and parses the answer line.</summary>
    public async Task<JsonElement> CallAsync(string line)
    {
        await SendAsync(line + "\n");
        return await ReadAnswerAsync() ?? throw new InvalidOperationException($"the server closed the connection instead of answering {line}");
    }

    /// <summary>The next answer line, parsed; null when the server closed the connection.</summary>
    public async Task<JsonElement?> ReadAnswerAsync()
    {
        var line = await _reader.ReadLineAsync().WaitAsync(Timeout);
        return line is null ? null : JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>Half-closes the sending side (the server sees end of input).</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <inheritdoc/>
    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}
