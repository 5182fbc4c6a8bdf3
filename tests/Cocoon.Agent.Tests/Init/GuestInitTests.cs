// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Agent.Init;

namespace Cocoon.Agent.Tests.Init;

[SupportedOSPlatform("linux")]
public sealed class GuestInitTests : IDisposable
{
    private readonly string _sysBlock = Directory.CreateTempSubdirectory("cocoon-sysblock-").FullName;

    public void Dispose() => Directory.Delete(_sysBlock, recursive: true);

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

    private void AddDisk(string name, string serial)
    {
        Directory.CreateDirectory(Path.Combine(_sysBlock, name));
        File.WriteAllText(Path.Combine(_sysBlock, name, "serial"), serial);
    }
}
