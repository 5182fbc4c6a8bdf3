// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Cocoon.Tests.Common;
using Cocoon.Vsock.Streams;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// One real box serving busybox httpd on port 80 (files with known SHA-256s), an echo on 7000
/// (<c>nc -ll -e cat</c>) and nothing on 81; reached through Box.DialAsync, ForwardPortAsync and
/// <c>cocoon port-forward</c>.
/// </summary>
public sealed class PortForwardFixture : IAsyncLifetime
{
    /// <summary>Body sizes served as /f0 ... /fN; the last is the 64 MiB case.</summary>
    public static readonly int[] Sizes = [0, 1, 1000, 65536, 65537, 1 << 20, 64 << 20];

    internal Boxes.BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public string Name => "pf";

    /// <summary>Lowercase hex SHA-256 of /fI, computed in the guest.</summary>
    public string[] Hashes { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var runtime = Environment.CreateRuntime();
        Box = await runtime.CreateBoxAsync(new BoxOptions(Name)).WaitAsync(TimeSpan.FromSeconds(120));
        var script = new StringBuilder("set -e; mkdir -p /www; echo hello from the box > /www/index.html; ");
        for (var i = 0; i < Sizes.Length; i++)
        {
            script.Append(Sizes[i] == 0 ? $": > /www/f{i}; " : $"head -c {Sizes[i]} /dev/urandom > /www/f{i}; ");
        }

        script.Append("httpd -p 80 -h /www; nc -ll -p 7000 -e cat </dev/null >/dev/null 2>&1 & ");
        script.Append("cd /www; for i in $(seq 0 " + (Sizes.Length - 1) + "); do sha256sum f$i | cut -d' ' -f1; done");
        var result = await Box.RunAsync(["sh", "-c", script.ToString()]).WaitAsync(TimeSpan.FromSeconds(300));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Hashes = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Sizes.Length, Hashes.Length);
        await WaitListeningAsync(80);
        await WaitListeningAsync(7000);
    }

    /// <summary>Waits until something in the guest listens on TCP <paramref name="port"/> (a server started in the background).</summary>
    public async Task WaitListeningAsync(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var result = await Box.RunAsync(["sh", "-c", $"netstat -ltn | grep -q ':{port} '"]).WaitAsync(TimeSpan.FromSeconds(60));
            if (result.ExitCode == 0)
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"nothing listens on port {port} in the box");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
    }
}

