// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Agent.Init;

namespace Cocoon.Agent.Tests.Init;

[SupportedOSPlatform("linux")]
public sealed class RootSwitchTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-rootswitch-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CopyThenDeleteTree_InitramfsLikeTree_CopiesFilesModesAndLinksAndEmptiesSource()
    {
        // Arrange: a small initramfs: an executable, a sticky /tmp, a library link, /dev with a file, the new root inside.
        var source = Path.Combine(_root, "old");
        var target = Path.Combine(source, ".cocoon-root");
        Directory.CreateDirectory(Path.Combine(source, "bin"));
        Directory.CreateDirectory(Path.Combine(source, "tmp"));
        Directory.CreateDirectory(Path.Combine(source, "dev"));
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(source, "init"), "agent");
        File.SetUnixFileMode(Path.Combine(source, "init"), (UnixFileMode)0x1ED); // 0755
        File.SetUnixFileMode(Path.Combine(source, "tmp"), (UnixFileMode)0x3FF); // 01777
        File.CreateSymbolicLink(Path.Combine(source, "bin", "sh"), "/bin/busybox");
        File.WriteAllText(Path.Combine(source, "dev", "console"), "not copied");
        File.WriteAllText(Path.Combine(source, "tmp", "dotnet-diagnostic-1-0-socket"), "not copied");

        // Act
        RootSwitch.CopyTree(source, target, skip: target, emptyDirectories: [Path.Combine(source, "dev"), Path.Combine(source, "tmp")]);
        RootSwitch.DeleteTree(source, skip: target);

        // Assert
        Assert.Equal("agent", File.ReadAllText(Path.Combine(target, "init")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(target, "init")));
        Assert.Equal((UnixFileMode)0x3FF, File.GetUnixFileMode(Path.Combine(target, "tmp")));
        Assert.Equal("/bin/busybox", new FileInfo(Path.Combine(target, "bin", "sh")).LinkTarget);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(target, "dev")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(target, "tmp")));
        Assert.Equal([target], Directory.EnumerateFileSystemEntries(source));
    }
}
