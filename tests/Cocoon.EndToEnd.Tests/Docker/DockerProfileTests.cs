// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Docker;

/// <summary>
/// The Docker profile seen from inside a container of a <c>--support-docker</c> box: what a Docker
/// daemon needs (every capability, writable /proc/sys and /sys, a delegated cgroup2 it can nest
/// cgroups with controllers in, the Docker module set, an ext4 /var/lib/docker). The default profile's
/// side of the same checks is <c>ContainerTests.Run_DefaultProfile_CapBndMasksAndReadOnlyCgroupSeenInside</c>.
/// </summary>
public sealed class DockerProfileTests(DockerProfileFixture fixture) : IClassFixture<DockerProfileFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Run_DockerProfile_AllCapabilitiesNothingMaskedWritableProcSysAndSys()
    {
        const string Script =
            "grep CapBnd /proc/self/status; " +
            "echo masked=$(grep -c -e ' /proc/kcore ' -e ' /proc/keys ' -e ' /proc/sys ' /proc/mounts); " +
            "(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo procsys=rw || echo procsys=ro; " +
            "grep -c ' /sys sysfs rw,' /proc/mounts; " +
            "grep -c ' /var/lib/docker ext4 rw,' /proc/mounts";

        var stdout = await RunToEndAsync(Script);

        Assert.Equal("CapBnd:\t000001ffffffffff\nmasked=0\nprocsys=rw\n1\n1\n", stdout);
    }

    [Fact]
    public async Task Run_DockerProfile_CgroupDelegatedSoChildCgroupsGetControllers()
    {
        const string Script =
            "cat /proc/self/cgroup; " +
            "grep -c ' /sys/fs/cgroup cgroup2 rw,' /proc/mounts; " +
            "mkdir /sys/fs/cgroup/child && echo $$ > /sys/fs/cgroup/child/cgroup.procs && echo moved; " +
            "echo subtree: $(cat /sys/fs/cgroup/cgroup.subtree_control)";

        var stdout = await RunToEndAsync(Script);

        Assert.StartsWith("0::/init\n1\nmoved\nsubtree: ", stdout, StringComparison.Ordinal);
        Assert.Contains(" pids", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DockerProfile_DockerModuleSetLoaded()
    {
        var stdout = await RunToEndAsync("for m in bridge br_netfilter veth nf_nat xt_MASQUERADE nft_compat; do grep -c \"^$m \" /proc/modules; done");

        Assert.Equal("1\n1\n1\n1\n1\n1\n", stdout);
    }

    private async Task<string> RunToEndAsync(string script) =>
        (await fixture.RunToEndAsync(new ContainerOptions(fixture.Image) { Arguments = ["-c", script] }, Timeout)).Stdout;
}
