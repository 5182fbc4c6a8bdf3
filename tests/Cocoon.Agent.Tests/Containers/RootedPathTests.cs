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
}
