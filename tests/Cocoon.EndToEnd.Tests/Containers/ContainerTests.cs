// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Vsock.Streams;

namespace Cocoon.EndToEnd.Tests.Containers;

/// <summary>
/// Containers in one shared box of a test image (ENTRYPOINT <c>/bin/echo ep</c>, CMD <c>cmd</c>):
/// docker run's ENTRYPOINT/CMD table, the default profile seen from inside, a pod's shared network,
/// exec, and the exit statuses. A container per test, removed by the test.
/// </summary>
public sealed class ContainerTests(ContainerFixture fixture) : IClassFixture<ContainerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>What <c>docker run</c> prints for the image with these options.</summary>
    [Theory]
    [InlineData(null, new string[0], new string[0], "ep cmd")]
    [InlineData(null, new[] { "x", "y" }, new string[0], "ep x y")]
    [InlineData(null, new string[0], new[] { "c1", "c2" }, "ep c1 c2")]
    [InlineData("/bin/echo", new string[0], new string[0], "")]
    [InlineData("/bin/echo", new[] { "a" }, new string[0], "a")]
    [InlineData("", new[] { "/bin/echo", "z" }, new string[0], "z")]
    public async Task Run_EntrypointAndCmd_AsDockerRun(string? entrypoint, string[] arguments, string[] cmd, string expected)
    {
        var (stdout, exit) = await RunToEndAsync(new ContainerOptions(fixture.Image) { Entrypoint = entrypoint, Arguments = arguments, Cmd = cmd });

        Assert.Equal(0, exit.ShellExitCode);
        Assert.Equal(expected + "\n", stdout);
    }

    [Fact]
    public async Task Run_DefaultProfile_CapBndMasksAndReadOnlyCgroupSeenInside()
    {
        const string Script =
            "grep CapBnd /proc/self/status; " +
            "echo kcore=$(wc -c < /proc/kcore); " +
            "echo keys=$(cat /proc/keys | wc -c); " +
            "mkdir /sys/fs/cgroup/x 2>/dev/null && echo cgroup=rw || echo cgroup=ro; " +
            "(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo procsys=rw || echo procsys=ro; " +
            "echo bridge=$(grep -c '^bridge ' /proc/modules); " +
            "grep -c ' /sys/fs/cgroup cgroup2 ro,' /proc/mounts";

        var (stdout, exit) = await RunToEndAsync(new ContainerOptions(fixture.Image) { Entrypoint = "/bin/sh", Arguments = ["-c", Script] });

        Assert.Equal(0, exit.ShellExitCode);
        Assert.Equal("CapBnd:\t00000000a80425fb\nkcore=0\nkeys=0\ncgroup=ro\nprocsys=ro\nbridge=0\n1\n", stdout);
    }

    [Fact]
    public async Task Run_EnvWorkdirUserAndHostname_FromImageAndOptions()
    {
        var (stdout, exit) = await RunToEndAsync(new ContainerOptions(fixture.Image)
        {
            Name = "named",
            Entrypoint = "/bin/sh",
            Arguments = ["-c", "echo $FROM_IMAGE $EXTRA $(pwd) $(id -u):$(id -g) $(hostname)"],
            Environment = ["EXTRA=2"],
            User = "app",
        });

        Assert.Equal(0, exit.ShellExitCode);
        Assert.Equal("1 2 /srv 1000:1000 named\n", stdout);
    }

    [Fact]
    public async Task Run_BoxVolumes_SeenInTheContainerReadOnlyWhereAsked()
    {
        const string Script =
            "cat /ro/host.txt; " +
            "(echo x > /ro/new) 2>/dev/null && echo ro=writable || echo ro=refused; " +
            "echo from the container > /data/out.txt && echo data=written";

        var (stdout, _) = await RunToEndAsync(new ContainerOptions(fixture.Image) { Entrypoint = "/bin/sh", Arguments = ["-c", Script] });

        Assert.Equal("from the host\nro=refused\ndata=written\n", stdout);
        Assert.Equal("from the container\n", await File.ReadAllTextAsync(Path.Combine(fixture.DataVolume, "out.txt")));
        Assert.False(File.Exists(Path.Combine(fixture.ReadOnlyVolume, "new")));
    }

    [Fact]
    public async Task Run_TwoContainers_ReachEachOtherOn127001()
    {
        // Arrange: a detached server in one container.
        await using var server = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Entrypoint = "/bin/sh",
            Arguments = ["-c", "echo pong | nc -l -p 7000"],
            Detach = true,
        }).WaitAsync(Timeout);

        // Act: a client in another, retrying until the server listens.
        var (stdout, exit) = await RunToEndAsync(new ContainerOptions(fixture.Image)
        {
            Entrypoint = "/bin/sh",
            Arguments = ["-c", "for i in $(seq 100); do nc 127.0.0.1 7000 </dev/null && exit 0; sleep 0.1; done; exit 1"],
        });

        // Assert
        Assert.Equal(0, exit.ShellExitCode);
        Assert.Equal("pong\n", stdout);
        Assert.Equal(0, (await server.WaitAsync().WaitAsync(Timeout)).ShellExitCode);
    }

    [Fact]
    public async Task Run_MissingExecutable_NotFoundAndTheCliExits127()
    {
        var error = await Assert.ThrowsAsync<CocoonException>(() => fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image) { Entrypoint = "/no/such/program" }));
        var cli = await fixture.Environment.CocoonAsync("run", "--box", "ctr", "--entrypoint", "nosuchprogram", fixture.Image);

        Assert.Equal(CocoonErrorCode.NotFound, error.Code);
        Assert.Equal(127, cli.ExitCode);
        Assert.Contains("'nosuchprogram' not found", cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_IntoRunningContainer_RunsInItsNamespaces()
    {
        // Arrange
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Name = "execd",
            Entrypoint = "/bin/sh",
            Arguments = ["-c", "echo ready > /tmp/mark; sleep 600"],
            Detach = true,
        }).WaitAsync(Timeout);

        // Act: poll for the mark the main process wrote in its own root.
        BoxRunResult result;
        var deadline = DateTime.UtcNow + Timeout;
        do
        {
            result = await container.RunAsync(["sh", "-c", "cat /tmp/mark && hostname && echo $FROM_IMAGE"]).WaitAsync(Timeout);
        }
        while (result.ExitCode != 0 && DateTime.UtcNow < deadline);

        // Assert
        Assert.Equal("ready\nexecd\n1\n", result.Stdout);
        var listed = Assert.Single(await fixture.Box.ListContainersAsync(), c => c.Name == "execd");
        Assert.True(listed.IsRunning);
    }

    [Fact]
    public async Task Exec_ContainerWhoseInitExitedBeforeCrun_RefusedAndListedWithItsExit()
    {
        // Arrange: hold crun stopped and kill the container's init, which stays a zombie: the window
        // between the init's exit and crun's that an exec right after `run -d IMAGE true` falls in.
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Name = "exiting",
            Entrypoint = "/bin/sleep",
            Arguments = ["600"],
            Detach = true,
        }).WaitAsync(Timeout);
        const string Hold =
            "init=$(grep -o '\"pid\" *: *[0-9]*' /run/crun/exiting/status | grep -o '[0-9]*$') && crun=$(cut -d' ' -f4 /proc/$init/stat) && " +
            "kill -STOP $crun && echo $crun && kill -KILL $init && until grep -q ') Z ' /proc/$init/stat; do sleep 0.05; done";
        var held = await fixture.Box.RunAsync(["sh", "-c", Hold]).WaitAsync(Timeout);
        CocoonException exec;
        Task<IReadOnlyList<ContainerStatus>> listing;
        try
        {
            Assert.Equal(0, held.ExitCode);

            // Act: the list is asked while crun is still held, and answered once it has exited.
            exec = await Assert.ThrowsAsync<CocoonException>(() => container.RunAsync(["true"]).WaitAsync(Timeout));
            listing = fixture.Box.ListContainersAsync();
        }
        finally
        {
            await fixture.Box.RunAsync(["kill", "-CONT", held.Stdout.Trim()]).WaitAsync(Timeout);
        }

        var listed = Assert.Single(await listing.WaitAsync(Timeout), c => c.Name == "exiting");

        // Assert
        Assert.Equal(CocoonErrorCode.InvalidState, exec.Code);
        Assert.Contains("'exiting' is not running", exec.Message, StringComparison.Ordinal);
        Assert.Equal(137, listed.Exit?.ShellExitCode);
    }

    [Fact]
    public async Task Run_CrunRunsFromTheAgentsReadOnlyCopy_NotACloneOfItself()
    {
        // crun clones itself (a memfd, or a bind mount under /tmp) before it starts unless it already
        // runs from a read-only file system: its running process must show the agent's copy.
        const string Script =
            "grep ' /run/cocoon/crun ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1; " +
            "for p in /proc/[0-9]*; do readlink $p/exe; done | grep crun | sort -u; " +
            "(echo x >> /run/cocoon/crun/crun) 2>/dev/null && echo copy=writable || echo copy=refused";
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Entrypoint = "/bin/sleep",
            Arguments = ["600"],
            Detach = true,
        }).WaitAsync(Timeout);

        var result = await fixture.Box.RunAsync(["sh", "-c", Script]).WaitAsync(Timeout);

        Assert.Equal("ramfs ro\n/run/cocoon/crun/crun\ncopy=refused\n", result.Stdout);
    }

    [Fact]
    public async Task Exec_TtyResizedAfterItStarted_TheProcessSeesTheNewSize()
    {
        // crun relays a container's terminal to one of its own and copies the size only at start:
        // a resize of a running exec must still reach the terminal the process has.
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Entrypoint = "/bin/sleep",
            Arguments = ["600"],
            Detach = true,
        }).WaitAsync(Timeout);
        await using var session = await container.ExecAsync(new ExecRequest(["sh", "-c", "echo started; read line; stty size"]) { Tty = true }).WaitAsync(Timeout);
        var output = new System.Text.StringBuilder();
        var buffer = new byte[4096];

        async Task ReadUntilAsync(string text)
        {
            while (!output.ToString().Contains(text, StringComparison.Ordinal))
            {
                var read = await session.Stdout.ReadAsync(buffer).AsTask().WaitAsync(Timeout);
                Assert.True(read > 0, $"output ended before '{text}': {output}");
                output.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
            }
        }

        await ReadUntilAsync("started");
        await session.ResizeAsync(new TerminalSize(37, 91));
        await session.WriteStdinAsync("go\n"u8.ToArray());
        await ReadUntilAsync("\n37 91");
        var exit = await session.Exit.WaitAsync(Timeout);

        Assert.Equal(0, exit.ShellExitCode);
    }

    [Fact]
    public async Task Kill_RunningContainer_WaitReportsTheSignal()
    {
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Entrypoint = "/bin/sleep",
            Arguments = ["600"],
            Detach = true,
        }).WaitAsync(Timeout);

        await container.KillAsync(9);
        var exit = await container.WaitAsync().WaitAsync(Timeout);

        Assert.Equal(137, exit.ShellExitCode);
    }

    [Fact]
    public async Task Cli_ExecGuest_RunsBesideTheContainersNotInOne()
    {
        await using var running = await StartDetachedAsync("beside-guest", "sleep 600", "true");

        // The guest sees crun's state of every container; a container sees none of it.
        var guest = await fixture.Environment.CocoonAsync("exec", "--guest", "ctr", "ls", "/run/crun");
        var inContainer = await fixture.Environment.CocoonAsync("exec", "ctr", "ls", "/run/crun");

        Assert.True(guest.ExitCode == 0, guest.Stderr);
        Assert.Contains("beside-guest", guest.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, inContainer.ExitCode);
    }

    [Fact]
    public async Task Cli_Ps_RunningContainersAndWithAllTheExitedOnes()
    {
        await using var running = await StartDetachedAsync("listed-running", "sleep 600", "true");
        await using var exited = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Name = "listed-exited",
            Entrypoint = "/bin/true",
            Detach = true,
        }).WaitAsync(Timeout);
        await exited.WaitAsync().WaitAsync(Timeout);

        var ps = await fixture.Environment.CocoonAsync("ps", "ctr");
        var all = await fixture.Environment.CocoonAsync("ps", "-a", "ctr");

        Assert.True(ps.ExitCode == 0, ps.Stderr);
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Contains("listed-running", ps.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("listed-exited", ps.Stdout, StringComparison.Ordinal);
        Assert.Contains("listed-running", all.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"listed-exited .*exited \(0\)", all.Stdout);
    }

    [Fact]
    public async Task Cli_LogsContainer_ItsOutputWholeTailedAndFollowedToItsEnd()
    {
        // Arrange: a container that wrote and exited.
        await using var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Name = "talker",
            Entrypoint = "/bin/sh",
            Arguments = ["-c", "echo one; echo two >&2"],
            Detach = true,
        }).WaitAsync(Timeout);
        await container.WaitAsync().WaitAsync(Timeout);

        // Act
        var all = await fixture.Environment.CocoonAsync("logs", "-c", "talker", "ctr");
        var last = await fixture.Environment.CocoonAsync("logs", "--container", "talker", "--tail", "1", "ctr");
        var followed = await fixture.Environment.CocoonAsync("logs", "-f", "-c", "talker", "ctr");
        var missing = await fixture.Environment.CocoonAsync("logs", "-c", "nobody", "ctr");

        // Assert
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Equal("one\ntwo\n", all.Stdout);
        Assert.Equal("two\n", last.Stdout);
        Assert.Equal("one\ntwo\n", followed.Stdout);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("no container named 'nobody'", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_RunBoxNotRunning_ClearErrorAndNothingCreated()
    {
        // Arrange: a box of the image that exists but is not started.
        var create = await fixture.Environment.CocoonAsync("create", "--name", "idle", "--image", fixture.Image);
        Assert.True(create.ExitCode == 0, create.Stderr);

        // Act
        var run = await fixture.Environment.CocoonAsync("run", "--box", "idle", fixture.Image, "true");

        // Assert
        Assert.Equal(125, run.ExitCode);
        Assert.Contains("box 'idle' is not running", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("created", (await fixture.Environment.InspectAsync("idle")).GetProperty("state").GetString());
        Assert.Equal(0, (await fixture.Environment.CocoonAsync("rm", "idle")).ExitCode);
    }

    [Fact]
    public async Task Cli_CreateThenStart_RunsTheBoxsContainerOnEveryStartKeepingItsLayer()
    {
        // Arrange: docker create's flags; the image's ENTRYPOINT (/bin/echo) alone would exit at once.
        var environment = fixture.Environment;
        var create = await environment.CocoonAsync("create", "--name", "svc", "--image", fixture.Image, "-e", "GREETING=hi", "--entrypoint", "/bin/sh", "--cmd", "-c", "--cmd", "exec sleep 600");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            // Act: start, write into the container, stop, start again.
            var first = await StartAndDescribeAsync(environment, "svc");
            var write = await environment.CocoonAsync("exec", "svc", "sh", "-c", "echo kept > /etc/kept.txt");
            Assert.Equal(0, (await environment.CocoonAsync("stop", "-t", "1", "svc")).ExitCode);
            var second = await StartAndDescribeAsync(environment, "svc");
            var read = await environment.CocoonAsync("exec", "svc", "cat", "/etc/kept.txt");

            // Assert: each start ran the container named after the box, with the flags' command and environment,
            // on the writable layer the last start left (as docker start).
            Assert.True(write.ExitCode == 0, write.Stderr);
            Assert.True(read.ExitCode == 0, read.Stderr);
            Assert.Equal("kept\n", read.Stdout);
            foreach (var (ps, greeting) in new[] { first, second })
            {
                Assert.Matches(@"(?m)^svc\s+svc\s+\S+\s+/bin/sh -c exec sleep 600\s", ps);
                Assert.Equal("GREETING=hi", greeting);
            }
        }
        finally
        {
            Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "svc")).ExitCode);
        }
    }

    [Fact]
    public async Task Cli_RunDetachedThenRestart_TheSameCommandRunsAgain()
    {
        // Arrange
        var environment = fixture.Environment;
        var run = await environment.CocoonAsync(
            "run", "-d", "--name", "again", "-e", "GREETING=hello", "-w", "/bin", "-u", "1000:1000", "--entrypoint", "/bin/sh", fixture.Image, "-c", "exec sleep 600");
        Assert.True(run.ExitCode == 0, run.Stderr);
        try
        {
            // Act
            Assert.Equal(0, (await environment.CocoonAsync("stop", "-t", "1", "again")).ExitCode);
            var restarted = await StartAndDescribeAsync(environment, "again", user: "1000:1000");
            var process = await environment.CocoonAsync("exec", "-u", "1000:1000", "again", "sh", "-c", "readlink /proc/1/cwd && grep ^Uid: /proc/1/status");

            // Assert: what run was given, not the image's ENTRYPOINT, CMD, working directory and user.
            Assert.Matches(@"(?m)^again\s+again\s+\S+\s+/bin/sh -c exec sleep 600\s", restarted.Ps);
            Assert.Equal("GREETING=hello", restarted.Greeting);
            Assert.True(process.ExitCode == 0, process.Stderr);
            Assert.Matches(@"^/bin\nUid:\s+1000\s", process.Stdout);
        }
        finally
        {
            Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "again")).ExitCode);
        }
    }

    [Fact]
    public async Task Cli_StartWhoseContainerCannotRun_ErrorAndTheBoxIsStopped()
    {
        // Arrange
        var environment = fixture.Environment;
        var create = await environment.CocoonAsync("create", "--name", "broken", "--image", fixture.Image, "--entrypoint", "nosuchprogram");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            // Act
            var start = await environment.CocoonAsync("start", "broken");

            // Assert
            Assert.NotEqual(0, start.ExitCode);
            Assert.Contains("'nosuchprogram' not found", start.Stderr, StringComparison.Ordinal);
            Assert.Equal("stopped", (await environment.InspectAsync("broken")).GetProperty("state").GetString());
        }
        finally
        {
            Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "broken")).ExitCode);
        }
    }

    [Fact]
    public async Task Cli_CreateWhoseContainerCannotBeMade_RefusedAndNoBoxCreated()
    {
        var environment = fixture.Environment;

        var noCommand = await environment.CocoonAsync("create", "--name", "nocmd", "--image", fixture.Image, "--entrypoint", "");
        var unreachable = await environment.CocoonAsync("create", "--name", "nocmd", "--image", "127.0.0.1:1/absent:1");
        var list = await environment.CocoonAsync("ls");

        Assert.Equal(2, noCommand.ExitCode);
        Assert.Contains("no ENTRYPOINT or CMD and none was given", noCommand.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, unreachable.ExitCode);
        Assert.Contains("127.0.0.1:1", unreachable.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("nocmd", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_RunImageRm_ExitStatusIsTheContainersAndNoBoxIsLeft()
    {
        var run = await fixture.Environment.CocoonAsync("run", "--rm", "--name", "once", "--entrypoint", "/bin/sh", fixture.Image, "-c", "echo out; exit 3");

        Assert.True(run.ExitCode == 3, run.Stderr);
        Assert.Equal("out\n", run.Stdout);
        Assert.False(Directory.Exists(Path.Combine(fixture.Environment.StateRoot, "boxes", "once")));
    }

    [Fact]
    public async Task Copy_ToAndFromRunningContainer_ItsFileSystemNeverTheBoxs()
    {
        // Arrange: a running container holding a link to its own root, as a hostile image could.
        await using var container = await StartDetachedAsync("files", "mkdir /jail && busybox ln -s / /jail/trap && echo made > /tmp/made.txt && sleep 600", "test -e /tmp/made.txt");
        var host = Directory.CreateTempSubdirectory("ctr-cp-").FullName;
        try
        {
            var file = Path.Combine(host, "in.txt");
            File.WriteAllText(file, "from the host\n");

            // Act: SDK both ways through the link, the CLI with and without naming the container.
            await fixture.Box.CopyToAsync(file, "/jail/trap/srv/", "files").WaitAsync(Timeout);
            await fixture.Box.CopyFromAsync("/tmp/made.txt", Path.Combine(host, "sdk.txt"), "files").WaitAsync(Timeout);
            var byDefault = await fixture.Environment.CocoonAsync("cp", "ctr:/tmp/made.txt", Path.Combine(host, "cli.txt"));
            var named = await fixture.Environment.CocoonAsync("cp", "-c", "files", file, "ctr:/tmp/named.txt");
            var unknown = await fixture.Environment.CocoonAsync("cp", "-c", "nobody", file, "ctr:/tmp/x.txt");
            var inContainer = await container.RunAsync(["cat", "/srv/in.txt", "/tmp/named.txt"]).WaitAsync(Timeout);
            var inBox = await fixture.Box.RunAsync(["sh", "-c", "ls /srv/in.txt /tmp/named.txt 2>/dev/null; echo listed"]).WaitAsync(Timeout);

            // Assert
            Assert.Equal("from the host\nfrom the host\n", inContainer.Stdout);
            Assert.Equal("listed\n", inBox.Stdout);
            Assert.Equal("made\n", File.ReadAllText(Path.Combine(host, "sdk.txt")));
            Assert.True(byDefault.ExitCode == 0, byDefault.Stderr);
            Assert.Equal("made\n", File.ReadAllText(Path.Combine(host, "cli.txt")));
            Assert.True(named.ExitCode == 0, named.Stderr);
            Assert.NotEqual(0, unknown.ExitCode);
            Assert.Contains("no container 'nobody' runs in this box", unknown.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(host, recursive: true);
        }
    }

    [Fact]
    public async Task Copy_IntoContainer_FrozenWhileTheArchiveFlowsThawedAfter()
    {
        // Arrange: an archive that stops after its first entry until the test has looked.
        await using var container = await StartDetachedAsync("still", "sleep 600", "true");
        using var archive = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(archive, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var name in new[] { "first.txt", "second.txt" })
            {
                writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) });
            }
        }

        var gated = new GatedStream(archive.ToArray(), pauseAt: 1024);
        const string Freeze = "cat /sys/fs/cgroup/cocoon/still/cgroup.freeze";

        // Act
        var copy = fixture.Box.CopyToAsync(gated, "/tmp", "still");
        await gated.Paused.WaitAsync(Timeout);
        var during = await fixture.Box.RunAsync(["sh", "-c", Freeze]).WaitAsync(Timeout);
        gated.Resume();
        await copy.WaitAsync(Timeout);
        var after = await fixture.Box.RunAsync(["sh", "-c", Freeze]).WaitAsync(Timeout);
        var copied = await container.RunAsync(["cat", "/tmp/first.txt", "/tmp/second.txt"]).WaitAsync(Timeout);

        // Assert
        Assert.Equal("1\n", during.Stdout);
        Assert.Equal("0\n", after.Stdout);
        Assert.Equal("xx", copied.Stdout);
    }

    [Fact]
    public async Task Dial_IntoRunningContainer_ReachesItsListenerAndUnknownOneRefused()
    {
        // Arrange: a container serving one line on 7070.
        await using var container = await StartDetachedAsync("served", "while true; do echo from the container | nc -l -p 7070; done", "busybox netstat -ltn | grep -q ':7070 '");

        // Act
        string line;
        await using (var stream = await fixture.Box.DialAsync("tcp", 7070, container: "served").WaitAsync(Timeout))
        {
            line = await new StreamReader(stream).ReadLineAsync().WaitAsync(Timeout) ?? string.Empty;
        }

        var unknown = await Assert.ThrowsAsync<StreamException>(() => fixture.Box.DialAsync("tcp", 7070, container: "nobody").WaitAsync(Timeout));

        // Assert
        Assert.Equal("from the container", line);
        Assert.Equal(StreamStatusCode.UnknownContainer, unknown.Status);
    }

    /// <summary>Starts box <paramref name="name"/> with the CLI, then reads its containers as cocoon ps lists them and its main process's GREETING.</summary>
    /// <summary>Starts the box, then reads its ps line and its container's GREETING (as <paramref name="user"/>: another user may not read the environment).</summary>
    private static async Task<(string Ps, string Greeting)> StartAndDescribeAsync(BoxTestEnvironment environment, string name, string user = "0")
    {
        var start = await environment.CocoonAsync("start", name);
        Assert.True(start.ExitCode == 0, start.Stderr);
        var ps = await environment.CocoonAsync("ps", name);
        Assert.True(ps.ExitCode == 0, ps.Stderr);
        var greeting = await environment.CocoonAsync("exec", "-u", user, name, "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ | grep ^GREETING=");
        Assert.True(greeting.ExitCode == 0, greeting.Stderr);
        return (ps.Stdout, greeting.Stdout.Trim());
    }

    /// <summary>Starts a detached container running <paramref name="script"/> and waits until <paramref name="ready"/> succeeds in it.</summary>
    private async Task<Container> StartDetachedAsync(string name, string script, string ready)
    {
        var container = await fixture.Box.RunContainerAsync(new ContainerOptions(fixture.Image)
        {
            Name = name,
            Entrypoint = "/bin/sh",
            Arguments = ["-c", script],
            Detach = true,
        }).WaitAsync(Timeout);
        try
        {
            var deadline = DateTime.UtcNow + Timeout;
            while ((await container.RunAsync(["sh", "-c", ready]).WaitAsync(Timeout)).ExitCode != 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"'{ready}' never held in container {name}");
                await Task.Delay(200);
            }

            return container;
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }
    }

    private Task<(string Stdout, ExecExit Exit)> RunToEndAsync(ContainerOptions options) => fixture.RunToEndAsync(options, Timeout);
}

/// <summary>A read-only stream of <c>bytes</c> that stops at <c>pauseAt</c> until <see cref="Resume"/>.</summary>
internal sealed class GatedStream(byte[] bytes, int pauseAt) : Stream
{
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    /// <summary>Completes when a read reached the pause point.</summary>
    public Task Paused => _paused.Task;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => bytes.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public void Resume() => _resumed.TrySetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position == pauseAt)
        {
            _paused.TrySetResult();
            await _resumed.Task.WaitAsync(cancellationToken);
        }

        var end = _position < pauseAt ? pauseAt : bytes.Length;
        var count = Math.Min(buffer.Length, end - _position);
        bytes.AsMemory(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
