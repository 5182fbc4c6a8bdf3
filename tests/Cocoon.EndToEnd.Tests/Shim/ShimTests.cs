// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;

namespace Cocoon.EndToEnd.Tests.Shim;

/// <summary>containerd runs tasks in Cocoon boxes through <c>containerd-shim-cocoon-v1</c> (DESIGN §6c).</summary>
public sealed class ShimTests(ContainerdFixture containerd) : IClassFixture<ContainerdFixture>
{
    [Fact]
    public async Task CtrRunRm_Echo_PrintsOutputAndLeavesNothing()
    {
        var result = await containerd.CtrAsync("run", "--rm", "--runtime", ContainerdFixture.Runtime, containerd.Image, "echo-task", "echo", "hi from a box");

        Assert.True(result.ExitCode == 0, $"ctr run: {result.Stdout} {result.Stderr}\n{containerd.ContainerdLog}");
        Assert.Equal("hi from a box\n", result.Stdout.Replace("\r", "", StringComparison.Ordinal));
        Assert.Empty(containerd.ShimProcesses());
        Assert.Empty((await containerd.CtrAsync("tasks", "ls", "-q")).Stdout.Trim());
        Assert.Empty(containerd.Cocoon.LeftoverProcesses());
    }

    [Fact]
    public async Task CtrRunRm_ExitCode_PassesThrough()
    {
        var result = await containerd.CtrAsync("run", "--rm", "--runtime", ContainerdFixture.Runtime, containerd.Image, "exit-task", "sh", "-c", "echo out; echo err >&2; exit 7");

        Assert.True(result.ExitCode == 7, $"ctr run exited {result.ExitCode}: {result.Stdout} {result.Stderr}");
        Assert.Equal("out\n", result.Stdout);
        Assert.Contains("err", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DetachedTask_ExecKillLsDelete_WorkAndLeaveNothing()
    {
        var run = await containerd.CtrAsync("run", "-d", "--runtime", ContainerdFixture.Runtime, containerd.Image, "svc", "sleep", "300");
        Assert.True(run.ExitCode == 0, $"ctr run -d: {run.Stdout} {run.Stderr}");
        try
        {
            var running = await containerd.CtrAsync("tasks", "ls");
            Assert.Matches(@"svc\s+\d+\s+RUNNING", running.Stdout);

            var exec = await containerd.CtrAsync("tasks", "exec", "--exec-id", "e1", "svc", "sh", "-c", "echo from exec; exit 4");
            Assert.True(exec.ExitCode == 4, $"ctr task exec exited {exec.ExitCode}: {exec.Stdout} {exec.Stderr}");
            Assert.Equal("from exec\n", exec.Stdout);

            // sleep is the container's PID 1, which ignores SIGTERM: SIGKILL ends it.
            var kill = await containerd.CtrAsync("tasks", "kill", "-s", "SIGKILL", "svc");
            Assert.True(kill.ExitCode == 0, $"ctr task kill: {kill.Stderr}");
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.CtrAsync("tasks", "ls").Result.Stdout.Contains("STOPPED", StringComparison.Ordinal));

            var delete = await containerd.CtrAsync("tasks", "delete", "svc");
            Assert.True(delete.ExitCode == 0, $"ctr task delete: {delete.Stderr}");
            Assert.Empty((await containerd.CtrAsync("tasks", "ls", "-q")).Stdout.Trim());
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.ShimProcesses().Count == 0);
            Assert.Empty(containerd.Cocoon.LeftoverProcesses());
        }
        finally
        {
            await containerd.CtrAsync("containers", "delete", "svc");
        }
    }

