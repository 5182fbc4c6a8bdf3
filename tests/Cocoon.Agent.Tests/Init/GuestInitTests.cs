// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Agent.Init;
using Cocoon.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Agent.Tests.Init;

[SupportedOSPlatform("linux")]
public sealed class GuestInitTests : IDisposable
{
    private readonly string _sysBlock = Directory.CreateTempSubdirectory("cocoon-sysblock-").FullName;

    public void Dispose() => Directory.Delete(_sysBlock, recursive: true);

    [Theory]
    [InlineData("ext4", false, "noinit_itable")]
    [InlineData("ext4", true, null)]
    [InlineData("erofs", true, null)]
    public void WritableExt4Options_OnlyTheWritableExt4DiskSkipsInodeTableZeroing(string fsType, bool readOnly, string? expected)
    {
        var disk = new BootDisk { Serial = "cocoon-scratch", MountPoint = "/run/scratch", FsType = fsType, ReadOnly = readOnly };

        Assert.Equal(expected, GuestInit.WritableExt4Options(disk));
    }

    [Fact]
    public void FindDiskBySerial_TwoDisksAnyOrder_MatchesTheSerial()
    {
        // Arrange: a fake /sys/block with the scratch disk probed first.
        AddDisk("vda", "cocoon-scratch\n");
        AddDisk("vdb", "cocoon-image\n");
        Directory.CreateDirectory(Path.Combine(_sysBlock, "loop0"));

        // Act / Assert
        Assert.Equal("/dev/vdb", GuestInit.FindDiskBySerial(_sysBlock, "cocoon-image"));
        Assert.Equal("/dev/vda", GuestInit.FindDiskBySerial(_sysBlock, "cocoon-scratch"));
        Assert.Null(GuestInit.FindDiskBySerial(_sysBlock, "cocoon-other"));
    }

    [Fact]
    public void SetReadAhead_MountedShare_WritesItsBdiReadAhead()
    {
        // Arrange: mountinfo with the share (major:minor 0:27) below an unrelated mount; a fake /sys/class/bdi.
        var mountInfo = Path.Combine(_sysBlock, "mountinfo");
        File.WriteAllLines(mountInfo,
        [
            "22 1 0:21 / / rw,relatime - tmpfs rootfs rw",
            "31 22 0:27 / /run/volumes/cocoon-vol-0 ro,nosuid,nodev,relatime - virtiofs cocoon-vol-0 rw",
            "32 22 0:27 / /data ro,relatime - virtiofs cocoon-vol-0 rw",
        ]);
        var bdi = Directory.CreateDirectory(Path.Combine(_sysBlock, "bdi")).FullName;
        Directory.CreateDirectory(Path.Combine(bdi, "0:21"));
        Directory.CreateDirectory(Path.Combine(bdi, "0:27"));

        // Act
        GuestInit.SetReadAhead("/run/volumes/cocoon-vol-0", mountInfo, bdi, NullLogger.Instance);

        // Assert
        Assert.Equal(GuestInit.VolumeReadAheadKiB.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(bdi, "0:27", "read_ahead_kb")));
        Assert.False(File.Exists(Path.Combine(bdi, "0:21", "read_ahead_kb")));
    }

    [Fact]
    public void SetReadAhead_NotMounted_LeavesEverythingAndDoesNotThrow()
    {
        var mountInfo = Path.Combine(_sysBlock, "mountinfo");
        File.WriteAllLines(mountInfo, ["22 1 0:21 / / rw,relatime - tmpfs rootfs rw"]);
        var bdi = Directory.CreateDirectory(Path.Combine(_sysBlock, "bdi")).FullName;

        GuestInit.SetReadAhead("/run/volumes/cocoon-vol-0", mountInfo, bdi, NullLogger.Instance);

        Assert.Empty(Directory.EnumerateFileSystemEntries(bdi));
    }

    private void AddDisk(string name, string serial)
    {
        Directory.CreateDirectory(Path.Combine(_sysBlock, name));
        File.WriteAllText(Path.Combine(_sysBlock, name, "serial"), serial);
    }
}
