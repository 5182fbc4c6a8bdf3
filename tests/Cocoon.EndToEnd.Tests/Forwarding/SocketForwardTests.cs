// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cocoon.GuestAgent;
using Cocoon.Protocol;
using Cocoon.Tests.Common;

using static Cocoon.Tests.Common.SocketBytes;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// One real box (socat in the guest) with a UNIX-socket echo server at /run/echo.sock, started with
/// the CLI so its supervisor serves pod.socketForward.*.
/// </summary>
public sealed class SocketForwardFixture : IAsyncLifetime
{
    public const string EchoPath = "/run/echo.sock";

    /// <summary>Reads to the client's half-close, answers the lowercase hex SHA-256 and a newline, closes.</summary>
    public const string HashPath = "/run/hash.sock";

    internal Boxes.BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public string Name => "sf";

    /// <summary>A short directory for host sockets (sun_path is 108 bytes).</summary>
    public string HostDirectory { get; } = Directory.CreateTempSubdirectory("cocoon-sf-").FullName;

    public async Task InitializeAsync()
    {
        Environment.Environment["COCOON_GUEST_EXTRA_EXECUTABLES"] = "/usr/bin/socat";
        var created = await Environment.CocoonAsync("create", "--name", Name);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var started = await Environment.CocoonAsync("start", Name);
        Assert.True(started.ExitCode == 0, started.Stderr);
        Box = Environment.CreateRuntime().GetBox(Name);
        // socat's PIPE echo deadlocks on itself past a pipe's 64 KiB, so bulk data goes to the hash
        // service; -t 60 gives sha256sum time to answer after the client's half-close (the default is 0.5 s).
        var echo = await Box.RunAsync(["sh", "-c",
            $"printf '#!/bin/sh\\nsha256sum | cut -c1-64\\n' > /tmp/hash; chmod +x /tmp/hash; " +
            $"socat UNIX-LISTEN:{EchoPath},fork PIPE </dev/null >/dev/null 2>&1 & " +
            $"socat -t 60 UNIX-LISTEN:{HashPath},fork,backlog=128 EXEC:/tmp/hash </dev/null >/dev/null 2>&1 & " +
            $"for i in $(seq 300); do [ -S {EchoPath} ] && [ -S {HashPath} ] && exit 0; sleep 0.1; done; exit 1"]).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(echo.ExitCode == 0, "the UNIX echo server did not start: " + echo.Stderr);
    }

    public string SupervisorLog() => File.ReadAllText(Path.Combine(Environment.StateRoot, "boxes", Name, "supervisor.log"));

    public async Task DisposeAsync()
    {
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
        Directory.Delete(HostDirectory, recursive: true);
    }
}

