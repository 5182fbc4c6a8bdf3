// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Security.Cryptography;

namespace Cocoon.Vsock.Streams.Tests;

public sealed class StreamRelayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>client ⇄ (a · relay · b) ⇄ server, over UNIX socket pairs.</summary>
    private sealed class Chain : IDisposable
    {
        public Chain(bool tcp = false)
        {
            (Client, RelayA) = tcp ? TcpPair() : StreamHeaderTests.SocketPair();
            (RelayB, Server) = tcp ? TcpPair() : StreamHeaderTests.SocketPair();
            Relay = StreamRelay.RunAsync(RelayA, RelayB);
        }

        public Socket Client { get; }

        public Socket Server { get; }

        public Socket RelayA { get; }

        public Socket RelayB { get; }

        public Task<RelayResult> Relay { get; }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    [Fact]
    public async Task RunAsync_LargeBodiesBothWays_ArriveIntact()
    {
        using var chain = new Chain();
        var up = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var down = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);

        var sendUp = SendAndCloseAsync(chain.Client, up);
        var sendDown = SendAndCloseAsync(chain.Server, down);
        var gotUp = ReadToEndAsync(chain.Server);
        var gotDown = ReadToEndAsync(chain.Client);
        await Task.WhenAll(sendUp, sendDown).WaitAsync(Timeout);
        var result = await chain.Relay.WaitAsync(Timeout);

        Assert.Equal(SHA256.HashData(up), SHA256.HashData(await gotUp.WaitAsync(Timeout)));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(await gotDown.WaitAsync(Timeout)));
        Assert.Equal(new RelayResult(up.Length, down.Length, Aborted: false), result);
    }

    [Fact]
    public async Task RunAsync_ClientHalfCloses_ServerSeesEndAndStillAnswers()
    {
        using var chain = new Chain();

        await chain.Client.SendAsync("question"u8.ToArray());
        chain.Client.Shutdown(SocketShutdown.Send);
        var question = await ReadToEndAsync(chain.Server).WaitAsync(Timeout);
        await SendAndCloseAsync(chain.Server, "answer"u8.ToArray());
        var answer = await ReadToEndAsync(chain.Client).WaitAsync(Timeout);
        var result = await chain.Relay.WaitAsync(Timeout);

        Assert.Equal("question"u8.ToArray(), question);
        Assert.Equal("answer"u8.ToArray(), answer);
        Assert.False(result.Aborted);
    }

    [Fact]
    public async Task RunAsync_ServerHalfCloses_ClientSeesEndAndStillSends()
    {
        using var chain = new Chain();

        await SendAndCloseAsync(chain.Server, "banner"u8.ToArray());
        var banner = await ReadToEndAsync(chain.Client).WaitAsync(Timeout);
        await SendAndCloseAsync(chain.Client, "late"u8.ToArray());
        var late = await ReadToEndAsync(chain.Server).WaitAsync(Timeout);
        var result = await chain.Relay.WaitAsync(Timeout);

        Assert.Equal("banner"u8.ToArray(), banner);
        Assert.Equal("late"u8.ToArray(), late);
        Assert.False(result.Aborted);
    }

    [Fact]
    public async Task RunAsync_OneSideResets_BothRelaySocketsClosed()
    {
        // TCP, because only TCP has resets: a UNIX socket's close reads as a clean end-of-stream.
        using var chain = new Chain(tcp: true);

        // Linger 0 turns close into a reset.
        chain.Server.LingerState = new LingerOption(true, 0);
        await chain.Server.SendAsync("x"u8.ToArray());
        chain.Server.Close();
        var result = await chain.Relay.WaitAsync(Timeout);
        var read = await ReadToEndAsync(chain.Client).WaitAsync(Timeout);

        Assert.True(read.Length <= 1);
        Assert.Throws<ObjectDisposedException>(() => chain.RelayA.Available);
        Assert.Throws<ObjectDisposedException>(() => chain.RelayB.Available);
    }

    [Fact]
    public async Task RunAsync_Cancelled_ClosesBothSidesAndReportsAborted()
    {
        using var chain = new Chain();
        using var cancel = new CancellationTokenSource();
        var (client, relayA) = StreamHeaderTests.SocketPair();
        var (relayB, server) = StreamHeaderTests.SocketPair();
        using (client)
        using (server)
        {
            var relay = StreamRelay.RunAsync(relayA, relayB, cancel.Token);

            await cancel.CancelAsync();
            var result = await relay.WaitAsync(Timeout);

            Assert.True(result.Aborted);
            Assert.Empty(await ReadToEndAsync(client).WaitAsync(Timeout));
            Assert.Empty(await ReadToEndAsync(server).WaitAsync(Timeout));
        }
    }

    private static (Socket A, Socket B) TcpPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        a.Connect(listener.LocalEndPoint!);
        return (a, listener.Accept());
    }

    internal static async Task SendAndCloseAsync(Socket socket, byte[] data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            sent += await socket.SendAsync(data.AsMemory(sent));
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    internal static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var output = new MemoryStream();
        var buffer = new byte[81920];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}
