// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;

namespace Cocoon.Guest.Tests;

public sealed class InitramfsBuilderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-initramfs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Build_NestedPaths_ParentsFirstAndSorted()
    {
        // Arrange
        var builder = new InitramfsBuilder()
            .AddText("/usr/share/x/y.txt", "y")
            .AddText("/init", "#!/bin/sh\n", InitramfsBuilder.ExecutableMode)
            .AddSymlink("/usr/bin/sh", "/bin/busybox");
        var output = Path.Combine(_root, "out.cpio");

        // Act
        builder.Build(output);

        // Assert
        var entries = CpioReader.Read(File.ReadAllBytes(output));
        Assert.Equal(["init", "usr", "usr/bin", "usr/bin/sh", "usr/share", "usr/share/x", "usr/share/x/y.txt"], entries.Select(e => e.Name));
        Assert.Equal(0x81EDu, entries[0].Mode);
        Assert.Equal(0x41EDu, entries[1].Mode);
    }

    [Fact]
    public void ComputeHash_SameInputsAnyOrder_SameHash()
    {
        var a = new InitramfsBuilder().AddText("/a", "1").AddText("/b", "2");
        var b = new InitramfsBuilder().AddText("/b", "2").AddText("/a", "1");

        Assert.Equal(a.ComputeHash(), b.ComputeHash());
    }

    [Fact]
    public void ComputeHash_ModeOrContentChanges_HashChanges()
    {
        var file = Path.Combine(_root, "f");
        File.WriteAllText(file, "one");
        var first = new InitramfsBuilder().AddFile(file, "/f").ComputeHash();
        var executable = new InitramfsBuilder().AddFile(file, "/f", InitramfsBuilder.ExecutableMode).ComputeHash();
        File.WriteAllText(file, "two");
        var changed = new InitramfsBuilder().AddFile(file, "/f").ComputeHash();

        Assert.NotEqual(first, executable);
        Assert.NotEqual(first, changed);
    }

    [Fact]
    public void Add_SamePathDifferentContent_AlreadyExists()
    {
        var builder = new InitramfsBuilder().AddText("/etc/x", "1");

        var ex = Assert.Throws<CocoonException>(() => builder.AddText("/etc/x", "2"));

        Assert.Equal(CocoonErrorCode.AlreadyExists, ex.Code);
    }

    [Fact]
    public void Add_SamePathSameContent_Accepted()
    {
        var builder = new InitramfsBuilder().AddText("/etc/x", "1").AddText("/etc/x", "1");

        Assert.Contains("/etc/x", builder.Paths);
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("/")]
    [InlineData("/a/../b")]
    public void Add_BadGuestPath_InvalidArgument(string path)
    {
        var ex = Assert.Throws<CocoonException>(() => new InitramfsBuilder().AddText(path, "x"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void AddBusybox_ExplicitFileOverApplet_FileWins()
    {
        var script = Path.Combine(_root, "sh");
        File.WriteAllText(script, "#!x");

        var builder = new InitramfsBuilder().AddBusybox().AddFile(script, "/bin/sh", InitramfsBuilder.ExecutableMode);
        var output = Path.Combine(_root, "bb.cpio");
        builder.Build(output);

        var entries = CpioReader.Read(File.ReadAllBytes(output));
        Assert.Equal("#!x", Encoding.UTF8.GetString(entries.Single(e => e.Name == "bin/sh").Data));
        Assert.Equal("/bin/busybox", Encoding.UTF8.GetString(entries.Single(e => e.Name == "bin/mount").Data));
        Assert.True(entries.Single(e => e.Name == "bin/busybox").Data.Length > 100_000);
    }

    [Fact]
    public void AddBusybox_Without_ThoseAppletsHaveNoLink()
    {
        var builder = new InitramfsBuilder().AddBusybox(without: ["/sbin/modprobe"]);

        Assert.DoesNotContain("/sbin/modprobe", builder.Paths);
        Assert.Contains("/sbin/insmod", builder.Paths);
    }

    [Fact]
    public void AddExecutable_DynamicBinary_AddsLoaderAndLibc()
    {
        var builder = new InitramfsBuilder().AddExecutable("/usr/bin/socat", "/bin/socat");

        Assert.Contains("/bin/socat", builder.Paths);
        Assert.Contains("/lib64/ld-linux-x86-64.so.2", builder.Paths);
        Assert.Contains(builder.Paths, p => p.EndsWith("/libc.so.6", StringComparison.Ordinal));
    }

    [Fact]
    public void AddModules_RealKernel_ReturnsGuestPathsInLoadOrder()
    {
        var kernel = KernelLocator.FindDefault();
        var builder = new InitramfsBuilder();

        var paths = builder.AddModules(kernel, ["vmw_vsock_virtio_transport"]);

        Assert.EndsWith("/vmw_vsock_virtio_transport.ko", paths[^1], StringComparison.Ordinal);
        Assert.All(paths, p => Assert.StartsWith(kernel.GuestModulesDirectory + "/kernel/", p, StringComparison.Ordinal));
        Assert.All(paths, p => Assert.Contains(p, builder.Paths));
    }
}
