// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cocoon.Agent.Tests.Infrastructure;
using Cocoon.Vsock.Streams;
using static Cocoon.Agent.Tests.Infrastructure.SocketHelpers;

namespace Cocoon.Agent.Network.Tests;

/// <summary>The agent's data-stream server (port 1025) as a real process on a UNIX socket, dialing servers on this host's loopback.</summary>
public sealed class StreamServerTests(AgentProcessFixture fixture) : IClassFixture<AgentProcessFixture>
{
    [Fact]
    public async Task Dial_Tcp_HalfCloseBothWaysCarriesBytes()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen();
        var serve = Task.Run(async () =>
        {
            using var peer = await server.AcceptAsync();
            var question = await ReadToEndAsync(peer);
            await SendAllAsync(peer, Encoding.ASCII.GetBytes("answer:" + Encoding.ASCII.GetString(question)));
            peer.Shutdown(SocketShutdown.Send);
        });

        using var stream = await OpenAsync(new DialRequest(DialNetwork.Tcp, Port(server)));
        await SendAllAsync(stream, "question"u8.ToArray());
        stream.Shutdown(SocketShutdown.Send);
        var answer = await ReadToEndAsync(stream).WaitAsync(StepTimeout);
        await serve.WaitAsync(StepTimeout);

        Assert.Equal("answer:question", Encoding.ASCII.GetString(answer));
    }

    [Fact]
    public async Task Dial_TcpIpv6_ServerSendsFirstAndHalfCloses()
    {
        using var server = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        server.Listen();
        var body = RandomNumberGenerator.GetBytes(1024 * 1024);
        var serve = Task.Run(async () =>
        {
            using var peer = await server.AcceptAsync();
            await SendAllAsync(peer, body);
            peer.Shutdown(SocketShutdown.Send);
            return await ReadToEndAsync(peer);
        });

        using var stream = await OpenAsync(new DialRequest(DialNetwork.Tcp, Port(server), "::1"));
        var got = await ReadToEndAsync(stream).WaitAsync(StepTimeout);
        await SendAllAsync(stream, "thanks"u8.ToArray());
        stream.Shutdown(SocketShutdown.Send);

        Assert.Equal(SHA256.HashData(body), SHA256.HashData(got));
        Assert.Equal("thanks", Encoding.ASCII.GetString(await serve.WaitAsync(StepTimeout)));
    }

    [Fact]
    public async Task Dial_ClosedPort_RefusedNamingPort()
    {
        var port = FreePort();

        var ex = await Assert.ThrowsAsync<StreamException>(() => OpenAsync(new DialRequest(DialNetwork.Tcp, port)));

        Assert.Equal(StreamStatusCode.Refused, ex.Status);
        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains($"port {port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dial_UnknownContainer_UnknownContainer()
    {
        var ex = await Assert.ThrowsAsync<StreamException>(() => OpenAsync(new DialRequest(DialNetwork.Tcp, 80, Container: "web")));

        Assert.Equal(StreamStatusCode.UnknownContainer, ex.Status);
        Assert.Contains("'web'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dial_GarbageHeader_BadHeaderStatusLine()
    {
        using var socket = await ConnectUnixAsync(fixture.SocketPath + "_1025");

        await SendAllAsync(socket, "GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        var status = await StreamStatus.ReadAsync(socket, CancellationToken.None).AsTask().WaitAsync(StepTimeout);

        Assert.Equal(StreamStatusCode.BadHeader, status!.Code);
        Assert.True(await ClosedAsync(socket).WaitAsync(StepTimeout));
    }

    [Fact]
    public async Task Dial_BadPortInHeader_BadPortStatusLine()
    {
        using var socket = await ConnectUnixAsync(fixture.SocketPath + "_1025");

        await SendAllAsync(socket, [(byte)'C', (byte)'S', 1, 1, 0, 5, 1, 0, 0, 0, 0]);
        var status = await StreamStatus.ReadAsync(socket, CancellationToken.None).AsTask().WaitAsync(StepTimeout);

        Assert.Equal(StreamStatusCode.BadPort, status!.Code);
    }

    [Fact]
    public async Task Dial_Udp_EchoesDatagrams()
    {
        using var echo = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        var serve = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (!stop.IsCancellationRequested)
            {
                var got = await echo.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                await echo.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
            }
        });

        using var stream = await OpenAsync(new DialRequest(DialNetwork.Udp, Port(echo)));
        var frame = new byte[DatagramFraming.MaxFrameLength];
        var buffer = new byte[DatagramFraming.MaxDatagramLength];
        foreach (var size in new[] { 1, 1400, 8000 })
        {
            var datagram = RandomNumberGenerator.GetBytes(size);
            await SendAllAsync(stream, frame.AsMemory(0, DatagramFraming.WriteFrame(datagram, frame)).ToArray());
            var length = await DatagramFraming.ReceiveFrameAsync(stream, buffer, CancellationToken.None).AsTask().WaitAsync(StepTimeout);
            Assert.Equal(datagram, buffer.AsSpan(0, length).ToArray());
        }

        await stop.CancelAsync();
    }

    [Fact]
    public async Task Dial_ManyConcurrent_EachBodyIntact()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen(64);
        var serve = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < 32; i++)
            {
                var peer = await server.AcceptAsync();
                echoes.Add(Task.Run(async () =>
                {
                    using (peer)
                    {
                        await SendAllAsync(peer, SHA256.HashData(await ReadToEndAsync(peer)));
                        peer.Shutdown(SocketShutdown.Send);
                    }
                }));
            }

            await Task.WhenAll(echoes);
        });

        var clients = Enumerable.Range(0, 32).Select(async i =>
        {
            var body = RandomNumberGenerator.GetBytes(64 * 1024 * (i % 4 + 1));
            using var stream = await OpenAsync(new DialRequest(DialNetwork.Tcp, Port(server)));
            await SendAllAsync(stream, body);
            stream.Shutdown(SocketShutdown.Send);
            Assert.Equal(SHA256.HashData(body), await ReadToEndAsync(stream));
        });
        await Task.WhenAll(clients).WaitAsync(StepTimeout);
        await serve.WaitAsync(StepTimeout);
    }

    private Task<Socket> OpenAsync(DialRequest request) => OpenStreamAsync(fixture, request);

    private static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return Port(probe);
    }
}
