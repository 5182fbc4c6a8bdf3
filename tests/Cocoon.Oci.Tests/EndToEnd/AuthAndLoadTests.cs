// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using Cocoon.Oci.Registry;
using Cocoon.Oci.Tests.Infrastructure;
using Cocoon.State;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.EndToEnd.Tests;

/// <summary>A registry with htpasswd basic auth, credentials from a Docker config.json, and image archives.</summary>
public sealed class AuthAndLoadTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly TempStateRoot _root = new();
    private LocalRegistry _registry = null!;

    private string Layout => Path.Combine(_root.Path, "layout");

    private string Reference => $"{_registry.Host}/private/app:1";

    public async Task InitializeAsync()
    {
        _registry = await LocalRegistry.StartAsync(Path.Combine(_root.Path, "registry"), new NetworkCredential("tester", "s3cret!"));
        await OciLayouts.BuildAsync(Layout, "multi", TestImages.MultiLayer());
        await _registry.PushLayoutAsync(Layout, "multi", "private/app:1");
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Pull_AuthRegistryWithoutCredentials_RefusedNamingLogin()
    {
        using var images = Service(new DockerConfig(Path.Combine(_root.Path, "none", "config.json")));

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync(Reference, null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"cocoon login {_registry.Host}", error.Message, StringComparison.Ordinal);
        Assert.Empty(images.List());
    }

    [Fact]
    public async Task Pull_AuthRegistryWrongPassword_Refused()
    {
        var config = new DockerConfig(Path.Combine(_root.Path, "wrong", "config.json"));
        config.Save(_registry.Host, new NetworkCredential("tester", "guess"));
        using var images = Service(config);

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync(Reference, null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains($"registry {_registry.Host} refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_AuthRegistryWithSavedCredentials_Pulls()
    {
        var config = new DockerConfig(Path.Combine(_root.Path, "docker", "config.json"));
        config.Save(_registry.Host, _registry.Credential!);
        using var images = Service(config);

        var image = await images.PullAsync(Reference, null, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(Reference, image.Reference);
        Assert.Equal("600", (await ProcessRunner.RunAsync("stat", ["-c", "%a", config.FilePath], Timeout)).Stdout.Trim());
        Assert.Equal("tester", config.Find(_registry.Host)!.UserName);
    }

    [Fact]
    public async Task Login_RightAndWrongPassword_OnlyRightOneSaved()
    {
        var configDirectory = Path.Combine(_root.Path, "login");
        Environment.SetEnvironmentVariable("DOCKER_CONFIG", configDirectory);
        try
        {
            var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = Path.Combine(_root.Path, "state") });

            var refused = await Assert.ThrowsAsync<CocoonException>(() => runtime.Images.LoginAsync(_registry.Host, "tester", "nope")).WaitAsync(Timeout);
            Assert.False(File.Exists(Path.Combine(configDirectory, "config.json")));
            var file = await runtime.Images.LoginAsync(_registry.Host, "tester", "s3cret!").WaitAsync(Timeout);
            var image = await runtime.Images.PullAsync(Reference).WaitAsync(Timeout);

            Assert.Contains("refused", refused.Message, StringComparison.Ordinal);
            Assert.Equal(Path.Combine(configDirectory, "config.json"), file);
            Assert.Equal(Reference, image.Reference);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", null);
        }
    }

    [Theory]
    [InlineData("oci-archive")]
    [InlineData("docker-archive")]
    public async Task Load_ArchiveFromSkopeo_SameTreeAsPull(string format)
    {
        var archive = Path.Combine(_root.Path, $"{format}.tar");
        var name = $"localhost/loaded/{format}:1";
        var copy = await ProcessRunner.RunAsync("skopeo", ["copy", "--quiet", $"oci:{Layout}:multi", $"{format}:{archive}:{name}"], Timeout);
        Assert.True(copy.ExitCode == 0, copy.Stderr);
        using var images = Service(new DockerConfig(Path.Combine(_root.Path, "none", "config.json")));

        var loaded = await images.LoadAsync(archive, CancellationToken.None).WaitAsync(Timeout);

        var image = Assert.Single(loaded);
        Assert.Equal(name, image.Reference);
        var dump = Path.Combine(_root.Path, $"dump-{format}");
        await Ext4Image.DumpAsync(images.Store.RootfsPath(image.Digest), dump);
        var tree = Ext4Image.Tree(dump);
        tree.Add("dev/null");
        Assert.Equal(TestImages.MultiLayerTree.Order(StringComparer.Ordinal), tree.Order(StringComparer.Ordinal));
        Assert.Equal([name], images.List().Select(i => i.Reference));
        Assert.Empty(Directory.EnumerateFileSystemEntries(images.Store.TempDirectory));
    }

    [Fact]
    public async Task Load_NotAnImageArchive_RefusedNothingStored()
    {
        var archive = Path.Combine(_root.Path, "plain.tar");
        await File.WriteAllBytesAsync(archive, new TarBuilder().File("hello.txt", "hi").Build());
        using var images = Service(new DockerConfig(Path.Combine(_root.Path, "none", "config.json")));

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.LoadAsync(archive, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains("neither an OCI layout", error.Message, StringComparison.Ordinal);
        Assert.Empty(images.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(images.Store.TempDirectory));
    }

    [Fact]
    public async Task Load_ArchiveWithHostileEntry_Refused()
    {
        var archive = Path.Combine(_root.Path, "hostile.tar");
        await File.WriteAllBytesAsync(archive, new TarBuilder().File("oci-layout", "{}").File("../../escape", "x").Build());
        using var images = Service(new DockerConfig(Path.Combine(_root.Path, "none", "config.json")));

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.LoadAsync(archive, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains("'../../escape'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(images.Store.Directory, "escape")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(images.Store.TempDirectory));
    }

    [Fact]
    public async Task Remove_ImageABoxWasCreatedFrom_RefusedUnlessForced()
    {
        var config = new DockerConfig(Path.Combine(_root.Path, "docker2", "config.json"));
        config.Save(_registry.Host, _registry.Credential!);
        Environment.SetEnvironmentVariable("DOCKER_CONFIG", Path.GetDirectoryName(config.FilePath));
        try
        {
            var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = Path.Combine(_root.Path, "state2") });
            var image = await runtime.Images.PullAsync(Reference).WaitAsync(Timeout);
            runtime.Boxes.Create(new BoxOptions { Name = "user" }.WithImage(Reference).Build());

            var error = Assert.Throws<CocoonException>(() => runtime.Images.Remove(image.Digest));
            Assert.Equal(CocoonErrorCode.InvalidState, error.Code);
            Assert.Contains("used by box user", error.Message, StringComparison.Ordinal);
            Assert.Single(runtime.Images.List());

            runtime.Images.Remove(Reference, force: true);
            Assert.Empty(runtime.Images.List());
        }
        finally
        {
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", null);
        }
    }

    private static ImageService Service(DockerConfig config) =>
        new(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(config.FilePath)!)!, "images-" + Guid.NewGuid().ToString("N")[..8]), StateFiles.Instance, new RegistryClient(config.Find));
}
