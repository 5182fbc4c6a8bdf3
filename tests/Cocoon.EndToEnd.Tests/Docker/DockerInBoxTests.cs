// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Docker;

/// <summary>
/// Docker in a box, driven from the host's docker CLI through the forwarded docker.sock of one shared
/// <c>--support-docker</c> box (<see cref="DockerInBoxFixture"/>): load, build with a RUN step, the
/// default bridge, a user-defined network's DNS, a published port reached through
/// <c>cocoon port-forward</c>; and dockerd refused, clearly, without the profile.
/// </summary>
public sealed partial class DockerInBoxTests(DockerInBoxFixture fixture) : IClassFixture<DockerInBoxFixture>
{
    private static readonly TimeSpan Timeout = DockerInBoxFixture.Timeout;

    [Fact]
    public async Task Version_ThroughForwardedSocket_DaemonOnOverlay2()
    {
        var version = await fixture.DockerAsync("version", "--format", "{{.Server.Version}}");
        var driver = await fixture.DockerAsync("info", "--format", "{{.Driver}}");

        Assert.True(version.ExitCode == 0, version.Stderr);
        Assert.StartsWith("20.10.", version.Stdout, StringComparison.Ordinal);
        Assert.Equal("overlay2\n", driver.Stdout);
    }

    [Fact]
    public async Task Load_BusyboxArchive_ImageStoredInTheBox()
    {
        var inspect = await fixture.DockerAsync("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "busybox:latest");

        Assert.True(fixture.Load.ExitCode == 0, fixture.Load.Stderr);
        Assert.Contains("Loaded image: busybox:latest", fixture.Load.Stdout, StringComparison.Ordinal);
        Assert.Equal("linux/amd64\n", inspect.Stdout);
    }

    [Fact]
    public async Task Build_DockerfileWithRunStep_ImageHoldsWhatRunWrote()
    {
        var context = Path.Combine(fixture.WorkDirectory, "build");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM busybox\nRUN echo built in the box > /built.txt\n");

        var build = await fixture.DockerAsync("build", "-q", "-t", "built:1", context);
        var run = await fixture.DockerAsync("run", "--rm", "built:1", "cat", "/built.txt");

        Assert.True(build.ExitCode == 0, build.Stderr);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("built in the box\n", run.Stdout);
    }

    [Fact]
    public async Task Run_DefaultBridge_ContainerGets172Dot17Address()
    {
        var run = await fixture.DockerAsync("run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Matches(@"inet 172\.17\.\d+\.\d+/16", run.Stdout);
    }

    [Fact]
    public async Task Run_UserDefinedNetwork_ContainersResolveEachOtherByName()
    {
        var network = await fixture.DockerAsync("network", "create", "n1");
        var server = await fixture.DockerAsync("run", "-d", "--name", "web1", "--network", "n1", "busybox", "sh", "-c", "mkdir /www && echo hello from web1 > /www/index.html && httpd -f -p 80 -h /www");
        try
        {
            // Resolved by Docker's embedded DNS (127.0.0.11) with nslookup, then reached with nc:
            // busybox-static's wget crashes in its (static glibc) name-service lookups.
            var client = await fixture.DockerAsync("run", "--rm", "--network", "n1", "busybox", "sh", "-c",
                "address=$(nslookup web1 | grep -o '172\\.[0-9.]*' | head -n 1); echo web1=${address%.*}.x; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 30 $address 80");

            Assert.True(network.ExitCode == 0, network.Stderr);
            Assert.True(server.ExitCode == 0, server.Stderr);
            Assert.True(client.ExitCode == 0, $"exit {client.ExitCode}: {client.Stdout} {client.Stderr}");
            Assert.StartsWith("web1=172.18.0.x\nHTTP/1.1 200 OK\r\n", client.Stdout, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\nhello from web1\n", client.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DockerAsync("rm", "-f", "web1");
            await fixture.DockerAsync("network", "rm", "n1");
        }
    }

    [Fact]
    public async Task Run_PublishedPort_ReachedFromTheHostThroughPortForward()
    {
        var server = await fixture.DockerAsync("run", "-d", "--name", "pub", "-p", "8080:80", "busybox", "sh", "-c", "mkdir /www && echo published > /www/index.html && httpd -f -p 80 -h /www");
        using var forward = ProcessRunner.Start(BoxTestEnvironment.Cli, ["port-forward", fixture.Name, ":8080"], fixture.Environment.CliEnvironment());
        try
        {
            Assert.True(server.ExitCode == 0, server.Stderr);
            var line = await forward.StandardOutput.ReadLineAsync().WaitAsync(Timeout) ?? await forward.StandardError.ReadToEndAsync();
            var match = ForwardingLine().Match(line);
            Assert.True(match.Success, line);

            var body = await GetAsync(new IPEndPoint(IPAddress.Loopback, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

            Assert.EndsWith("\r\n\r\npublished\n", body, StringComparison.Ordinal);
        }
        finally
        {
            forward.Kill();
            await forward.WaitForExitAsync().WaitAsync(Timeout);
            await fixture.DockerAsync("rm", "-f", "pub");
        }
    }

    [Fact]
    public async Task Cli_RunDockerdWithoutProfile_ClearErrorAndNoBox()
    {
        var run = await fixture.Environment.CocoonAsync("run", "--name", "nodock", "-d", fixture.Image);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("dockerd", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--support-docker", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(fixture.Environment.StateRoot, "boxes", "nodock")));
    }

    [GeneratedRegex(@"^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$")]
    private static partial Regex ForwardingLine();

    /// <summary>An HTTP/1.0 GET of / (busybox httpd closes after the response).</summary>
    private static async Task<string> GetAsync(IPEndPoint endPoint)
    {
        using var client = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint).WaitAsync(Timeout);
        await using var stream = new NetworkStream(client, ownsSocket: false);
        await stream.WriteAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray()).AsTask().WaitAsync(Timeout);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync().WaitAsync(Timeout);
    }
}
