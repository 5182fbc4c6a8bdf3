// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Files;

/// <summary>Host directories shared into one real box over virtio-fs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VolumeTests(VolumeFixture fixture) : IClassFixture<VolumeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Box Box => fixture.Box;

    [Fact]
    public async Task ReadWriteVolume_GuestWrites_AppearOnHost()
    {
        var result = await Box.RunAsync(["sh", "-c", "mkdir -p /data/sub && echo from the guest > /data/sub/g.txt && chmod 640 /data/sub/g.txt"]).WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var file = Path.Combine(fixture.ReadWrite, "sub", "g.txt");
        Assert.Equal("from the guest\n", File.ReadAllText(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task ReadWriteVolume_HostWrites_SeenInGuest()
    {
        File.WriteAllText(Path.Combine(fixture.ReadWrite, "h.txt"), "from the host\n");

        var result = await Box.RunAsync(["cat", "/data/h.txt"]).WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("from the host\n", result.Stdout);
    }

    [Fact]
    public async Task ReadOnlyVolume_Readable_WritesRefused()
    {
        var read = await Box.RunAsync(["cat", "/ro/given.txt"]).WaitAsync(Timeout);
        var write = await Box.RunAsync(["sh", "-c", "echo x > /ro/new.txt"]).WaitAsync(Timeout);

        Assert.Equal("from the host\n", read.Stdout);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", write.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(fixture.ReadOnly, "new.txt")));
    }

    [Fact]
    public async Task ReadOnlyVolume_GuestRootRemountsReadWrite_HostStillRefuses()
    {
        // The guest is untrusted: its root can undo its own ro mount, so the host enforces ro too.
        var result = await Box.RunAsync(["sh", "-c", "mount -o remount,rw /run/volumes/cocoon-vol-1 && echo x > /run/volumes/cocoon-vol-1/sneaky.txt"]).WaitAsync(Timeout);

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(File.Exists(Path.Combine(fixture.ReadOnly, "sneaky.txt")));
    }

    [Fact]
    public async Task Volumes_EachShare_ReadsAheadFourMiB()
    {
        // The agent raises each share's read-ahead from the kernel's 128 KiB (GuestInit.VolumeReadAheadKiB):
        // the share's device, from mountinfo, names its entry under /sys/class/bdi.
        var result = await Box.RunAsync(["sh", "-c",
            "for m in /data /ro; do d=$(awk -v m=$m '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo); echo $m $(cat /sys/class/bdi/$d/read_ahead_kb); done"])
            .WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("/data 4096\n/ro 4096\n", result.Stdout);
    }

    [Fact]
    public void Volumes_RunningBox_OneVirtiofsdTreePerVolume()
    {
        var boxDirectory = Path.Combine(fixture.Environment.StateRoot, "boxes", Box.Name);

        Assert.NotEmpty(VolumeFixture.VirtiofsdPids(Path.Combine(boxDirectory, "fs0.sock")));
        Assert.NotEmpty(VolumeFixture.VirtiofsdPids(Path.Combine(boxDirectory, "fs1.sock")));
    }
}
