// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// <c>-p/--publish</c>: served by the supervisor for the box's lifetime (its own box: the test stops it).
/// The stop also ends a <c>pod.portDial</c> connection and a <c>cocoon port-forward</c> with its connection.
/// </summary>
public sealed class PublishTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Publish_CurlWhileRunning_StopClosesConnectionsAndFreesListeners()
    {
        await using var environment = new BoxTestEnvironment();
        var http = FreePort();
        var echo = FreePort();

        var create = await environment.CocoonAsync("create", "--name", "pub", "-p", $"{http}:80", "--publish", $"127.0.0.1:{echo}:7000");
        Assert.True(create.ExitCode == 0, create.Stderr);
        var start = await environment.CocoonAsync("start", "pub");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var inspect = await environment.InspectAsync("pub");
        var published = inspect.GetProperty("config").GetProperty("publish");
        var serve = await environment.CocoonAsync(
            "exec", "pub", "sh", "-c",
            "mkdir -p /www; echo published > /www/index.html; httpd -p 80 -h /www; nc -ll -p 7000 -e cat </dev/null >/dev/null 2>&1 &");
        Assert.True(serve.ExitCode == 0, serve.Stderr);
        await WaitListeningAsync(environment, 80);
        await WaitListeningAsync(environment, 7000);

        var curl = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", "60", $"http://127.0.0.1:{http}/index.html"], Timeout);
        using var open = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await open.ConnectAsync(new IPEndPoint(IPAddress.Loopback, echo)).WaitAsync(Timeout);
        await open.SendAsync("ping"u8.ToArray());
        var pong = new byte[4];
        var got = await open.ReceiveAsync(pong).WaitAsync(Timeout);
        var (dialed, dialAnswer) = await PortDialClient.DialAsync(Path.Combine(environment.StateRoot, "boxes", "pub", "control.sock"), """{"network":"tcp","port":7000}""");
        using var dialedSocket = dialed;
        await AssertEchoesAsync(dialed);
        using var forwarder = ProcessRunner.Start(BoxTestEnvironment.Cli, ["port-forward", "pub", ":7000"], environment.CliEnvironment());
        var forwarding = await forwarder.StandardOutput.ReadLineAsync().WaitAsync(Timeout) ?? throw new InvalidOperationException("port-forward ended: " + await forwarder.StandardError.ReadToEndAsync());
        var forwardedPort = int.Parse(System.Text.RegularExpressions.Regex.Match(forwarding, @"127\.0\.0\.1:(\d+) -> 7000$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        using var forwarded = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await forwarded.ConnectAsync(new IPEndPoint(IPAddress.Loopback, forwardedPort)).WaitAsync(Timeout);
        await AssertEchoesAsync(forwarded);

        var stop = await environment.CocoonAsync("stop", "pub");
        // Each hangs, and so fails by the timeout, if the connection outlives the box.
        await ReadUntilClosedAsync(open).WaitAsync(Timeout);
        await ReadUntilClosedAsync(dialed).WaitAsync(Timeout);
        await ReadUntilClosedAsync(forwarded).WaitAsync(Timeout);
        await forwarder.WaitForExitAsync().WaitAsync(Timeout);
        var forwarderError = await forwarder.StandardError.ReadToEndAsync().WaitAsync(Timeout);

        Assert.Equal(JsonValueKind.Object, dialAnswer.GetProperty("result").ValueKind);
        Assert.NotEqual(0, forwarder.ExitCode);
        Assert.Contains("stopped", forwarderError, StringComparison.Ordinal);
        AssertFree(IPAddress.Loopback, forwardedPort);

        Assert.Equal(2, published.GetArrayLength());
        Assert.Equal(http, published[0].GetProperty("host_port").GetInt32());
        Assert.Equal("127.0.0.1", published[1].GetProperty("host_address").GetString());
        Assert.True(curl.ExitCode == 0, curl.Stderr);
        Assert.Equal("published\n", curl.Stdout);
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(pong, 0, got));
        Assert.True(stop.ExitCode == 0, stop.Stderr);
        AssertFree(IPAddress.Loopback, http);
        AssertFree(IPAddress.IPv6Loopback, http);
        AssertFree(IPAddress.Loopback, echo);
    }

    [Fact]
    public async Task Publish_BadSpec_UsageErrorNamingFlag()
    {
        await using var environment = new BoxTestEnvironment();

        var result = await environment.CocoonAsync("create", "--name", "bad", "-p", "80");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'80'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("HOSTPORT:PORT", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task WaitListeningAsync(BoxTestEnvironment environment, int port)
    {
        var deadline = Stopwatch.StartNew();
        while ((await environment.CocoonAsync("exec", "pub", "sh", "-c", $"netstat -ltn | grep -q ':{port} '")).ExitCode != 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"nothing listens on port {port} in the box");
            await Task.Delay(200);
        }
    }

    private static async Task AssertEchoesAsync(Socket socket)
    {
        await socket.SendAsync("ping"u8.ToArray()).WaitAsync(Timeout);
        var buffer = new byte[4];
        var got = 0;
        while (got < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(got)).AsTask().WaitAsync(Timeout);
            Assert.NotEqual(0, read);
            got += read;
        }

        Assert.Equal("ping"u8.ToArray(), buffer);
    }

    /// <summary>Completes once the connection is closed (end-of-stream or reset).</summary>
    private static async Task ReadUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }

    private static void AssertFree(IPAddress address, int port)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, port));
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
