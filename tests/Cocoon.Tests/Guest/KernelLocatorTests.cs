// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest.Tests;

public sealed class KernelLocatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-kernel-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void FindDefault_SeveralCloudKernels_NewestWithModules()
    {
        // Arrange
        var boot = Directory.CreateDirectory(Path.Combine(_root, "boot")).FullName;
        var modules = Path.Combine(_root, "modules");
        foreach (var version in new[] { "6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64", "6.1.0-60-cloud-amd64" })
        {
            File.WriteAllText(Path.Combine(boot, "vmlinuz-" + version), "k");
        }

        foreach (var version in new[] { "6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64" })
        {
            Directory.CreateDirectory(Path.Combine(modules, version));
            File.WriteAllText(Path.Combine(modules, version, "modules.dep"), "");
        }

        // Act
        var kernel = KernelLocator.FindDefault(boot, modules);

        // Assert
        Assert.Equal("6.1.0-56-cloud-amd64", kernel.Version);
        Assert.Equal(Path.Combine(boot, "vmlinuz-6.1.0-56-cloud-amd64"), kernel.KernelPath);
        Assert.Equal("/lib/modules/6.1.0-56-cloud-amd64", kernel.GuestModulesDirectory);
    }

    [Fact]
    public void FindDefault_NoKernel_NotFoundWithInstallHint()
    {
        var ex = Assert.Throws<CocoonException>(() => KernelLocator.FindDefault(_root, _root));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Contains("apt-get install linux-image-cloud-amd64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromPath_NameWithoutVersion_InvalidArgument()
    {
        var path = Path.Combine(_root, "bzImage");
        File.WriteAllText(path, "k");

        var ex = Assert.Throws<CocoonException>(() => KernelLocator.FromPath(path));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void FromPath_ExplicitModulesDirectory_VersionFromDirectory()
    {
        var path = Path.Combine(_root, "bzImage");
        File.WriteAllText(path, "k");
        var modules = Directory.CreateDirectory(Path.Combine(_root, "6.9.1-custom")).FullName;
        File.WriteAllText(Path.Combine(modules, "modules.dep"), "");

        var kernel = KernelLocator.FromPath(path, modules);

        Assert.Equal("6.9.1-custom", kernel.Version);
    }

    [Theory]
    [InlineData("6.1.0-56-cloud-amd64", "6.1.0-9-cloud-amd64", 1)]
    [InlineData("6.10.0-1-cloud-amd64", "6.9.0-1-cloud-amd64", 1)]
    [InlineData("6.1.0-56-cloud-amd64", "6.1.0-56-cloud-amd64", 0)]
    public void KernelVersionComparer_NumericParts_ComparedAsNumbers(string x, string y, int sign)
    {
        Assert.Equal(sign, Math.Sign(KernelVersionComparer.Instance.Compare(x, y)));
        Assert.Equal(-sign, Math.Sign(KernelVersionComparer.Instance.Compare(y, x)));
    }
}
