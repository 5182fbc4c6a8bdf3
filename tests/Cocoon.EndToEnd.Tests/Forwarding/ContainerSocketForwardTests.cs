// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cocoon.EndToEnd.Tests.Containers;
using Cocoon.Protocol;
using Cocoon.Tests.Common.Images;

using static Cocoon.Tests.Common.SocketBytes;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>A box of a busybox image with the host's socat and curl in it, shared by <see cref="ContainerSocketForwardTests"/> (a container per test).</summary>
public sealed class ContainerSocketFixture : ImageBoxFixture
{
    /// <summary>A short directory for host sockets (sun_path is 108 bytes).</summary>
    public string HostDirectory { get; } = System.IO.Directory.CreateTempSubdirectory("cocoon-uds-").FullName;

    protected override IReadOnlyList<string> ImageConfig => ["--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"];

    protected override async Task<IReadOnlyList<byte[]>> LayersAsync() =>
    [
        BusyboxLayer.Build([.. BusyboxLayer.Applets, "sha256sum", "cut", "test", "timeout", "ls"]),
        await HostFiles.BuildLayerAsync("/usr/bin/socat", "/usr/bin/curl"),
    ];

    protected override BoxOptions BoxOptionsFor(string image) => new BoxOptions("uds").WithImage(image);

    /// <summary>Starts a detached container of the image running <paramref name="script"/>; disposing it removes it.</summary>
    public Task<Container> StartAsync(string name, string script, params UnixSocketMount[] mounts) =>
        Box.RunContainerAsync(new ContainerOptions(Image) { Name = name, Entrypoint = "sh", Arguments = ["-c", script], Detach = true, SocketMounts = mounts });

    /// <summary>The supervisor's pid (its fds and threads are counted).</summary>
    public int SupervisorPid => Runtime.GetBoxInfo(Box.Name).SupervisorPid ?? throw new InvalidOperationException("the box has no supervisor");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        System.IO.Directory.Delete(HostDirectory, recursive: true);
    }
}

