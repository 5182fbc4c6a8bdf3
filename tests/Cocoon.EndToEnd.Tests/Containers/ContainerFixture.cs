// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Containers;

/// <summary>
/// The box of <see cref="ContainerTests"/>: a busybox image with ENTRYPOINT <c>/bin/echo ep</c>, CMD
/// <c>cmd</c> and a user <c>app</c>, with a read-write volume at /data and a read-only one at /ro.
/// </summary>
public sealed class ContainerFixture : ImageBoxFixture
{
    /// <summary>The host directory of the box's read-write volume at /data.</summary>
    public string DataVolume => Path.Combine(Directory, "data");

    /// <summary>The host directory of the box's read-only volume at /ro.</summary>
    public string ReadOnlyVolume => Path.Combine(Directory, "ro");

    protected override IReadOnlyList<string> ImageConfig =>
    [
        "--config.entrypoint", "/bin/echo", "--config.entrypoint", "ep", "--config.cmd", "cmd",
        "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--config.env", "FROM_IMAGE=1", "--config.workingdir", "/srv",
    ];

    protected override BoxOptions BoxOptionsFor(string image)
    {
        System.IO.Directory.CreateDirectory(DataVolume);
        System.IO.Directory.CreateDirectory(ReadOnlyVolume);
        File.WriteAllText(Path.Combine(ReadOnlyVolume, "host.txt"), "from the host\n");
        return new BoxOptions("ctr").WithImage(image).WithVolume(DataVolume, "/data").WithVolume(ReadOnlyVolume, "/ro", readOnly: true);
    }
}
