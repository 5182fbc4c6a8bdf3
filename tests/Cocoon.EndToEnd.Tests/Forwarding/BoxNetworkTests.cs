// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// The box network (docs/architecture.md §2.10): a box on user-mode networking reaches a server this
/// test runs on the host, at QEMU's gateway address; a box with <c>--network none</c> has no
/// interface and no route.
/// </summary>
public sealed class BoxNetworkTests(NetworkBoxFixture fixture) : IClassFixture<NetworkBoxFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // No wget -T: Debian's busybox-static 1.35 wget dies of SIGSEGV with it (on the host too).
    [Fact]
    public async Task UserNetwork_GuestFetchesFromHostServerThroughGateway()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var token = "from-the-host-" + Guid.NewGuid().ToString("N");
        var serving = ServeOneAsync(listener, token);

        var fetch = await fixture.Box.RunAsync(["sh", "-c", $"wget -O - http://10.0.2.2:{port}/"]).WaitAsync(Timeout);
        var facts = await fixture.Box.RunAsync(["sh", "-c", "ip route; cat /etc/resolv.conf"]).WaitAsync(Timeout);

        Assert.True(fetch.ExitCode == 0, fetch.Stderr);
        Assert.Equal(token, fetch.Stdout);
        Assert.StartsWith("GET / HTTP/1.1", await serving.WaitAsync(Timeout), StringComparison.Ordinal);
        Assert.Contains("default via 10.0.2.2 dev eth0", facts.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^10\.0\.2\.0/24 dev eth0 .*src 10\.0\.2\.15", facts.Stdout);
        Assert.EndsWith("nameserver 10.0.2.3\n", facts.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NetworkNone_OnlyLoopbackAndNoRoute()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var interfaces = await fixture.Isolated.RunAsync(["ls", "/sys/class/net"]).WaitAsync(Timeout);
        var routes = await fixture.Isolated.RunAsync(["ip", "route"]).WaitAsync(Timeout);
        var fetch = await fixture.Isolated.RunAsync(["sh", "-c", $"wget -O - http://10.0.2.2:{port}/"]).WaitAsync(Timeout);

        Assert.Equal("lo\n", interfaces.Stdout);
        Assert.Equal("", routes.Stdout);
        Assert.NotEqual(0, fetch.ExitCode);
        Assert.Contains("unreachable", fetch.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.False(listener.Pending());
    }

    /// <summary>Accepts one connection, reads its request head, answers <paramref name="body"/>; returns the head.</summary>
    private static async Task<string> ServeOneAsync(TcpListener listener, string body)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
        return head.ToString();
    }
}