public sealed partial class PortForwardTests(PortForwardFixture fixture) : IClassFixture<PortForwardFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private Box Box => fixture.Box;

    [Fact]
    public async Task DialAsync_Httpd_ServesIndex()
    {
        await using var stream = await Box.DialAsync("tcp", 80).WaitAsync(Timeout);

        await stream.WriteAsync("GET /index.html HTTP/1.0\r\n\r\n"u8.ToArray());
        var response = Encoding.ASCII.GetString(await ReadToEndAsync(stream).WaitAsync(Timeout));

        Assert.StartsWith("HTTP/1.", response, StringComparison.Ordinal);
        Assert.EndsWith("hello from the box\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DialAsync_ClientHalfCloses_EchoEndsAfterAnswer()
    {
        await using var stream = await Box.DialAsync("tcp", 7000).WaitAsync(Timeout);
        var question = RandomNumberGenerator.GetBytes(200_000);

        await stream.WriteAsync(question);
        stream.CompleteWrites();
        var echoed = await ReadToEndAsync(stream).WaitAsync(Timeout);

        Assert.Equal(SHA256.HashData(question), SHA256.HashData(echoed));
    }

    [Fact]
    public async Task DialAsync_ServerHalfCloses_ClientStillSends()
    {
        var start = await Box.RunAsync(["sh", "-c", "echo banner > /tmp/banner; rm -f /tmp/late; nc -l -p 7001 </tmp/banner >/tmp/late 2>&1 &"]).WaitAsync(Timeout);
        Assert.Equal(0, start.ExitCode);
        await fixture.WaitListeningAsync(7001);

        await using (var stream = await Box.DialAsync("tcp", 7001).WaitAsync(Timeout))
        {
            var banner = await ReadToEndAsync(stream).WaitAsync(Timeout);
            await stream.WriteAsync("late"u8.ToArray());
            stream.CompleteWrites();
            Assert.Equal("banner\n", Encoding.ASCII.GetString(banner));
            Assert.Empty(await ReadToEndAsync(stream).WaitAsync(Timeout));
        }

        var late = await Box.RunAsync(["cat", "/tmp/late"]).WaitAsync(Timeout);
        Assert.Equal("late", late.Stdout);
    }

    [Fact]
    public async Task DialAsync_NothingListens_RefusedNamingPort()
    {
        var ex = await Assert.ThrowsAsync<StreamException>(() => Box.DialAsync("tcp", 81).WaitAsync(Timeout));

        Assert.Equal(StreamStatusCode.Refused, ex.Status);
        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("port 81", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sctp", null, null, StreamStatusCode.BadNetwork)]
    [InlineData("tcp", null, "web", StreamStatusCode.UnknownContainer)]
    [InlineData("tcp", "not-an-ip", null, StreamStatusCode.BadAddress)]
    public async Task DialAsync_BadInput_DistinctStatus(string network, string? address, string? container, StreamStatusCode status)
    {
        var ex = await Assert.ThrowsAsync<StreamException>(() => Box.DialAsync(network, 80, address, container).WaitAsync(Timeout));

        Assert.Equal(status, ex.Status);
    }

    [Fact]
    public async Task ForwardPortAsync_64ConcurrentConnections_BodiesIntact()
    {
        await using var forward = await Box.ForwardPortAsync(new PortForwardOptions(80));
        var local = forward.LocalEndPoints[0];

        // 64 connections at once: 63 over the smaller bodies and one 64 MiB body (sized for TCG on shared cores).
        var files = Enumerable.Range(0, 64).Select(i => i == 63 ? PortForwardFixture.Sizes.Length - 1 : i % (PortForwardFixture.Sizes.Length - 1)).ToList();
        var results = await Task.WhenAll(files.Select(file => FetchAsync(local, file))).WaitAsync(TimeSpan.FromSeconds(600));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(fixture.Hashes[files[i]] == results[i], $"connection {i}, /f{files[i]} ({PortForwardFixture.Sizes[files[i]]} bytes): SHA-256 differs");
        }
    }

    [Fact]
    public async Task ForwardPortAsync_LocalPortInUse_AlreadyExistsNamingIt()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var ex = await Assert.ThrowsAsync<CocoonException>(() => Box.ForwardPortAsync(new PortForwardOptions(80) { LocalPort = port }));

        Assert.Equal(CocoonErrorCode.AlreadyExists, ex.Code);
        Assert.Contains($"local port {port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortForwardCli_CurlThroughFreePort_RefusedPortReportedAndStillServing()
    {
        using var cli = ProcessRunner.Start(
            Boxes.BoxTestEnvironment.Cli,
            ["port-forward", fixture.Name, ":80", ":81"],
            new Dictionary<string, string> { ["COCOON_HOME"] = fixture.Environment.StateRoot });
        try
        {
            var lines = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                lines.Add(await cli.StandardOutput.ReadLineAsync().WaitAsync(Timeout) ?? throw new InvalidOperationException("port-forward ended: " + await cli.StandardError.ReadToEndAsync()));
            }

            var ports = lines.Select(l => Regex.Match(l, @"^Forwarding from (127\.0\.0\.1|\[::1\]):(\d+) -> (\d+)$")).ToList();
            Assert.All(ports, m => Assert.True(m.Success, string.Join('\n', lines)));
            Assert.Equal(["127.0.0.1", "[::1]", "127.0.0.1", "[::1]"], ports.Select(m => m.Groups[1].Value));
            Assert.Equal(["80", "80", "81", "81"], ports.Select(m => m.Groups[3].Value));
            var http = ports[0].Groups[2].Value;
            var refused = ports[2].Groups[2].Value;

            var bad = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", "60", $"http://127.0.0.1:{refused}/"], Timeout);
            var error = await cli.StandardError.ReadLineAsync().WaitAsync(Timeout);
            var good = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", "60", $"http://127.0.0.1:{http}/index.html"], Timeout);
            var good6 = await ProcessRunner.RunAsync("curl", ["-sS", "--max-time", "60", $"http://[::1]:{http}/index.html"], Timeout);

            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains($"-> 81", error, StringComparison.Ordinal);
            Assert.Contains("refused", error, StringComparison.Ordinal);
            Assert.Equal("hello from the box\n", good.Stdout);
            Assert.Equal("hello from the box\n", good6.Stdout);
        }
        finally
        {
            // Ctrl-C.
            await Infrastructure.CliInterrupt.InterruptAndWaitAsync(cli, Timeout);
        }

        Assert.Equal(0, cli.ExitCode);
    }

    [Fact]
    public async Task PortForwardCli_LocalPortInUse_ErrorNamingPort()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var result = await fixture.Environment.CocoonAsync("port-forward", fixture.Name, $"{port}:80");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"local port {port}", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> FetchAsync(IPEndPoint endPoint, int file)
    {
        using var client = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        await using var stream = new NetworkStream(client, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /f{file} HTTP/1.0\r\n\r\n"));
        var response = await ReadToEndAsync(stream);
        var bodyStart = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.True(bodyStart >= 4, "no HTTP header end in the response");
        return Convert.ToHexStringLower(SHA256.HashData(response.AsSpan(bodyStart)));
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        var output = new MemoryStream();
        await stream.CopyToAsync(output);
        return output.ToArray();
    }
}
