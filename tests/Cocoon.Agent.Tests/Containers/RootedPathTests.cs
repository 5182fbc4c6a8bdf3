// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Containers;

namespace Cocoon.Agent.Tests.Containers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RootedPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-rooted-").FullName;

    public RootedPathTests()
    {
        // An image with a merged /usr: /bin -> usr/bin, sh -> /bin/busybox (absolute, so inside the root).
        Directory.CreateDirectory(Path.Combine(_root, "usr", "bin"));
        File.WriteAllText(Path.Combine(_root, "usr", "bin", "busybox"), "");
        File.CreateSymbolicLink(Path.Combine(_root, "bin"), "usr/bin");
        File.CreateSymbolicLink(Path.Combine(_root, "usr", "bin", "sh"), "/bin/busybox");
        File.CreateSymbolicLink(Path.Combine(_root, "usr", "bin", "escape"), "../../../../../../etc/passwd");
        File.CreateSymbolicLink(Path.Combine(_root, "usr", "bin", "loop"), "loop");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("sh", "/bin/sh")]
    [InlineData("/bin/sh", "/bin/sh")]
    [InlineData("busybox", "/bin/busybox")]
    [InlineData("../usr/bin/sh", "/srv/../usr/bin/sh")]
    public void FindExecutable_LinksFollowedInsideTheRoot_Found(string program, string expected)
    {
        Assert.Equal(expected, RootedPath.FindExecutable(_root, program, "/sbin:/bin", "/srv"));
    }

    [Theory]
    [InlineData("nosuch")]
    [InlineData("/usr/bin")]
    [InlineData("escape")]
    [InlineData("loop")]
    public void FindExecutable_MissingDirectoryEscapingOrLooping_Null(string program)
    {
        Assert.Null(RootedPath.FindExecutable(_root, program, "/bin", "/"));
    }

    [Theory]
    [InlineData("/usr/bin/sh", false, "/usr/bin/sh")]
    [InlineData("/bin/sh", false, "/usr/bin/sh")]
    [InlineData("/bin/new.txt", true, "/usr/bin/new.txt")]
    [InlineData("/bin", false, "/bin")]
    [InlineData("/bin", true, "/usr/bin")]
    [InlineData("/bin/", false, "/usr/bin/")]
    [InlineData("/bin/.", false, "/usr/bin/.")]
    [InlineData("/usr/bin/sh", true, "/usr/bin/sh")]
    [InlineData("/", true, "")]
    [InlineData("/.", false, "/.")]
    [InlineData("/usr/bin/../../bin/busybox", false, "/usr/bin/busybox")]
    public void ForCopy_DirectoriesResolvedInsideTheRoot_FinalLinkOnlyWhenEntered(string path, bool into, string expected)
    {
        Assert.Equal(_root + expected, RootedPath.ForCopy(_root, path, into));
    }

    [Fact]
    public void ForCopy_AbsoluteLinksOnTheWay_StayInsideTheRoot()
    {
        // /jail/trap -> / in the container: a copy to /jail/trap/etc/x lands in the container's /etc,
        // and a copy into /jail/trap itself lands in the container's root, never the box's.
        Directory.CreateDirectory(Path.Combine(_root, "jail"));
        File.CreateSymbolicLink(Path.Combine(_root, "jail", "trap"), "/");

        Assert.Equal(_root + "/etc/x", RootedPath.ForCopy(_root, "/jail/trap/etc/x", into: true));
        Assert.Equal(_root, RootedPath.ForCopy(_root, "/jail/trap", into: true));
        Assert.Equal(_root + "/", RootedPath.ForCopy(_root, "/jail/trap/", into: false));
        Assert.Equal(_root + "/etc/passwd/x", RootedPath.ForCopy(_root, "/usr/bin/escape/x", into: true));
    }

    [Fact]
    public void ForCopy_LoopOnTheWay_Null()
    {
        Assert.Null(RootedPath.ForCopy(_root, "/usr/bin/loop/x", into: true));
        Assert.Null(RootedPath.ForCopy(_root, "/usr/bin/loop", into: true));
    }
}
