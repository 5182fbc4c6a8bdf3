// Copyright (c) Cocoon contributors. Licensed under the MIT License.

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
}