/// <summary>UNIX socket forwards both ways through a real box: SDK, control API, the agent's API and the CLI.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SocketForwardTests(SocketForwardFixture fixture) : IClassFixture<SocketForwardFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Out_64ConcurrentConnections_HashesInTheBoxMatchSha256()
    {
        var hostPath = HostPath("hash-out");
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var forward = await fixture.Box.ForwardSocketAsync(hostPath, SocketForwardFixture.HashPath, connectionFailed: e => failures.Enqueue(e.Message));

        var clients = Enumerable.Range(0, 64).Select(async i =>
        {
            var body = RandomNumberGenerator.GetBytes(64 * 1024 * (i % 8 + 1));
            using var client = await ConnectAsync(hostPath);
            var reading = ReadToEndAsync(client);
            await SendAllAsync(client, body);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)) + "\n", Encoding.ASCII.GetString(await reading));
        });
        var all = Task.WhenAll(clients).WaitAsync(Timeout);
        await Task.WhenAny(all);

        Assert.Empty(failures);
        await all;
    }

    [Fact]
    public async Task Out_NothingAtBoxPath_ConnectionClosedAndReported()
    {
        var hostPath = HostPath("absent-out");
        var failures = new List<CocoonException>();
        await using var forward = await fixture.Box.ForwardSocketAsync(hostPath, "/run/nothing-here.sock", connectionFailed: failures.Add);

        using var client = await ConnectAsync(hostPath);
        var read = await client.ReceiveAsync(new byte[16]).WaitAsync(Timeout);

        Assert.Equal(0, read);
        var failure = Assert.Single(failures);
        Assert.Contains("/run/nothing-here.sock", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_SocketForward_ServesUntilInterruptedThenRemovesSocket()
    {
        var hostPath = HostPath("cli");
        using var cli = ProcessRunner.Start(
            Boxes.BoxTestEnvironment.Cli,
            ["socket-forward", fixture.Name, $"{hostPath}:{SocketForwardFixture.EchoPath}"],
            fixture.Environment.CliEnvironment());
        try
        {
            var line = await cli.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.Equal($"Forwarding from {hostPath} -> {SocketForwardFixture.EchoPath}", line);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(hostPath));
            using var client = await ConnectAsync(hostPath);
            await SendAllAsync(client, "ping"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("ping", Encoding.ASCII.GetString(await ReadToEndAsync(client).WaitAsync(Timeout)));
        }
        finally
        {
            // Ctrl-C.
            await Infrastructure.CliInterrupt.InterruptAndWaitAsync(cli, Timeout);
        }

        Assert.Equal(0, cli.ExitCode);
        Assert.False(File.Exists(hostPath));
    }

    [Fact]
    public async Task In_HostServiceSeenInBox_HalfCloseBothWaysAndSha256()
    {
        var hostPath = HostPath("svc-in");
        using var service = HashService(hostPath);
        var forward = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, hostPath, "/run/host-svc.sock");
        try
        {
            // The guest sends 1 MiB and half-closes; the host service answers the SHA-256 of all it read.
            var result = await fixture.Box.RunAsync(["sh", "-c",
                "head -c 1048576 /dev/urandom > /tmp/in.bin; sha256sum /tmp/in.bin | cut -d' ' -f1; " +
                "socat -t 30 - UNIX-CONNECT:/run/host-svc.sock < /tmp/in.bin"]).WaitAsync(Timeout);

            Assert.True(result.ExitCode == 0, result.Stderr);
            var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.Equal(lines[0], lines[1]);
            Assert.Equal(ForwardId.Compute(null, "/run/host-svc.sock"), forward.Id);
        }
        finally
        {
            await fixture.Box.RemoveSocketForwardAsync(forward.Id);
        }
    }

    [Fact]
    public async Task In_HostSocketAbsent_GuestClientClosedPromptly()
    {
        var forward = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, HostPath("absent-in"), "/run/absent.sock");
        try
        {
            // Without the refusal the client would wait for the agent's 30 s token expiry: timeout's 124.
            // socat ends 0 on end-of-stream, 1 when the close came as a reset of its unread "hi".
            var result = await fixture.Box.RunAsync(["sh", "-c", "echo hi | timeout 15 socat -t 20 - UNIX-CONNECT:/run/absent.sock; echo rc=$?"]).WaitAsync(Timeout);

            Assert.Matches("^rc=[01]\n$", result.Stdout);
            Assert.Contains("cannot be reached", fixture.SupervisorLog(), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Box.RemoveSocketForwardAsync(forward.Id);
        }
    }

    [Fact]
    public async Task In_ForgedForwardIdThroughAgentApi_RefusedAndLogged()
    {
        // A forward the supervisor knows keeps its watch running; the forged one is bound behind its back.
        var hostPath = HostPath("known");
        using var service = HashService(hostPath);
        var known = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, hostPath, "/run/known.sock");
        var forged = ForwardId.Compute("forged", "/run/forged.sock");
        var agent = (ISocketForwardAgent)fixture.Box.Agent;
        var listener = await agent.BindSocketForwardAsync(forged, null, CancellationToken.None);
        try
        {
            var result = await fixture.Box.RunAsync(["sh", "-c", $"echo hi | timeout 15 socat -t 20 - UNIX-CONNECT:{listener}; echo rc=$?"]).WaitAsync(Timeout);

            Assert.Matches("^rc=[01]\n$", result.Stdout);
            Assert.DoesNotContain(Convert.ToHexStringLower(SHA256.HashData("hi\n"u8)), result.Stdout, StringComparison.Ordinal);
            Assert.Contains($"Socket forward {forged}: a connection from the box was refused: no forward of that id", fixture.SupervisorLog(), StringComparison.Ordinal);
        }
        finally
        {
            await agent.UnbindSocketForwardAsync(forged, CancellationToken.None);
            await fixture.Box.RemoveSocketForwardAsync(known.Id);
        }
    }

    [Fact]
    public async Task AddRemove_RunningBox_ListedThenGoneBothWays()
    {
        var outPath = HostPath("listed-out");
        var inPath = HostPath("listed-in");
        var added = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.Out, outPath, SocketForwardFixture.EchoPath);
        var into = await fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, inPath, "/run/listed/in.sock");
        var listed = await fixture.Box.ListSocketForwardsAsync();
        using (var client = await ConnectAsync(outPath))
        {
            await SendAllAsync(client, "kept by the supervisor"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("kept by the supervisor", Encoding.ASCII.GetString(await ReadToEndAsync(client).WaitAsync(Timeout)));
        }

        var inBox = await fixture.Box.RunAsync(["sh", "-c", "test -S /run/listed/in.sock && echo present"]);
        await fixture.Box.RemoveSocketForwardAsync(added.Id);
        await fixture.Box.RemoveSocketForwardAsync(into.Id);
        var after = await fixture.Box.ListSocketForwardsAsync();
        var goneInBox = await fixture.Box.RunAsync(["sh", "-c", $"test -e /run/listed/in.sock || test -e /run/socketfwd/{into.Id}.sock || echo gone"]);

        Assert.Contains(added, listed);
        Assert.Contains(into, listed);
        Assert.Equal("present\n", inBox.Stdout);
        Assert.DoesNotContain(after, f => f.Id == added.Id || f.Id == into.Id);
        Assert.False(File.Exists(outPath));
        Assert.Equal("gone\n", goneInBox.Stdout);
        var ex = await Assert.ThrowsAsync<CocoonException>(() => fixture.Box.RemoveSocketForwardAsync(added.Id));
        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public async Task Add_BadPaths_InvalidArgumentNamingField()
    {
        var file = Path.Combine(fixture.HostDirectory, "plain-file");
        await File.WriteAllTextAsync(file, "not a socket");

        var notSocket = await Assert.ThrowsAsync<CocoonException>(() => fixture.Box.AddSocketForwardAsync(SocketForwardDirection.Out, file, SocketForwardFixture.EchoPath));
        var relative = await Assert.ThrowsAsync<CocoonException>(() => fixture.Box.AddSocketForwardAsync(SocketForwardDirection.In, HostPath("rel"), "run/x.sock"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, notSocket.Code);
        Assert.Contains("not a socket", notSocket.Message, StringComparison.Ordinal);
        Assert.Equal("not a socket", await File.ReadAllTextAsync(file));
        Assert.Equal(CocoonErrorCode.InvalidArgument, relative.Code);
        Assert.Contains("run/x.sock", relative.Message, StringComparison.Ordinal);
    }

    private string HostPath(string name) => Path.Combine(fixture.HostDirectory, name + ".sock");

    /// <summary>A host UNIX service: reads to the client's half-close, answers the lowercase hex SHA-256 and a newline.</summary>
    internal static Socket HashService(string path) => Serve(path, async peer =>
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(await ReadToEndAsync(peer)));
        await SendAllAsync(peer, Encoding.ASCII.GetBytes(hash + "\n"));
        peer.Shutdown(SocketShutdown.Send);
    });

    /// <summary>Listens at <paramref name="path"/> and runs <paramref name="serve"/> for every connection (then closes it) until the listener is disposed.</summary>
    internal static Socket Serve(string path, Func<Socket, Task> serve)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(128);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket peer;
                try
                {
                    peer = await listener.AcceptAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (peer)
                    {
                        await serve(peer);
                    }
                });
            }
        });
        return listener;
    }

    internal static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
        return socket;
    }
}

