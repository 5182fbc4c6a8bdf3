// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Cocoon.Oci.Registry;
using Cocoon.Oci.Tests.Infrastructure;
using Cocoon.State;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.EndToEnd.Tests;

/// <summary>Pulls from a real docker-registry on loopback, into a real store, building real ext4 images.</summary>
public sealed class PullTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly TempStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Pull_MultiLayerImage_RendersTreeWithWhiteoutsAndOpaqueDirs()
    {
        using var images = Service();
        var progress = new RecordingProgress();

        var image = await images.PullAsync(fixture.MultiLayer, progress, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal($"{fixture.Registry.Host}/test/app:1", image.Reference);
        var rootfs = images.Store.RootfsPath(image.Digest);
        var dump = Path.Combine(_root.Path, "dump");
        await Ext4Image.DumpAsync(rootfs, dump);
        var tree = Ext4Image.Tree(dump);
        tree.Add("dev/null"); // rdump skips device nodes; checked below
        Assert.Equal(TestImages.MultiLayerTree.Order(StringComparer.Ordinal), tree.Order(StringComparer.Ordinal));
        Assert.Equal("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n", File.ReadAllText(Path.Combine(dump, "etc/passwd")));
        Assert.Equal(File.ReadAllBytes(TestImages.BusyboxPath), File.ReadAllBytes(Path.Combine(dump, "bin/busybox")));
        Assert.Contains("Links: 2", await Ext4Image.StatAsync(rootfs, "/bin/busybox"), StringComparison.Ordinal);
        var home = await Ext4Image.StatAsync(rootfs, "/home/user");
        Assert.Contains("User:  1000   Group:  1000", home, StringComparison.Ordinal);
        Assert.Contains("Mode:  0700", home, StringComparison.Ordinal);
        var devNull = await Ext4Image.StatAsync(rootfs, "/dev/null");
        Assert.Contains("Type: character special", devNull, StringComparison.Ordinal);
        Assert.Contains("Device major/minor number: 01:03", devNull, StringComparison.Ordinal);
        Assert.Contains(progress.Reports, p => p.Status == PullStatus.Complete);
        Assert.Single(progress.Reports, p => p.Status == PullStatus.BuildingRootfs);
        Assert.Equal([image.Reference], images.List().Select(i => i.Reference));
        Assert.Empty(Directory.EnumerateFileSystemEntries(images.Store.TempDirectory));
        var config = images.GetConfig(image.Reference);
        Assert.Equal(["/bin/sh"], config.Entrypoint);
        Assert.Contains("COCOON_TEST=1", config.Env);
    }

    [Fact]
    public async Task Pull_SameImageConcurrently_RootfsBuiltOnce()
    {
        var progress = new RecordingProgress();
        var services = Enumerable.Range(0, 4).Select(_ => Service()).ToList();
        try
        {
            var pulled = await Task.WhenAll(services.Select(s => Task.Run(() => s.PullAsync(fixture.MultiLayer, progress, CancellationToken.None)))).WaitAsync(Timeout);

            Assert.Single(pulled.Select(p => p.Digest).Distinct());
            Assert.Single(progress.Reports, p => p.Status == PullStatus.BuildingRootfs);
            Assert.Single(services[0].List());
            Assert.True(File.Exists(services[0].Store.RootfsPath(pulled[0].Digest)));
            Assert.Empty(Directory.EnumerateFileSystemEntries(services[0].Store.TempDirectory));
        }
        finally
        {
            services.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Pull_AgainAfterPull_EveryBlobAlreadyExists()
    {
        using var images = Service();
        await images.PullAsync(fixture.MultiLayer, null, CancellationToken.None).WaitAsync(Timeout);
        var progress = new RecordingProgress();

        await images.PullAsync(fixture.MultiLayer, progress, CancellationToken.None).WaitAsync(Timeout);

        Assert.DoesNotContain(progress.Reports, p => p.Status is PullStatus.Downloading or PullStatus.Complete or PullStatus.BuildingRootfs);
        Assert.Contains(progress.Reports, p => p.Status == PullStatus.AlreadyExists);
    }

    [Fact]
    public async Task Pull_ByDigest_RecordedUnderDigestReference()
    {
        using var images = Service();
        var tagged = await images.PullAsync(fixture.MultiLayer, null, CancellationToken.None).WaitAsync(Timeout);

        var pinned = await images.PullAsync($"{fixture.Registry.Host}/test/app@{tagged.Digest}", null, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(tagged.Digest, pinned.Digest);
        Assert.Equal($"{fixture.Registry.Host}/test/app@{tagged.Digest}", pinned.Reference);
    }

    [Fact]
    public async Task Remove_PulledImage_StoreEmptied()
    {
        using var images = Service();
        var image = await images.PullAsync(fixture.MultiLayer, null, CancellationToken.None).WaitAsync(Timeout);

        images.Remove(fixture.MultiLayer);

        Assert.Empty(images.List());
        Assert.Empty(Directory.EnumerateFiles(images.Store.BlobsDirectory));
        Assert.False(File.Exists(images.Store.RootfsPath(image.Digest)));
        Assert.Equal(CocoonErrorCode.NotFound, Assert.Throws<CocoonException>(() => images.Remove(fixture.MultiLayer)).Code);
    }

    [Theory]
    [InlineData("test/app:2", "manifest '2'")]
    [InlineData("test/nothing:1", "manifest '1'")]
    public async Task Pull_UnknownTagOrRepository_NotFound(string name, string what)
    {
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"{fixture.Registry.Host}/{name}", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.NotFound, error.Code);
        Assert.Contains($"'{fixture.Registry.Host}/{name}' not found", error.Message, StringComparison.Ordinal);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
        AssertStoreHoldsNoImage(images);
    }

    [Fact]
    public async Task Pull_UnreachableRegistry_UnavailableNamesIt()
    {
        using var images = Service();
        var port = ClosedPort();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"127.0.0.1:{port}/app:1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.Unavailable, error.Code);
        Assert.Contains($"cannot reach registry 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        AssertStoreHoldsNoImage(images);
    }

    [Fact]
    public async Task Pull_MalformedReference_RefusedBeforeAnyRequest()
    {
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"{fixture.Registry.Host}/Test/App:1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.False(Directory.Exists(images.Store.Directory));
    }

    [Fact]
    public async Task Pull_TamperedLayerInRegistry_DigestMismatchNothingStored()
    {
        var (reference, layer) = await PushSingleLayerAsync("tampered", new TarBuilder().File("a", "original content").Build());
        var data = fixture.Registry.BlobDataPath(layer);
        var bytes = await File.ReadAllBytesAsync(data);
        bytes[^1] ^= 0xff;
        await File.WriteAllBytesAsync(data, bytes);
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync(reference, null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"not the {layer}", error.Message, StringComparison.Ordinal);
        Assert.Contains("layer 1 of", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(images.Store.BlobPath(layer)));
        AssertStoreHoldsNoImage(images);
    }

    [Fact]
    public async Task Pull_TruncatedLayerInRegistry_TruncationNothingStored()
    {
        var (reference, layer) = await PushSingleLayerAsync("truncated", new TarBuilder().File("a", new string('x', 10000)).Build());
        var data = fixture.Registry.BlobDataPath(layer);
        var bytes = await File.ReadAllBytesAsync(data);
        await File.WriteAllBytesAsync(data, bytes[..(bytes.Length / 2)]);
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync(reference, null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(images.Store.BlobPath(layer)));
        AssertStoreHoldsNoImage(images);
    }

    [Theory]
    [InlineData("../escape", "'..' component")]
    [InlineData("/../escape", "'..' component")]
    public async Task Pull_HostileLayer_RefusedNothingNamedOrBuilt(string entry, string reason)
    {
        var (reference, _) = await PushSingleLayerAsync("hostile", new TarBuilder().File("ok", "fine").File(entry, "evil").Build());
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync(reference, null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"'{entry}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(images.Store.RootfsDirectory, "*.ext4"));
        AssertStoreHoldsNoImage(images);
        Assert.False(File.Exists(Path.Combine(images.Store.Directory, "escape")));
    }

    [Fact]
    public async Task Pull_UnsupportedLayerMediaType_RefusedBeforeDownload()
    {
        var config = await fixture.Registry.PushBlobAsync("test/lz4", Config("amd64"));
        var layer = await fixture.Registry.PushBlobAsync("test/lz4", [1, 2, 3]);
        await fixture.Registry.PushManifestAsync("test/lz4", "1", Manifest(config, Config("amd64").Length, (layer, 3, "application/vnd.example.layer.v1.tar+lz4")), MediaTypes.OciManifest);
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"{fixture.Registry.Host}/test/lz4:1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.Unsupported, error.Code);
        Assert.Contains("'application/vnd.example.layer.v1.tar+lz4'", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(images.Store.Directory) && Directory.EnumerateFiles(images.Store.BlobsDirectory).Any());
    }

    [Fact]
    public async Task Pull_ImageForArm64Only_RefusedNamingPlatform()
    {
        await OciLayouts.BuildAsync(fixture.Layout, "arm", [new TarBuilder().File("a", "arm").Build()], architecture: "arm64");
        await fixture.Registry.PushLayoutAsync(fixture.Layout, "arm", "test/arm:1");
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"{fixture.Registry.Host}/test/arm:1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.Unsupported, error.Code);
        Assert.Contains("is for linux/arm64", error.Message, StringComparison.Ordinal);
        AssertStoreHoldsNoImage(images);
    }

    [Fact]
    public async Task Pull_IndexWithoutAmd64_RefusedListingPlatforms()
    {
        var config = Config("arm64");
        var configDigest = await fixture.Registry.PushBlobAsync("test/multiarch", config);
        var layer = new TarBuilder().File("a", "arm").Build();
        var layerDigest = await fixture.Registry.PushBlobAsync("test/multiarch", layer);
        var manifest = Manifest(configDigest, config.Length, (layerDigest, layer.Length, MediaTypes.OciLayer));
        var manifestDigest = await fixture.Registry.PushManifestAsync("test/multiarch", "arm64", manifest, MediaTypes.OciManifest);
        var index = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{manifestDigest}}}","size":{{{Encoding.UTF8.GetByteCount(manifest)}}},"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}""";
        await fixture.Registry.PushManifestAsync("test/multiarch", "1", index, MediaTypes.OciIndex);
        using var images = Service();

        var error = await Assert.ThrowsAsync<CocoonException>(() => images.PullAsync($"{fixture.Registry.Host}/test/multiarch:1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.Unsupported, error.Code);
        Assert.Contains("no linux/amd64 variant (it has: linux/arm64/v8)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_IndexWithAmd64_PullsThatManifest()
    {
        var config = Config("amd64");
        var configDigest = await fixture.Registry.PushBlobAsync("test/indexed", config);
        var layer = new TarBuilder().File("amd64-only", "x").Build();
        var layerDigest = await fixture.Registry.PushBlobAsync("test/indexed", layer);
        var manifest = Manifest(configDigest, config.Length, (layerDigest, layer.Length, MediaTypes.OciLayer));
        var manifestDigest = await fixture.Registry.PushManifestAsync("test/indexed", "amd64", manifest, MediaTypes.OciManifest);
        var index = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifestList}}}","manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{manifestDigest}}}","size":{{{Encoding.UTF8.GetByteCount(manifest)}}},"platform":{"architecture":"amd64","os":"linux"}}]}""";
        await fixture.Registry.PushManifestAsync("test/indexed", "1", index, MediaTypes.DockerManifestList);
        using var images = Service();

        var image = await images.PullAsync($"{fixture.Registry.Host}/test/indexed:1", null, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(manifestDigest, image.Digest);
    }

    private ImageService Service() =>
        new(Path.Combine(_root.Path, "images"), StateFiles.Instance, new RegistryClient(_ => null));

    private async Task<(string Reference, string LayerDigest)> PushSingleLayerAsync(string name, byte[] layer)
    {
        var config = Config("amd64");
        var configDigest = await fixture.Registry.PushBlobAsync($"test/{name}", config);
        var layerDigest = await fixture.Registry.PushBlobAsync($"test/{name}", layer);
        await fixture.Registry.PushManifestAsync($"test/{name}", "1", Manifest(configDigest, config.Length, (layerDigest, layer.Length, MediaTypes.OciLayer)), MediaTypes.OciManifest);
        return ($"{fixture.Registry.Host}/test/{name}:1", layerDigest);
    }

    private static byte[] Config(string architecture) =>
        Encoding.UTF8.GetBytes($$$"""{"architecture":"{{{architecture}}}","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}""");

    private static string Manifest(string config, long configSize, params (string Digest, long Size, string MediaType)[] layers) =>
        $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{config}}","size":{{configSize}}},"layers":[{{string.Join(",", layers.Select(l => $$"""{"mediaType":"{{l.MediaType}}","digest":"{{l.Digest}}","size":{{l.Size}}}"""))}}]}""";

    private static void AssertStoreHoldsNoImage(ImageService images)
    {
        Assert.Empty(images.List());
        if (Directory.Exists(images.Store.TempDirectory))
        {
            Assert.Empty(Directory.EnumerateFileSystemEntries(images.Store.TempDirectory));
        }
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class RecordingProgress : IProgress<PullProgress>
    {
        private readonly ConcurrentQueue<PullProgress> _reports = new();

        public IReadOnlyCollection<PullProgress> Reports => _reports;

        public void Report(PullProgress value) => _reports.Enqueue(value);
    }
}
