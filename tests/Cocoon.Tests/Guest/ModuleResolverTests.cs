// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest.Tests;

public sealed class ModuleResolverTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-modules-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Resolve_SharedDependencies_DependenciesFirstWithoutDuplicates()
    {
        // Arrange
        File.WriteAllLines(Path.Combine(_root, "modules.dep"),
        [
            "kernel/a/core.ko:",
            "kernel/a/ring.ko: kernel/a/core.ko",
            "kernel/b/vsock-transport.ko: kernel/b/vsock.ko kernel/a/ring.ko kernel/a/core.ko",
            "kernel/b/vsock.ko:",
            "kernel/c/mmio.ko: kernel/a/ring.ko kernel/a/core.ko",
        ]);
        var resolver = new ModuleResolver(_root);

        // Act
        var modules = resolver.Resolve(["vsock_transport", "mmio", "vsock"]);

        // Assert
        var names = modules.Select(m => m.Name).ToList();
        Assert.Equal(names.Distinct(), names);
        Assert.Equal(5, names.Count);
        Assert.True(names.IndexOf("core") < names.IndexOf("ring"));
        Assert.True(names.IndexOf("ring") < names.IndexOf("vsock_transport"));
        Assert.True(names.IndexOf("vsock") < names.IndexOf("vsock_transport"));
        Assert.True(names.IndexOf("ring") < names.IndexOf("mmio"));
        Assert.Equal("kernel/b/vsock-transport.ko", modules.Single(m => m.Name == "vsock_transport").RelativePath);
    }

    [Fact]
    public void Resolve_MissingModule_NotFoundNamingIt()
    {
        File.WriteAllLines(Path.Combine(_root, "modules.dep"), ["kernel/a.ko:"]);
        var resolver = new ModuleResolver(_root);

        var ex = Assert.Throws<CocoonException>(() => resolver.Resolve(["nosuch"]));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Contains("'nosuch'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_BuiltinModule_Satisfied()
    {
        File.WriteAllLines(Path.Combine(_root, "modules.dep"), ["kernel/a.ko:"]);
        File.WriteAllLines(Path.Combine(_root, "modules.builtin"), ["kernel/fs/ext4/ext4.ko"]);
        var resolver = new ModuleResolver(_root);

        var modules = resolver.Resolve(["ext4", "a"]);

        Assert.Equal(["a"], modules.Select(m => m.Name));
        Assert.True(resolver.IsBuiltin("ext4"));
    }

    [Fact]
    public void Resolve_CompressedModule_Unsupported()
    {
        File.WriteAllLines(Path.Combine(_root, "modules.dep"), ["kernel/a.ko.zst:"]);
        var resolver = new ModuleResolver(_root);

        var ex = Assert.Throws<CocoonException>(() => resolver.Resolve(["a"]));

        Assert.Equal(CocoonErrorCode.Unsupported, ex.Code);
    }

    [Fact]
    public void Resolve_RealKernelVsock_TransportAfterItsDependencies()
    {
        var kernel = KernelLocator.FindDefault();
        var resolver = new ModuleResolver(kernel.ModulesDirectory);

        var names = resolver.Resolve(["vmw_vsock_virtio_transport", "virtio_mmio", "overlay", "ext4"]).Select(m => m.Name).ToList();

        Assert.Equal(["overlay", "virtio", "virtio_mmio", "virtio_ring", "vmw_vsock_virtio_transport", "vmw_vsock_virtio_transport_common", "vsock"], names.Order(StringComparer.Ordinal));
        Assert.True(names.IndexOf("virtio_ring") < names.IndexOf("virtio"));
        Assert.True(names.IndexOf("vsock") < names.IndexOf("vmw_vsock_virtio_transport_common"));
        Assert.True(names.IndexOf("vmw_vsock_virtio_transport_common") < names.IndexOf("vmw_vsock_virtio_transport"));
        Assert.True(names.IndexOf("virtio") < names.IndexOf("virtio_mmio"));
    }
}
