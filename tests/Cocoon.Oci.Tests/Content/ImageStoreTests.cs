// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.State;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.Content.Tests;

public sealed class ImageStoreTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempStateRoot _temp = new();
    private readonly ImageStore _store;

    public ImageStoreTests()
    {
        _store = new ImageStore(Path.Combine(_temp.Path, "images"), StateFiles.Instance);
        _store.EnsureCreated();
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task WriteBlob_MatchingDigestAndSize_Stored()
    {
        var content = Encoding.UTF8.GetBytes("layer bytes");
        var digest = OciDigest.Compute(content);

        await _store.WriteBlobAsync(new ForwardOnlyStream(content), digest, content.Length, "layer 1", null, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(content, File.ReadAllBytes(Path.Combine(_temp.Path, "images", "blobs", "sha256", OciDigest.Hex(digest))));
        Assert.True(_store.HasBlob(digest, content.Length));
        AssertNoTempFiles();
    }

    [Fact]
    public async Task WriteBlob_DigestMismatch_NothingStored()
    {
        var content = Encoding.UTF8.GetBytes("tampered");
        var digest = OciDigest.Compute(Encoding.UTF8.GetBytes("original"));

        var error = await Assert.ThrowsAsync<CocoonException>(() => _store.WriteBlobAsync(new ForwardOnlyStream(content), digest, content.Length, "layer 2 of x", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains("layer 2 of x has digest", error.Message, StringComparison.Ordinal);
        Assert.Contains(digest, error.Message, StringComparison.Ordinal);
        Assert.False(_store.HasBlob(digest, content.Length));
        AssertNoTempFiles();
        Assert.Empty(Directory.EnumerateFiles(_store.BlobsDirectory));
    }

    [Fact]
    public async Task WriteBlob_Truncated_NothingStored()
    {
        var content = Encoding.UTF8.GetBytes("complete content");
        var digest = OciDigest.Compute(content);

        var error = await Assert.ThrowsAsync<CocoonException>(() => _store.WriteBlobAsync(new ForwardOnlyStream(content[..5]), digest, content.Length, "layer 1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains($"truncated: got 5 of {content.Length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_store.BlobsDirectory));
        AssertNoTempFiles();
    }

    [Fact]
    public async Task WriteBlob_LongerThanDeclared_NothingStored()
    {
        var content = Encoding.UTF8.GetBytes("complete content");
        var digest = OciDigest.Compute(content[..4]);

        var error = await Assert.ThrowsAsync<CocoonException>(() => _store.WriteBlobAsync(new ForwardOnlyStream(content), digest, 4, "layer 1", null, CancellationToken.None)).WaitAsync(Timeout);

        Assert.Contains("larger than the 4 bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_store.BlobsDirectory));
    }

    [Fact]
    public void EnsureRootfs_ConcurrentCallers_BuildOnce()
    {
        var digest = OciDigest.Compute("manifest"u8);
        var builds = 0;

        var results = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8).Select(_ => _store.EnsureRootfs(digest, temp =>
        {
            Interlocked.Increment(ref builds);
            Thread.Sleep(200);
            File.WriteAllText(temp, "ext4");
        })).ToList();

        Assert.Equal(1, builds);
        Assert.Single(results, r => r.Built);
        Assert.All(results, r => Assert.Equal("ext4", File.ReadAllText(r.Path)));
        AssertNoTempFiles();
    }

    [Fact]
    public void Remove_SharedLayer_KeptUntilLastUser()
    {
        var shared = _store.WriteBlob("shared layer"u8);
        var own = _store.WriteBlob("own layer"u8);
        var config = _store.WriteBlob("{}"u8);
        var first = WriteManifest(config, shared, own);
        var second = WriteManifest(config, shared);
        _store.Tag("localhost/a:1", first, DateTimeOffset.UnixEpoch);
        _store.Tag("localhost/b:1", second, DateTimeOffset.UnixEpoch);

        Assert.NotNull(_store.Remove("localhost/a:1"));

        Assert.False(File.Exists(_store.BlobPath(own)));
        Assert.False(File.Exists(_store.BlobPath(first)));
        Assert.True(File.Exists(_store.BlobPath(shared)));
        Assert.True(File.Exists(_store.BlobPath(config)));
        Assert.Equal(["localhost/b:1"], _store.List().Select(r => r.Reference));
        Assert.Null(_store.Remove("localhost/a:1"));
    }

    private string WriteManifest(string config, params string[] layers)
    {
        var layerJson = string.Join(",", layers.Select(l => $$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{l}}","size":1}"""));
        return _store.WriteBlob(Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config}}","size":2},"layers":[{{layerJson}}]}"""));
    }

    private void AssertNoTempFiles() => Assert.Empty(Directory.EnumerateFileSystemEntries(_store.TempDirectory));
}
