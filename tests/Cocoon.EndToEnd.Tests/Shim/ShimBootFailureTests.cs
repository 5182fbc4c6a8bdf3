// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;

namespace Cocoon.EndToEnd.Tests.Shim;

/// <summary>A box that cannot boot fails containerd's Create with what its console said.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ShimBootFailureTests
{
    [Fact]
    public async Task Create_GuestInitExits_FailsWithTheConsoleTailAndLeavesNothing()
    {
        // A real boot that fails: the guest kernel runs this script as /init, it exits, and the kernel panics.
        var agent = Path.Combine(Directory.CreateTempSubdirectory("bad-agent-").FullName, "cocoon-agent");
        await File.WriteAllTextAsync(agent, "#!/bin/sh\necho this init gives up\nexit 3\n");
        File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var containerd = new ContainerdFixture(new Dictionary<string, string> { ["COCOON_AGENT_PATH"] = agent });
        await containerd.InitializeAsync();
        try
        {
            var run = await containerd.CtrAsync("run", "--rm", "--runtime", ContainerdFixture.Runtime, containerd.Image, "doomed", "true");

            Assert.True(run.ExitCode != 0, $"ctr run succeeded: {run.Stdout}");
            Assert.Contains("stopped before its agent answered", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("--- console", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("Kernel Offset", run.Stderr, StringComparison.Ordinal);
            Assert.Empty((await containerd.CtrAsync("tasks", "ls", "-q")).Stdout.Trim());
            await BoxTestEnvironment.WaitUntilAsync(() => containerd.ShimProcesses().Count == 0);
            Assert.Empty(containerd.Cocoon.CreateRuntime().ListBoxes());
            Assert.Empty(containerd.Cocoon.LeftoverProcesses());
        }
        finally
        {
            await containerd.DisposeAsync();
            Directory.Delete(Path.GetDirectoryName(agent)!, recursive: true);
        }
    }
}
