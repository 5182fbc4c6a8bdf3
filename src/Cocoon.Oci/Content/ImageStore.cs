// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Cocoon.Oci.Content;

/// <summary>
/// The content store under the state root's <c>images/</c> (docs/architecture.md §2.6):
/// <code>
/// images/blobs/sha256/&lt;hex&gt;     manifests, configs and layers, verified before they get this name
/// images/index.json              references → manifest digests (updated through the state files' lock)
/// images/rootfs/&lt;hex&gt;.ext4      the read-only root file system of one manifest, built once
/// images/tmp/                    downloads and builds in progress (same file system, so rename is atomic)
/// </code>
/// A blob is written to <c>tmp/</c> while its digest and size are checked, and renamed into
/// <c>blobs/</c> only when both match, so the store never holds a blob that is not what its name
/// says. Concurrent writers of one blob each write their own temp file; the renames are idempotent.
/// </summary>
internal sealed class ImageStore
{
    private const int CopyBufferSize = 1 << 20;

    private readonly IStateFiles _state;

    public ImageStore(string directory, IStateFiles state)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _state = state;
    }

    /// <summary>images/.</summary>
    public string Directory { get; }

    /// <summary>images/blobs/sha256/.</summary>
    public string BlobsDirectory => Path.Combine(Directory, "blobs", "sha256");

    /// <summary>images/index.json.</summary>
    public string IndexFile => Path.Combine(Directory, "index.json");

    /// <summary>images/rootfs/.</summary>
    public string RootfsDirectory => Path.Combine(Directory, "rootfs");

    /// <summary>images/tmp/.</summary>
    public string TempDirectory => Path.Combine(Directory, "tmp");

    /// <summary>Creates the store's directories (owner-only).</summary>
    public void EnsureCreated()
    {
        foreach (var directory in new[] { Directory, BlobsDirectory, RootfsDirectory, TempDirectory })
        {
            UnixFiles.CreateDirectory(directory, UnixFiles.Private);
        }
    }

    /// <summary>images/blobs/sha256/&lt;hex&gt; of a valid digest.</summary>
    public string BlobPath(string digest) => Path.Combine(BlobsDirectory, OciDigest.Hex(digest));

    /// <summary>images/rootfs/&lt;hex&gt;.ext4 of a manifest digest.</summary>
    public string RootfsPath(string manifestDigest) => Path.Combine(RootfsDirectory, OciDigest.Hex(manifestDigest) + ".ext4");

    /// <summary>Whether the store holds <paramref name="digest"/> with <paramref name="size"/> bytes.</summary>
    public bool HasBlob(string digest, long size)
    {
        var info = new FileInfo(BlobPath(digest));
        return info.Exists && info.Length == size;
    }

    /// <summary>Reads a small blob (a manifest or config) from the store.</summary>
    public byte[] ReadBlob(string digest)
    {
        try
        {
            return File.ReadAllBytes(BlobPath(digest));
        }
        catch (FileNotFoundException e)
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"blob {digest} is missing from the image store; pull the image again", e);
        }
    }

    /// <summary>Stores bytes under their own digest (manifests written by Cocoon itself).</summary>
    public string WriteBlob(ReadOnlySpan<byte> content)
    {
        var digest = OciDigest.Compute(content);
        if (!HasBlob(digest, content.Length))
        {
            var temp = NewTempPath("blob");
            try
            {
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    file.Write(content);
                    file.Flush(flushToDisk: true);
                }

                Publish(temp, BlobPath(digest));
            }
            finally
            {
                File.Delete(temp);
            }
        }

        return digest;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the store as <paramref name="digest"/>, checking the
    /// digest and the size as the bytes stream; on any mismatch (or a short stream) nothing is stored.
    /// </summary>
    /// <param name="source">The blob's bytes.</param>
    /// <param name="digest">The digest it must have.</param>
    /// <param name="size">The size it must have.</param>
    /// <param name="what">Names the blob in errors ("layer 2 of localhost:5000/app:1").</param>
    /// <param name="progress">Receives the bytes copied so far.</param>
    /// <param name="cancellationToken">Cancels the copy (nothing is stored).</param>
    public async Task WriteBlobAsync(
        Stream source, string digest, long size, string what, Action<long>? progress, CancellationToken cancellationToken)
    {
        var temp = NewTempPath("blob");
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                while (true)
                {
                    var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - total + 1)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                    if (total > size)
                    {
                        throw new CocoonException(
                            CocoonErrorCode.InvalidArgument,
                            $"{what} ({digest}) is larger than the {size} bytes its descriptor declares; the image is corrupt");
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    progress?.Invoke(total);
                }

                if (total < size)
                {
                    throw new CocoonException(
                        CocoonErrorCode.InvalidArgument,
                        $"{what} ({digest}) is truncated: got {total} of {size} bytes; the transfer was cut short or the image is corrupt");
                }

                file.Flush(flushToDisk: true);
            }

            var actual = OciDigest.FromHash(hash.GetHashAndReset());
            if (actual != digest)
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidArgument,
                    $"{what} has digest {actual}, not the {digest} its descriptor declares; the image is corrupt or was tampered with");
            }

            Publish(temp, BlobPath(digest));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(temp);
        }
    }

    /// <summary>Every named image, in the order they were added.</summary>
    public IReadOnlyList<ImageRecord> List() =>
        _state.Read(IndexFile, OciJsonContext.Default.ImageIndexFile)?.Images ?? [];

    /// <summary>The record named by <paramref name="reference"/> (its normalised text), or null.</summary>
    public ImageRecord? Find(string reference) => List().FirstOrDefault(r => r.Reference == reference);

    /// <summary>Points <paramref name="reference"/> at <paramref name="manifestDigest"/>, replacing what it named before.</summary>
    public void Tag(string reference, string manifestDigest, DateTimeOffset now)
    {
        EnsureCreated();
        _state.Update(IndexFile, OciJsonContext.Default.ImageIndexFile, () => new ImageIndexFile(), index =>
        {
            index.Images.RemoveAll(r => r.Reference == reference);
            index.Images.Add(new ImageRecord { Reference = reference, Digest = manifestDigest, Created = now });
            return (index, 0);
        });
    }

    /// <summary>
    /// Removes <paramref name="reference"/>; when no other reference names its manifest any more,
    /// also deletes the manifest's root file system and the blobs no remaining image uses.
    /// </summary>
    /// <returns>The removed record, or null when the reference was not in the store.</returns>
    public ImageRecord? Remove(string reference)
    {
        if (!File.Exists(IndexFile))
        {
            return null;
        }

        return _state.Update(IndexFile, OciJsonContext.Default.ImageIndexFile, () => new ImageIndexFile(), index =>
        {
            var record = index.Images.FirstOrDefault(r => r.Reference == reference);
            if (record is null)
            {
                return (index, (ImageRecord?)null);
            }

            index.Images.Remove(record);
            if (index.Images.All(r => r.Digest != record.Digest))
            {
                var kept = new HashSet<string>(StringComparer.Ordinal);
                foreach (var other in index.Images)
                {
                    kept.UnionWith(BlobsOf(other.Digest));
                }

                foreach (var blob in BlobsOf(record.Digest).Where(b => !kept.Contains(b)).ToList())
                {
                    File.Delete(BlobPath(blob));
                }

                File.Delete(RootfsPath(record.Digest));
            }

            return (index, record);
        });
    }

    /// <summary>The manifest's own digest, its config's and its layers' (those it can read).</summary>
    public IEnumerable<string> BlobsOf(string manifestDigest)
    {
        yield return manifestDigest;
        OciManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllBytes(BlobPath(manifestDigest)), OciJsonContext.Default.OciManifest);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            yield break;
        }

        if (manifest?.Config?.Digest is { } config && OciDigest.IsValid(config))
        {
            yield return config;
        }

        foreach (var layer in manifest?.Layers ?? [])
        {
            if (OciDigest.IsValid(layer.Digest))
            {
                yield return layer.Digest!;
            }
        }
    }

    /// <summary>Reads and parses the image manifest <paramref name="manifestDigest"/> from the store.</summary>
    public OciManifest ReadManifest(string manifestDigest) =>
        JsonSerializer.Deserialize(ReadBlob(manifestDigest), OciJsonContext.Default.OciManifest)
        ?? throw new CocoonException(CocoonErrorCode.InvalidState, $"manifest {manifestDigest} in the image store is empty; pull the image again");

    /// <summary>
    /// Returns the manifest's root file system image, building it with <paramref name="build"/> (into
    /// a temp file that is renamed into place) when it does not exist yet. A per-manifest lock makes
    /// concurrent callers, in any process, build it once: the others wait and find it built.
    /// </summary>
    /// <returns>The path and whether this call built it.</returns>
    public (string Path, bool Built) EnsureRootfs(string manifestDigest, Action<string> build)
    {
        EnsureCreated();
        var path = RootfsPath(manifestDigest);
        if (File.Exists(path))
        {
            return (path, false);
        }

        using var buildLock = _state.Lock(path);
        if (File.Exists(path))
        {
            return (path, false);
        }

        var temp = NewTempPath("rootfs");
        try
        {
            build(temp);
            Publish(temp, path);
        }
        finally
        {
            File.Delete(temp);
        }

        return (path, true);
    }

    /// <summary>A unique path under tmp/ (not created).</summary>
    public string NewTempPath(string kind)
    {
        EnsureCreated();
        return Path.Combine(TempDirectory, $"{kind}.{Environment.ProcessId}.{Guid.NewGuid():N}");
    }

    private void Publish(string temp, string destination)
    {
        UnixFiles.SetMode(temp, UnixFiles.PrivateFile);
        File.Move(temp, destination, overwrite: true);
        _state.FsyncDirectory(Path.GetDirectoryName(destination)!);
    }
}