/// <summary>UNIX socket forwards into and out of containers of a real box: uds mounts, forwards added to running containers, many connections.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerSocketForwardTests(ContainerSocketFixture fixture) : IClassFixture<ContainerSocketFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task UdsMount_HostHttpServer_ReachedWithCurlInTheContainer()
    {
        var hostPath = HostPath("http");
        using var server = HttpService(hostPath, "hello from the host");

        var (stdout, _) = await fixture.RunToEndAsync(
            new ContainerOptions(fixture.Image)
            {
                Entrypoint = "curl",
                Arguments = ["-sS", "--unix-socket", "/run/host/http.sock", "http://host/"],
                SocketMounts = [new UnixSocketMount(hostPath, "/run/host/http.sock")],
            },
            Timeout);

        Assert.Equal("hello from the host", stdout);
    }

    [Fact]
    public async Task UdsMount_SameDestinationInTwoContainers_TwoForwardIdsEachItsOwnHostSocket()
    {
        using var one = HttpService(HostPath("one"), "one");
        using var two = HttpService(HostPath("two"), "two");
        await using var first = await fixture.StartAsync("two-a", "sleep 600", new UnixSocketMount(HostPath("one"), "/run/s.sock")).WaitAsync(Timeout);
        await using var second = await fixture.StartAsync("two-b", "sleep 600", new UnixSocketMount(HostPath("two"), "/run/s.sock")).WaitAsync(Timeout);

        var a = await first.RunAsync(["curl", "-sS", "--unix-socket", "/run/s.sock", "http://x/"]).WaitAsync(Timeout);
        var b = await second.RunAsync(["curl", "-sS", "--unix-socket", "/run/s.sock", "http://x/"]).WaitAsync(Timeout);
        var listed = await fixture.Box.ListSocketForwardsAsync();

        Assert.Equal("one", a.Stdout);
        Assert.Equal("two", b.Stdout);
        var idA = Assert.Single(listed, f => f.Container == "two-a").Id;
        var idB = Assert.Single(listed, f => f.Container == "two-b").Id;
        Assert.Equal(ForwardId.Compute("two-a", "/run/s.sock"), idA);
        Assert.Equal(ForwardId.Compute("two-b", "/run/s.sock"), idB);
        Assert.NotEqual(idA, idB);
    }

    [Fact]
    public async Task UdsMount_HostSocketAbsent_ClientSeesItsConnectionEndPromptly()
    {
        // Without the refusal curl would wait for the agent's 30 s token expiry: timeout's 143.
        // curl: 52 for an empty reply (end of stream), 56 when the close came as a reset.
        var (stdout, _) = await fixture.RunToEndAsync(
            new ContainerOptions(fixture.Image)
            {
                Entrypoint = "sh",
                Arguments = ["-c", "timeout 15 curl -s --unix-socket /run/absent.sock http://x/; echo rc=$?"],
                SocketMounts = [new UnixSocketMount(HostPath("absent"), "/run/absent.sock")],
            },
            Timeout);

        Assert.Matches("^rc=(52|56)\n$", stdout);
    }

    [Fact]
    public async Task UdsMount_64ConcurrentConnections_HostHashesMatchAfterHalfClose()
    {
        // Each client sends (i % 8 + 1) x 128 KiB (36 MiB in all: TCG moves a few MiB/s) and half-closes;
        // the host service answers the SHA-256 of all it read, which the client compares with its own.
        var hostPath = HostPath("hash-in");
        using var service = SocketForwardTests.HashService(hostPath);
        const string Script =
            "i=0; while [ $i -lt 64 ]; do " +
            "( head -c $(( (i % 8 + 1) * 131072 )) /dev/urandom > /tmp/d$i; want=$(sha256sum /tmp/d$i | cut -c1-64); " +
            "got=$(socat -t 60 - UNIX-CONNECT:/run/hash.sock < /tmp/d$i); [ \"$want\" = \"$got\" ] && echo ok || echo \"bad $i: $got\" ) & " +
            "i=$((i + 1)); done; wait";

        var (stdout, _) = await fixture.RunToEndAsync(
            new ContainerOptions(fixture.Image) { Entrypoint = "sh", Arguments = ["-c", Script], SocketMounts = [new UnixSocketMount(hostPath, "/run/hash.sock")] },
            Timeout);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Equal("ok", line));
        Assert.Equal(64, lines.Length);
    }

    [Fact]
    public async Task Out_ContainerServer_64ConcurrentConnectionsFromTheHost_HashesMatchAfterHalfClose()
    {
        await using var container = await fixture.StartAsync("hash-out", HashServerScript).WaitAsync(Timeout);
        await WaitForSocketAsync(container, "/tmp/hash.sock");
        var hostPath = HostPath("hash-out");
        var forward = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.Out, hostPath, "/tmp/hash.sock", container.Name);
        try
        {
            var clients = Enumerable.Range(0, 64).Select(async i =>
            {
                var body = RandomNumberGenerator.GetBytes(128 * 1024 * (i % 8 + 1));
                using var client = await SocketForwardTests.ConnectAsync(hostPath);
                var reading = ReadToEndAsync(client);
                await SendAllAsync(client, body);
                client.Shutdown(SocketShutdown.Send);
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)) + "\n", Encoding.ASCII.GetString(await reading));
            });

            await Task.WhenAll(clients).WaitAsync(Timeout);
            Assert.Equal(container.Name, forward.Container);
        }
        finally
        {
            await fixture.Box.RemoveSocketForwardAsync(forward.Id);
        }

        Assert.False(File.Exists(hostPath));
    }

    [Fact]
    public async Task AddIn_RunningContainer_MountedWithoutRestart_RemovedAgain()
    {
        var hostPath = HostPath("late");
        using var server = HttpService(hostPath, "added while running");
        await using var container = await fixture.StartAsync("late", "sleep 600").WaitAsync(Timeout);

        var forward = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, hostPath, "/run/late/http.sock", container.Name);
        var reached = await container.RunAsync(["curl", "-sS", "--unix-socket", "/run/late/http.sock", "http://x/"]).WaitAsync(Timeout);
        await fixture.Box.RemoveSocketForwardAsync(forward.Id);
        var afterRemove = await container.RunAsync(["sh", "-c", "curl -s --unix-socket /run/late/http.sock http://x/; echo rc=$?"]).WaitAsync(Timeout);
        var stillRunning = (await fixture.Box.ListContainersAsync()).Single(c => c.Name == "late");

        Assert.Equal("added while running", reached.Stdout);
        Assert.Equal(ForwardId.Compute("late", "/run/late/http.sock"), forward.Id);
        Assert.Equal("rc=7\n", afterRemove.Stdout);
        Assert.True(stillRunning.IsRunning);
    }

    [Fact]
    public async Task UdsMount_StartRefusedForTakenName_RunningContainersForwardKept()
    {
        var hostPath = HostPath("taken");
        using var server = HttpService(hostPath, "still here");
        await using var running = await fixture.StartAsync("taken", "sleep 600", new UnixSocketMount(hostPath, "/run/s.sock")).WaitAsync(Timeout);

        var refused = await Assert.ThrowsAsync<CocoonException>(() => fixture.StartAsync("taken", "sleep 600", new UnixSocketMount(hostPath, "/run/s.sock")).WaitAsync(Timeout));
        var listed = await fixture.Box.ListSocketForwardsAsync();
        var reached = await running.RunAsync(["curl", "-sS", "--unix-socket", "/run/s.sock", "http://x/"]).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.AlreadyExists, refused.Code);
        Assert.Contains(listed, f => f.Container == "taken" && f.BoxPath == "/run/s.sock");
        Assert.Equal("still here", reached.Stdout);
    }

    [Fact]
    public async Task Cli_CreateWithUdsMount_ContainerStartedLaterReachesTheHostSocket()
    {
        // Arrange: a second box, made and started by the CLI with a box-wide uds mount.
        var environment = fixture.Environment;
        var hostPath = HostPath("create");
        using var server = HttpService(hostPath, "hello from create");
        var create = await environment.CocoonAsync("create", "--name", "udsc", "--image", fixture.Image, "--mount", $"type=uds,source={hostPath},destination=/run/host/http.sock");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            var start = await environment.CocoonAsync("start", "udsc");
            Assert.True(start.ExitCode == 0, start.Stderr);

            // Act: a container that names no mount of its own.
            var run = await environment.CocoonAsync("run", "--box", "udsc", "--rm", fixture.Image, "curl", "-sS", "--unix-socket", "/run/host/http.sock", "http://host/");

            // Assert
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("hello from create", run.Stdout);
        }
        finally
        {
            Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "udsc")).ExitCode);
        }
    }

    [Fact]
    public async Task Cli_RunWithSocketForward_ContainerServerReachedFromHost_HostSocketGoneAfterStop()
    {
        // Arrange: a second box whose container serves an echo socket, forwarded for the box's lifetime.
        var environment = fixture.Environment;
        var hostPath = HostPath("lifetime");
        var run = await environment.CocoonAsync(
            "run", "-d", "--name", "udsf", "--socket-forward", $"{hostPath}:/tmp/echo.sock", fixture.Image, "sh", "-c", "exec socat UNIX-LISTEN:/tmp/echo.sock,fork EXEC:cat");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            var waited = await environment.CocoonAsync("exec", "udsf", "sh", "-c", "for i in $(seq 300); do test -S /tmp/echo.sock && exit 0; sleep 0.1; done; exit 1");
            Assert.True(waited.ExitCode == 0, $"/tmp/echo.sock did not appear in the container: {waited.Stderr}");

            // Act: through the host socket into the box's first (only) container, then stop the box.
            byte[] echoed;
            using (var client = await SocketForwardTests.ConnectAsync(hostPath))
            {
                var reading = ReadToEndAsync(client);
                await SendAllAsync(client, "through the box's forward"u8.ToArray());
                client.Shutdown(SocketShutdown.Send);
                echoed = await reading.WaitAsync(Timeout);
            }

            var stop = await environment.CocoonAsync("stop", "udsf");

            // Assert
            Assert.Equal("through the box's forward", Encoding.ASCII.GetString(echoed));
            Assert.True(stop.ExitCode == 0, stop.Stderr);
            Assert.False(File.Exists(hostPath), $"{hostPath} is left after the box stopped");
        }
        finally
        {
            Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "udsf")).ExitCode);
        }
    }

    [Fact]
    public async Task ThousandConnectionsEachWay_NoFdOrThreadLeftInSupervisorOrAgent()
    {
        var inPath = HostPath("leak-in");
        var outPath = HostPath("leak-out");
        using var server = HttpService(inPath, "ok");
        await using var container = await fixture.StartAsync(
            "leak", "socat UNIX-LISTEN:/run/echo.sock,fork,backlog=128 PIPE", new UnixSocketMount(inPath, "/run/http.sock")).WaitAsync(Timeout);
        await WaitForSocketAsync(container, "/run/echo.sock");
        var forward = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.Out, outPath, "/run/echo.sock", container.Name);
        try
        {
            // A first round opens what stays open (the pools' sockets, the watch); then the baseline, then 1,000 each way.
            await ConnectionsAsync(container, outPath, 20);
            var before = await CountsAsync();
            await ConnectionsAsync(container, outPath, 1000);

            var after = await CountsAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!after.AtMost(before) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
                after = await CountsAsync();
            }

            Assert.True(after.AtMost(before), $"before {before}, after {after}");
        }
        finally
        {
            await fixture.Box.RemoveSocketForwardAsync(forward.Id);
        }
    }

    /// <summary>At /tmp/hash.sock (the image has no /run): reads to the client's half-close, answers the lowercase hex SHA-256 and a newline (socat forks one per connection).</summary>
    private const string HashServerScript =
        "printf 'sha256sum | cut -c1-64\\n' > /tmp/hash; exec socat -t 60 UNIX-LISTEN:/tmp/hash.sock,fork,backlog=128 EXEC:'sh /tmp/hash'";

    /// <summary><paramref name="count"/> connections out (from the host, 8 at a time) and in (curl in the container, one after another).</summary>
    private async Task ConnectionsAsync(Container container, string outPath, int count)
    {
        using var slots = new SemaphoreSlim(8);
        var outward = Enumerable.Range(0, count).Select(async i =>
        {
            await slots.WaitAsync();
            try
            {
                using var client = await SocketForwardTests.ConnectAsync(outPath);
                await SendAllAsync(client, "x"u8.ToArray());
                client.Shutdown(SocketShutdown.Send);
                Assert.Equal("x", Encoding.ASCII.GetString(await ReadToEndAsync(client)));
            }
            finally
            {
                slots.Release();
            }
        });
        var inward = container.RunAsync(["curl", "-sS", "--unix-socket", "/run/http.sock", $"http://x/[1-{count}]"]);
        await Task.WhenAll(outward).WaitAsync(Timeout);
        var result = await inward.WaitAsync(Timeout);
        Assert.Equal(string.Concat(Enumerable.Repeat("ok", count)), result.Stdout);
    }

    /// <summary>
    /// The name of .NET's thread-pool workers: the pool sizes itself to the load and retires idle
    /// workers on its own clock, so they are left out of the thread counts. Every thread Cocoon starts
    /// per connection or per forward (namespace entry, mount injection) has a name of its own and is counted.
    /// </summary>
    private const string PoolThread = ".NET TP Worker";

    /// <summary>The GC's background thread, which the runtime starts at the first background collection, once.</summary>
    private const string GcThread = ".NET BGC";

    /// <summary>Open fds and threads other than pool workers and the GC's, of the supervisor and the agent (PID 1 in the box).</summary>
    private async Task<Counts> CountsAsync()
    {
        var pid = fixture.SupervisorPid;
        var agent = await fixture.Box.RunAsync(["sh", "-c", $"ls /proc/1/fd | wc -l; cat /proc/1/task/*/comm | grep -v -e '^{PoolThread}$' -e '^{GcThread}$'"]).WaitAsync(Timeout);
        var lines = agent.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] supervisorThreads = [.. Directory.GetDirectories($"/proc/{pid}/task")
            .Select(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'))
            .Where(name => name is not (PoolThread or GcThread))];
        return new Counts(
            Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length,
            supervisorThreads.Length,
            int.Parse(lines[0], CultureInfo.InvariantCulture),
            lines.Length - 1)
        {
            ThreadNames = $"supervisor [{string.Join(", ", supervisorThreads.Order(StringComparer.Ordinal))}], agent [{string.Join(", ", lines.Skip(1).Order(StringComparer.Ordinal))}]",
        };
    }

    private static async Task WaitForSocketAsync(Container container, string path)
    {
        var waited = await container.RunAsync(["sh", "-c", $"for i in $(seq 300); do test -S {path} && exit 0; sleep 0.1; done; exit 1"]).WaitAsync(Timeout);
        if (waited.ExitCode != 0)
        {
            var log = new StringBuilder();
            await foreach (var chunk in container.GetLogsAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
            {
                log.Append(Encoding.UTF8.GetString(chunk.Span));
            }

            Assert.Fail($"{path} did not appear in container {container.Name}: {waited.Stderr}; its log: {log}");
        }
    }

    private string HostPath(string name) => Path.Combine(fixture.HostDirectory, name + ".sock");

    /// <summary>A host HTTP service on a UNIX socket: answers every request with <paramref name="body"/> and closes.</summary>
    private static Socket HttpService(string path, string body)
    {
        var response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        return SocketForwardTests.Serve(path, async peer =>
        {
            var request = new List<byte>();
            var buffer = new byte[4096];
            while (!Encoding.ASCII.GetString([.. request]).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await peer.ReceiveAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                request.AddRange(buffer.AsSpan(0, read));
            }

            await SendAllAsync(peer, response);
            peer.Shutdown(SocketShutdown.Send);
        });
    }

    private readonly record struct Counts(int SupervisorFds, int SupervisorThreads, int AgentFds, int AgentThreads)
    {
        /// <summary>The threads counted, by name, for a failure message.</summary>
        public string ThreadNames { get; init; } = "";

        public bool AtMost(Counts other) =>
            SupervisorFds <= other.SupervisorFds && SupervisorThreads <= other.SupervisorThreads && AgentFds <= other.AgentFds && AgentThreads <= other.AgentThreads;
    }
}