    [Fact]
    public async Task PodOfTwoContainers_GroupedBySandboxId_ShareOneBoxAndReachEachOtherOnLoopback()
    {
        // ctr sets the annotation CRI puts on a pod's containers; both name the sandbox "pod-a".
        string[] pod = ["--runtime", ContainerdFixture.Runtime, "--annotation", "io.kubernetes.cri.sandbox-id=pod-a"];
        var sandbox = await containerd.CtrAsync(["run", "-d", .. pod, containerd.Image, "pod-a", "nc", "-l", "-p", "7000", "-e", "echo", "pong from pod-a"]);
        Assert.True(sandbox.ExitCode == 0, $"ctr run -d (sandbox): {sandbox.Stdout} {sandbox.Stderr}\n{containerd.ContainerdLog}");
        try
        {
            var shims = containerd.ShimProcesses();

            // The server may still be starting: the client dials until it answers; a client in a box of its own is refused every time.
            var client = await containerd.CtrAsync(["run", "--rm", .. pod, containerd.Image, "pod-a-client", "sh", "-c",
                "for i in $(seq 100); do nc 127.0.0.1 7000 </dev/null && exit 0; sleep 0.1; done; exit 1"]);

            Assert.True(client.ExitCode == 0, $"ctr run (client) exited {client.ExitCode}: {client.Stdout} {client.Stderr}");
            Assert.Equal("pong from pod-a\n", client.Stdout);
            Assert.Equal(shims, containerd.ShimProcesses());
            Assert.Single(containerd.Cocoon.CreateRuntime().ListBoxes());
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.CtrAsync("tasks", "ls").Result.Stdout.Contains("STOPPED", StringComparison.Ordinal));
            var delete = await containerd.CtrAsync("tasks", "delete", "pod-a");
            Assert.True(delete.ExitCode == 0, $"ctr task delete: {delete.Stderr}");
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.ShimProcesses().Count == 0);
            Assert.Empty(containerd.Cocoon.CreateRuntime().ListBoxes());
            Assert.Empty(containerd.Cocoon.LeftoverProcesses());
        }
        finally
        {
            await containerd.CtrAsync("tasks", "kill", "-s", "SIGKILL", "pod-a");
            await containerd.CtrAsync("tasks", "delete", "-f", "pod-a");
            await containerd.CtrAsync("containers", "delete", "pod-a");
        }
    }

    [Fact]
    public async Task DetachedTask_MetricsFromItsCgroupAndKillAllReachesEveryProcess()
    {
        // sh is the container's PID 1 and has no TERM handler, so a TERM to it alone is ignored; its
        // child sleep is not PID 1 and dies of one, which ends sh's wait.
        var run = await containerd.CtrAsync("run", "-d", "--runtime", ContainerdFixture.Runtime, containerd.Image, "metered", "sh", "-c", "sleep 300 & wait");
        Assert.True(run.ExitCode == 0, $"ctr run -d: {run.Stdout} {run.Stderr}");
        try
        {
            // sh and, once sh forked it, sleep.
            await BoxTestEnvironment.WaitUntilAsync(() => Metric(containerd.CtrAsync("tasks", "metrics", "metered").Result.Stdout, "pids.current") == 2);
            var metrics = await containerd.CtrAsync("tasks", "metrics", "metered");

            Assert.True(metrics.ExitCode == 0, $"ctr task metrics: {metrics.Stdout} {metrics.Stderr}");
            Assert.True(Metric(metrics.Stdout, "cpu.usage_usec") > 0, metrics.Stdout);
            Assert.True(Metric(metrics.Stdout, "memory.usage") > 0, metrics.Stdout);
            Assert.True(Metric(metrics.Stdout, "memory.usage_limit") >= Metric(metrics.Stdout, "memory.usage"), metrics.Stdout);

            var kill = await containerd.CtrAsync("tasks", "kill", "--all", "-s", "SIGTERM", "metered");
            Assert.True(kill.ExitCode == 0, $"ctr task kill --all: {kill.Stderr}");
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.CtrAsync("tasks", "ls").Result.Stdout.Contains("STOPPED", StringComparison.Ordinal));
        }
        finally
        {
            await containerd.CtrAsync("tasks", "kill", "-s", "SIGKILL", "metered");
            await containerd.CtrAsync("tasks", "delete", "-f", "metered");
            await containerd.CtrAsync("containers", "delete", "metered");
        }
    }

    [Fact]
    public async Task TtyExec_TerminalSizeOfCtr_ReachesTheProcessThroughResizePty()
    {
        var run = await containerd.CtrAsync("run", "-d", "--runtime", ContainerdFixture.Runtime, containerd.Image, "tty-host", "sleep", "300");
        Assert.True(run.ExitCode == 0, $"ctr run -d: {run.Stdout} {run.Stderr}");
        try
        {
            // ctr sends its terminal's size (ResizePty) after Start (Debian's 1.6.20; other versions send it
            // between Exec and Start, and the exec then starts with it). A resize of the running exec must
            // reach the terminal crun gave the process, so the exec waits for the size.
            var exec = await containerd.CtrInTerminalAsync(37, 91, "tasks", "exec", "-t", "--exec-id", "tty1", "tty-host", "sh", "-c",
                "for i in $(seq 100); do [ \"$(stty size)\" = '37 91' ] && break; sleep 0.1; done; stty size; tty");

            Assert.True(exec.ExitCode == 0, $"ctr task exec -t exited {exec.ExitCode}: {exec.Stdout} {exec.Stderr}\n{containerd.ContainerdLog}");
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(exec.Stdout, @"37 91\r*\n/dev/pts/\d+"), $"ctr task exec -t printed '{exec.Stdout}', not the size 37 91 and a pty\n{containerd.ContainerdLog}");
        }
        finally
        {
            await containerd.CtrAsync("tasks", "kill", "-s", "SIGKILL", "tty-host");
            await containerd.CtrAsync("tasks", "delete", "-f", "tty-host");
            await containerd.CtrAsync("containers", "delete", "tty-host");
        }
    }

    /// <summary>One row of <c>ctr task metrics</c>' table ("NAME  VALUE").</summary>
    private static ulong Metric(string table, string name)
    {
        var match = System.Text.RegularExpressions.Regex.Match(table, $@"^{System.Text.RegularExpressions.Regex.Escape(name)}\s+(\d+)\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(match.Success, $"no {name} row in:\n{table}");
        return ulong.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
