// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Cocoon.Tests.Common;
using Cocoon.Vsock.Streams;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>UDP through a real box: a socat echo in the guest reached by Box.DialAsync and by <c>cocoon port-forward :PORT/udp</c>.</summary>
public sealed class UdpForwardTests(NetworkBoxFixture fixture) : IClassFixture<NetworkBoxFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DialAsync_UdpEcho_EachDatagramReturnedWhole()
    {
        await using var stream = await fixture.Box.DialAsync("udp", NetworkBoxFixture.UdpEchoPort).WaitAsync(Timeout);
        var buffer = new byte[DatagramFraming.MaxFrameLength];

        foreach (var size in new[] { 1, 512, 1400, 8000 })
        {
            var datagram = new byte[size];
            Random.Shared.NextBytes(datagram);
            datagram.CopyTo(buffer, DatagramFraming.PrefixLength);
            await DatagramFraming.SendFrameAsync(stream.Socket, buffer, size, CancellationToken.None).AsTask().WaitAsync(Timeout);

            var received = new byte[DatagramFraming.MaxDatagramLength];
            var length = await DatagramFraming.ReceiveFrameAsync(stream.Socket, received, CancellationToken.None).AsTask().WaitAsync(Timeout);

            Assert.Equal(datagram, received[..length]);
        }
    }

    [Fact]
    public async Task PortForwardCli_Udp_DatagramsEchoedThroughFreeLocalPort()
    {
        using var cli = ProcessRunner.Start(
            Boxes.BoxTestEnvironment.Cli,
            ["port-forward", "net", $":{NetworkBoxFixture.UdpEchoPort}/udp"],
            fixture.Environment.CliEnvironment());
        try
        {
            var line = await cli.StandardOutput.ReadLineAsync().WaitAsync(Timeout) ?? throw new InvalidOperationException("port-forward ended: " + await cli.StandardError.ReadToEndAsync());
            var match = Regex.Match(line, $@"^Forwarding from 127\.0\.0\.1:(\d+) -> {NetworkBoxFixture.UdpEchoPort}/udp$");
            Assert.True(match.Success, line);
            using var client = new UdpClient(AddressFamily.InterNetwork);
            client.Connect(IPAddress.Loopback, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

            for (var i = 0; i < 3; i++)
            {
                var datagram = Encoding.ASCII.GetBytes($"datagram {i} " + new string('x', i * 700));
                await client.SendAsync(datagram).AsTask().WaitAsync(Timeout);
                var echo = await client.ReceiveAsync().WaitAsync(Timeout);

                Assert.Equal(datagram, echo.Buffer);
            }
        }
        finally
        {
            // Ctrl-C.
            await Infrastructure.CliInterrupt.InterruptAndWaitAsync(cli, Timeout);
        }

        Assert.Equal(0, cli.ExitCode);
    }
}
