// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;

namespace Cocoon.Vsock.Streams.Tests;

public sealed class DatagramFramingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Frames_EmptySmallAndLargest_RoundTrip()
    {
        var (a, b) = StreamHeaderTests.SocketPair();
        using (a)
        using (b)
        {
            var datagrams = new[] { Array.Empty<byte>(), "ping"u8.ToArray(), new byte[DatagramFraming.MaxDatagramLength] };
            datagrams[2][^1] = 7;
            var frame = new byte[DatagramFraming.MaxFrameLength];
            var sender = Task.Run(async () =>
            {
                foreach (var datagram in datagrams)
                {
                    var length = DatagramFraming.WriteFrame(datagram, frame);
                    await a.SendAsync(frame.AsMemory(0, length));
                }

                a.Shutdown(SocketShutdown.Send);
            });
            var buffer = new byte[DatagramFraming.MaxDatagramLength];

            foreach (var expected in datagrams)
            {
                var length = await DatagramFraming.ReceiveFrameAsync(b, buffer, CancellationToken.None).AsTask().WaitAsync(Timeout);
                Assert.Equal(expected, buffer.AsSpan(0, length).ToArray());
            }

            Assert.Equal(-1, await DatagramFraming.ReceiveFrameAsync(b, buffer, CancellationToken.None).AsTask().WaitAsync(Timeout));
            await sender.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task ReceiveFrameAsync_StreamEndsInsideFrame_Throws()
    {
        var (a, b) = StreamHeaderTests.SocketPair();
        using (a)
        using (b)
        {
            await a.SendAsync(new byte[] { 0, 10, 1, 2, 3 });
            a.Shutdown(SocketShutdown.Send);

            await Assert.ThrowsAsync<IOException>(() => DatagramFraming.ReceiveFrameAsync(b, new byte[100], CancellationToken.None).AsTask().WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task DatagramRelay_EchoServer_AnswersEachDatagram()
    {
        using var echo = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var echoLoop = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            while (true)
            {
                var got = await echo.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0));
                await echo.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
            }
        });
        var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Connect(echo.LocalEndPoint!);
        var (host, agent) = StreamHeaderTests.SocketPair();
        using (host)
        {
            var relay = DatagramRelay.RunAsync(agent, udp);
            var frame = new byte[DatagramFraming.MaxFrameLength];
            var buffer = new byte[DatagramFraming.MaxDatagramLength];

            foreach (var text in new[] { "one", "two", "three" })
            {
                var length = DatagramFraming.WriteFrame(System.Text.Encoding.ASCII.GetBytes(text), frame);
                await host.SendAsync(frame.AsMemory(0, length));
                var got = await DatagramFraming.ReceiveFrameAsync(host, buffer, CancellationToken.None).AsTask().WaitAsync(Timeout);
                Assert.Equal(text, System.Text.Encoding.ASCII.GetString(buffer, 0, got));
            }

            host.Shutdown(SocketShutdown.Send);
            await relay.WaitAsync(Timeout);
            Assert.Throws<ObjectDisposedException>(() => udp.Available);
        }
    }
}
