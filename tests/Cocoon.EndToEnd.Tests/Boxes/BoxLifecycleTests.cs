// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>Fresh real boxes through the published CLI: run, stop/start, crashes, failed starts.</summary>
public sealed class BoxLifecycleTests
{
    [Fact]
    public async Task Run_EchoWithRm_PrintsOutputAndLeavesNothing()
    {
        await using var environment = new BoxTestEnvironment();

        var result = await environment.CocoonAsync("run", "--rm", "--", "echo", "hello");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("hello\n", result.Stdout);
        var list = await environment.CocoonAsync("ls");
        Assert.Single(list.Stdout.Trim().Split('\n'));
        Assert.DoesNotContain("box-", environment.CidsText(), StringComparison.Ordinal);
        Assert.Empty(environment.LeftoverProcesses());
    }

    [Fact]
    public async Task Run_CommandExitCode_IsCocoonsExitCode()
    {
        await using var environment = new BoxTestEnvironment();

        var result = await environment.CocoonAsync("run", "--rm", "--name", "codes", "--", "sh", "-c", "exit 42");

        Assert.Equal(42, result.ExitCode);
    }

    [Fact]
    public async Task Run_KeptBox_LogsShowsTheCommandsOutputAfterItStopped()
    {
        await using var environment = new BoxTestEnvironment();

        var run = await environment.CocoonAsync("run", "--name", "chatty", "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2");
        var logs = await environment.CocoonAsync("logs", "chatty");
        // The last three lines: both of the command's (in either order) and the agent's power-off.
        var followed = await environment.CocoonAsync("logs", "-f", "--tail", "3", "chatty");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(logs.ExitCode == 0, logs.Stderr);
        Assert.Contains("to-stdout\n", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains("to-stderr\n", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains("cocoon-agent: warn", logs.Stdout, StringComparison.Ordinal);
        Assert.True(followed.ExitCode == 0, followed.Stderr);
        Assert.Contains("to-stdout\n", followed.Stdout, StringComparison.Ordinal);
        Assert.Contains("to-stderr\n", followed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Start_RunningBox_EveryFileInItsDirectoryIsOwnerOnly()
    {
        await using var environment = new BoxTestEnvironment();
        var create = await environment.CocoonAsync("create", "--name", "sealed");
        Assert.True(create.ExitCode == 0, create.Stderr);

        var start = await environment.CocoonAsync("start", "sealed");

        // box.json, the logs QEMU and the agent write, the sockets: no group or other bits (DESIGN §3 rule 6).
        Assert.True(start.ExitCode == 0, start.Stderr);
        var directory = Path.Combine(environment.StateRoot, "boxes", "sealed");
        var open = Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
            .Where(path => new FileInfo(path).LinkTarget is null)
            .Select(path => (Path: Path.GetRelativePath(directory, path), Mode: File.GetUnixFileMode(path)))
            .Where(entry => (entry.Mode & (UnixFileMode)0x3F) != 0)
            .Select(entry => $"{entry.Path} {Convert.ToString((int)entry.Mode, 8)}")
            .ToList();
        Assert.Contains("console.log", Directory.EnumerateFiles(directory).Select(Path.GetFileName));
        Assert.Empty(open);
        Assert.Equal(0, (await environment.CocoonAsync("rm", "-f", "sealed")).ExitCode);
    }

    [Fact]
    public async Task StopThenStart_BoxRunsAgain()
    {
        await using var environment = new BoxTestEnvironment();
        Assert.Equal(0, (await environment.CocoonAsync("create", "--name", "again")).ExitCode);

        var first = await environment.CocoonAsync("start", "again");
        Assert.True(first.ExitCode == 0, first.Stderr);
        // -t 600: stop escalates to SIGTERM only after 600 s, far past the command timeout (120 s),
        // so a stop that returns means the supervisor ended by itself; one that hangs fails here.
        var stop = await environment.CocoonAsync("stop", "-t", "600", "again");
        Assert.True(stop.ExitCode == 0, stop.Stderr);
        var stopped = await environment.InspectAsync("again");
        var second = await environment.CocoonAsync("start", "again");
        var exec = await environment.CocoonAsync("exec", "again", "echo", "back");

        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal("stopped", stopped.GetProperty("stop_reason").GetString());
        Assert.True(second.ExitCode == 0, second.Stderr);
        // The TCG fallback is said on the terminal once (this host's KVM decides whether at all).
        var underTcg = environment.ReadRecord("again").GetProperty("accelerator").GetString() == "tcg";
        Assert.Equal(underTcg, first.Stderr.Contains("warning: KVM cannot run guests on this host", StringComparison.Ordinal));
        Assert.DoesNotContain("KVM", second.Stderr, StringComparison.Ordinal);
        Assert.Equal("back\n", exec.Stdout);
        Assert.Equal("running", (await environment.InspectAsync("again")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task GuestPowersOff_StateSaysExitNotStopped()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "off");
        Assert.Equal(0, (await environment.CocoonAsync("start", "off")).ExitCode);

        // The exec may end either way: the VM goes away under it.
        await environment.CocoonAsync("exec", "off", "poweroff", "-f");
        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("off").GetProperty("state").GetString() == "stopped");
        var inspected = await environment.InspectAsync("off");

        Assert.Equal("exit", inspected.GetProperty("stop_reason").GetString());
        Assert.False(inspected.TryGetProperty("stop_requested_at", out _));
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task SupervisorKilled_StateSaysStoppedAndRmFreesTheCid()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "orphan");
        Assert.Equal(0, (await environment.CocoonAsync("start", "orphan")).ExitCode);
        var record = environment.ReadRecord("orphan");
        var supervisor = record.GetProperty("pid").GetInt32();

        System.Diagnostics.Process.GetProcessById(supervisor).Kill();
        await BoxTestEnvironment.WaitUntilAsync(() => ProcessRunner.ReadStat(supervisor) is null or { State: 'Z' });
        var inspected = await environment.InspectAsync("orphan");
        var rm = await environment.CocoonAsync("rm", "orphan");

        Assert.Equal("stopped", inspected.GetProperty("state").GetString());
        Assert.Equal("supervisor died", inspected.GetProperty("stop_reason").GetString());
        Assert.True(rm.ExitCode == 0, rm.Stderr);
        Assert.DoesNotContain("orphan", environment.CidsText(), StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task QemuKilled_StateSaysCrashedAndRmFreesTheCid()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "crash");
        Assert.Equal(0, (await environment.CocoonAsync("start", "crash")).ExitCode);
        var qemu = (await environment.InspectAsync("crash")).GetProperty("vmm_pid").GetInt32();
        var running = environment.CocoonAsync("exec", "crash", "sh", "-c", "touch /tmp/started; sleep 600");
        var started = await environment.CocoonAsync("exec", "crash", "sh", "-c", "while [ ! -e /tmp/started ]; do sleep 0.1; done");

        System.Diagnostics.Process.GetProcessById(qemu).Kill();
        var interrupted = await running;
        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("crash").GetProperty("state").GetString() == "stopped");
        var inspected = await environment.InspectAsync("crash");
        var rm = await environment.CocoonAsync("rm", "crash");

        Assert.Equal(0, started.ExitCode);
        Assert.Equal(125, interrupted.ExitCode);
        Assert.Equal("error: box 'crash' stopped while the command ran\n", interrupted.Stderr);
        Assert.StartsWith("crash", inspected.GetProperty("stop_reason").GetString(), StringComparison.Ordinal);
        Assert.True(rm.ExitCode == 0, rm.Stderr);
        Assert.DoesNotContain("crash", environment.CidsText(), StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task RmForce_RunningBox_StopsAndRemovesIt()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "doomed");
        Assert.Equal(0, (await environment.CocoonAsync("start", "doomed")).ExitCode);

        var refused = await environment.CocoonAsync("rm", "doomed");
        var forced = await environment.CocoonAsync("rm", "-f", "doomed");

        Assert.Equal(5, refused.ExitCode);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.DoesNotContain("doomed", environment.CidsText(), StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task Run_AgentNeverAnswers_FailsWithConsoleTailAndLeavesNothing()
    {
        await using var environment = new BoxTestEnvironment();
        // busybox as /init runs busybox init: the guest boots but nothing serves vsock.
        environment.Environment["COCOON_AGENT_PATH"] = "/bin/busybox";
        environment.Environment["COCOON_START_TIMEOUT"] = "15";

        var result = await environment.CocoonAsync("run", "--name", "mute", "--", "echo", "hello");

        Assert.Equal(125, result.ExitCode);
        Assert.Contains("did not answer", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--- console", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(environment.StateRoot, "boxes", "mute")));
        Assert.DoesNotContain("mute", environment.CidsText(), StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task StopWithZeroTimeout_RunningBox_StoppedWithoutLeftovers()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "hasty");
        Assert.Equal(0, (await environment.CocoonAsync("start", "hasty")).ExitCode);

        var negative = await environment.CocoonAsync("stop", "-t", "-1", "hasty");
        var stop = await environment.CocoonAsync("stop", "-t", "0", "hasty");
        var inspected = await environment.InspectAsync("hasty");

        Assert.Equal(2, negative.ExitCode);
        Assert.Contains("--time", negative.Stderr, StringComparison.Ordinal);
        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Equal("stopped", inspected.GetProperty("state").GetString());
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task MemoryHog_SmallBox_KilledByTheOomKillerSaidBySdkAndCli()
    {
        await using var environment = new BoxTestEnvironment();
        var runtime = environment.CreateRuntime();
        // 128 MiB (the least that boots) holds the kernel and the initramfs with some 60 MiB to spare.
        // awk keeps 1 MiB strings until the guest runs out: small allocations, so malloc never fails
        // first (one 100 MiB buffer would be refused as an obvious overcommit), and awk is the biggest
        // process, so the OOM killer picks it.
        await using var box = await runtime.CreateBoxAsync(new BoxOptions("hog").WithMemory(128)).WaitAsync(BoxTestEnvironment.CommandTimeout);
        string[] hog = ["awk", "BEGIN { s = \"x\"; for (j = 0; j < 20; j++) s = s s; for (i = 0; ; i++) a[i] = s i }"];

        var sdk = await box.RunAsync(hog).WaitAsync(BoxTestEnvironment.CommandTimeout);
        var cli = await environment.CocoonAsync(["exec", "hog", .. hog]);
        var fits = await box.RunAsync(["dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=1"]).WaitAsync(BoxTestEnvironment.CommandTimeout);

        Assert.True(sdk.Exit.OomKilled, $"{sdk.Exit.Describe()}: {sdk.Stderr}");
        Assert.Equal(137, sdk.Exit.ShellExitCode);
        Assert.StartsWith("killed by the out-of-memory killer", sdk.Exit.Describe(), StringComparison.Ordinal);
        Assert.Equal(137, cli.ExitCode);
        Assert.Contains("killed by the out-of-memory killer", cli.Stderr, StringComparison.Ordinal);
        Assert.False(fits.Exit.OomKilled);
        Assert.Equal(0, fits.Exit.ShellExitCode);
    }

    [Fact]
    public async Task DisposeBox_Owned_StopsAndRemovesIt_WhileAHandleLeavesItRunning()
    {
        await using var environment = new BoxTestEnvironment();
        var runtime = environment.CreateRuntime();
        var owned = await runtime.CreateBoxAsync(new BoxOptions("owned")).WaitAsync(BoxTestEnvironment.CommandTimeout);
        await using (var handle = runtime.GetBox("owned"))
        {
            Assert.Equal("via handle\n", (await handle.RunAsync(["echo", "via handle"]).WaitAsync(BoxTestEnvironment.CommandTimeout)).Stdout);
        }

        var afterHandle = await environment.InspectAsync("owned");

        await owned.DisposeAsync().AsTask().WaitAsync(BoxTestEnvironment.CommandTimeout);

        Assert.Equal("running", afterHandle.GetProperty("state").GetString());
        Assert.False(Directory.Exists(Path.Combine(environment.StateRoot, "boxes", "owned")));
        Assert.DoesNotContain("owned", environment.CidsText(), StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    [Fact]
    public async Task Stop_ProcessTrappingTerm_FinishesItsCleanupWithinTheTimeout()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "graceful");
        Assert.Equal(0, (await environment.CocoonAsync("start", "graceful")).ExitCode);
        // A daemon that needs 3 s to clean up after SIGTERM and says so on the console when done.
        const string Daemon = "trap 'sleep 3; echo cleanup-finished > /dev/console; exit 0' TERM; touch /tmp/ready; while :; do sleep 1; done";
        var launch = await environment.CocoonAsync(
            "exec", "graceful", "sh", "-c", $"setsid sh -c \"{Daemon}\" </dev/null >/dev/null 2>&1 & while [ ! -e /tmp/ready ]; do sleep 1; done");
        Assert.True(launch.ExitCode == 0, launch.Stderr);

        var stop = await environment.CocoonAsync("stop", "-t", "10", "graceful");

        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Equal("stopped", (await environment.InspectAsync("graceful")).GetProperty("stop_reason").GetString());
        Assert.Contains("cleanup-finished", File.ReadAllText(Path.Combine(environment.StateRoot, "boxes", "graceful", "console.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TwiceAtOnce_OneBootsTheOtherSaysAlreadyRunning()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "racy");

        var starts = await Task.WhenAll(environment.CocoonAsync("start", "racy"), environment.CocoonAsync("start", "racy"));
        var exec = await environment.CocoonAsync("exec", "racy", "echo", "one");

        Assert.Single(starts, s => s.ExitCode == 0);
        var loser = Assert.Single(starts, s => s.ExitCode != 0);
        Assert.Equal(5, loser.ExitCode);
        Assert.Contains("already running", loser.Stderr, StringComparison.Ordinal);
        Assert.Equal("one\n", exec.Stdout);
        Assert.Single(environment.LeftoverProcesses(), pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("qemu", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_SupervisorDiesDuringBoot_ReportsItWithBootDiagnostics()
    {
        await using var environment = new BoxTestEnvironment();
        // busybox as /init: the guest boots but never answers, so the start is still waiting when the supervisor dies.
        environment.Environment["COCOON_AGENT_PATH"] = "/bin/busybox";
        await environment.CocoonAsync("create", "--name", "fragile");

        var start = environment.CocoonAsync("start", "fragile");
        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("fragile").TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number);
        System.Diagnostics.Process.GetProcessById(environment.ReadRecord("fragile").GetProperty("pid").GetInt32()).Kill();
        var result = await start;

        Assert.Equal(9, result.ExitCode);
        Assert.Contains("stopped before its agent answered", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--- console", result.Stderr, StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }
}
