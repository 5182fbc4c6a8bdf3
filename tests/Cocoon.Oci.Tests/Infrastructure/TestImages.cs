// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.Tests.Infrastructure;

/// <summary>The test images and the trees they must render to.</summary>
public static class TestImages
{
    /// <summary>The machine's static busybox: real executable content for test images.</summary>
    public const string BusyboxPath = "/bin/busybox";

    /// <summary>
    /// Three layers exercising the changeset rules: layer 2 whites out a file and a directory and
    /// makes a directory opaque; layer 3 replaces a file and turns a directory into a symlink.
    /// </summary>
    public static IReadOnlyList<byte[]> MultiLayer()
    {
        var busybox = File.ReadAllBytes(BusyboxPath);
        var base1 = new TarBuilder()
            .Directory("bin")
            .Add(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0b111_101_101, DataStream = new MemoryStream(busybox) })
            .HardLink("bin/sh", "bin/busybox")
            .Directory("etc")
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
            .File("etc/old.conf", "old")
            .Directory("etc/old.d").File("etc/old.d/a.conf", "a")
            .Directory("var/lib/app").File("var/lib/app/lower1", "1").Directory("var/lib/app/sub").File("var/lib/app/sub/lower2", "2")
            .Directory("usr/lib").File("usr/lib/libbase.so", "base")
            .Symlink("lib", "usr/lib")
            .Directory("home/user", (UnixFileMode)0b111_000_000, uid: 1000, gid: 1000)
            .File("home/user/.profile", "export PS1=x", (UnixFileMode)0b110_000_000, uid: 1000, gid: 1000)
            .CharDevice("dev/null", 1, 3)
            .Directory("data")
            .Build();
        var changes2 = new TarBuilder()
            .Whiteout("etc", "old.conf")
            .Whiteout("etc", "old.d")
            .Directory("var/lib/app")
            .Opaque("var/lib/app")
            .File("var/lib/app/fresh", "fresh")
            .File("usr/lib/libnew.so", "new")
            .File("etc/new.conf", "new")
            .Build();
        var changes3 = new TarBuilder()
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
            .Whiteout(string.Empty, "data")
            .Symlink("data", "/var/lib/app")
            .Build();
        return [base1, changes2, changes3];
    }

    /// <summary>What <see cref="MultiLayer"/> must render to: every path, symlinks with their targets.</summary>
    public static readonly string[] MultiLayerTree =
    [
        "bin", "bin/busybox", "bin/sh", "data -> /var/lib/app", "dev", "dev/null", "etc", "etc/new.conf", "etc/passwd",
        "home", "home/user", "home/user/.profile", "lib -> usr/lib", "usr", "usr/lib", "usr/lib/libbase.so", "usr/lib/libnew.so",
        "var", "var/lib", "var/lib/app", "var/lib/app/fresh",
    ];
}
