// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;

namespace Cocoon.Vsock.Tests.Infrastructure;

/// <summary>A UNIX socket server that plays the hybrid vsock device: reads the CONNECT line, then answers with a scripted reply.</summary>
public sealed class FakeHybridVsockServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cocoon-hvsock-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Task _serve;

    /// <param name="reply">Bytes sent after the CONNECT line; null closes the connection without answering (refusal).</param>
    public FakeHybridVsockServer(byte[]? reply)
    {
        Path = System.IO.Path.Combine(_directory, "vsock.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen();
        _serve = ServeAsync(reply);
    }

    public string Path { get; }

    public TaskCompletionSource<string> ReceivedLine { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Bytes that had arrived after the CONNECT line by the time it was read (sent in the same write).</summary>
    public int BytesAfterLine { get; private set; }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _serve.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task ServeAsync(byte[]? reply)
    {
        using var connection = await _listener.AcceptAsync();
        var line = new List<byte>();
        var one = new byte[1];
        while (await connection.ReceiveAsync(one) == 1 && one[0] != (byte)'\n')
        {
            line.Add(one[0]);
        }

        BytesAfterLine = connection.Available;
        ReceivedLine.TrySetResult(Encoding.ASCII.GetString([.. line]));
        if (reply is null)
        {
            return;
        }

        await connection.SendAsync(reply);

        // Echo whatever the client sends next, so the test sees the stream after the handshake.
        var buffer = new byte[1024];
        int n;
        while ((n = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, n));
        }
    }
}