/// <summary>A box of its own, stopped with forwards both ways in place.</summary>
public sealed class SocketForwardStopTests
{
    [Fact]
    public async Task Stop_WithForwardsBothWays_NoHostSocketOrProcessLeft()
    {
        await using var environment = new Boxes.BoxTestEnvironment();
        var hostDirectory = Directory.CreateTempSubdirectory("cocoon-sfs-").FullName;
        try
        {
            Assert.Equal(0, (await environment.CocoonAsync("create", "--name", "sfs")).ExitCode);
            var started = await environment.CocoonAsync("start", "sfs");
            Assert.True(started.ExitCode == 0, started.Stderr);
            var box = environment.CreateRuntime().GetBox("sfs");
            await using (box)
            {
                var outPath = Path.Combine(hostDirectory, "out.sock");
                await box.AddSocketForwardAsync(SocketForwardDirection.Out, outPath, "/run/anything.sock");
                await box.AddSocketForwardAsync(SocketForwardDirection.In, Path.Combine(hostDirectory, "in.sock"), "/run/in.sock");
                Assert.True(File.Exists(outPath));

                await box.StopAsync(TimeSpan.FromSeconds(10));

                Assert.False(File.Exists(outPath));
                Assert.Empty(Directory.EnumerateFileSystemEntries(hostDirectory));
                Assert.Empty(environment.LeftoverProcesses());
            }
        }
        finally
        {
            Directory.Delete(hostDirectory, recursive: true);
        }
    }
}
