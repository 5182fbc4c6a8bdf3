// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text.Json;
using Cocoon.Oci.Content;
using Cocoon.Oci.Registry;
using Cocoon.Oci.Unpack;

namespace Cocoon.Oci;

/// <summary>
/// The image verbs over one content store: pull, list, remove, load, and the root file system of
/// an image. The host library's <c>CocoonRuntime</c> is its public face.
/// </summary>
internal sealed class ImageService : IDisposable
{
    private readonly ImageStore _store;
    private readonly RegistryClient _registry;
    private readonly TimeProvider _time;

    /// <param name="imagesDirectory">The state root's images/ directory.</param>
    /// <param name="state">The host's state files (locks, atomic updates).</param>
    /// <param name="registry">The registry client (disposed with this service).</param>
    /// <param name="time">The clock records are stamped with.</param>
    public ImageService(string imagesDirectory, IStateFiles state, RegistryClient registry, TimeProvider? time = null)
    {
        _store = new ImageStore(imagesDirectory, state);
        _registry = registry;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The content store.</summary>
    internal ImageStore Store => _store;

    /// <summary>Bounds on what an image may unpack to.</summary>
    internal UnpackLimits Limits { get; init; } = UnpackLimits.Default;

    /// <summary>Pulls <paramref name="reference"/> and builds its root file system (once per manifest).</summary>
    public async Task<ImageInfo> PullAsync(string reference, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        var image = ImageReference.Parse(reference);
        var puller = new ImagePuller(_registry, _store);
        var (digest, manifest) = await puller.PullAsync(image, progress, cancellationToken).ConfigureAwait(false);
        await BuildRootfsAsync(image.ToString(), digest, manifest, progress, cancellationToken).ConfigureAwait(false);
        _store.Tag(image.ToString(), digest, _time.GetUtcNow());
        progress?.Report(new PullProgress(image.ToString(), PullStatus.Done, 0, 0));
        return Describe(_store.Find(image.ToString())!);
    }

    /// <summary>Every image in the store.</summary>
    public IReadOnlyList<ImageInfo> List() => _store.List().Select(Describe).ToList();

    /// <summary>Finds an image by reference (normalised as a pull would) or by manifest digest or its prefix.</summary>
    /// <returns>The image, or null.</returns>
    public ImageInfo? Find(string reference)
    {
        var records = _store.List();
        if (ImageReference.TryParse(reference, out var parsed, out _) && records.FirstOrDefault(r => r.Reference == parsed.ToString()) is { } named)
        {
            return Describe(named);
        }

        var hex = reference.StartsWith(OciDigest.Sha256Prefix, StringComparison.Ordinal) ? reference[OciDigest.Sha256Prefix.Length..] : reference;
        if (hex.Length >= 12 && hex.All(char.IsAsciiHexDigitLower))
        {
            var matches = records.Where(r => OciDigest.Hex(r.Digest).StartsWith(hex, StringComparison.Ordinal)).ToList();
            if (matches.Select(m => m.Digest).Distinct().Count() == 1)
            {
                return Describe(matches[0]);
            }
        }

        return null;
    }

    /// <summary>
    /// Removes an image reference; its root file system and blobs go when no other reference uses them.
    /// </summary>
    /// <returns>The removed image.</returns>
    /// <exception cref="CocoonException">NotFound: no such image.</exception>
    public ImageInfo Remove(string reference)
    {
        var image = Find(reference) ?? throw NotFound(reference);
        var removed = _store.Remove(image.Reference) ?? throw NotFound(reference);
        return new ImageInfo(removed.Reference, removed.Digest, image.Size, removed.Created);
    }

    /// <summary>The config (entrypoint, cmd, env, …) of a stored image.</summary>
    public ImageConfig GetConfig(string reference)
    {
        var image = Find(reference) ?? throw NotFound(reference);
        var manifest = _store.ReadManifest(image.Digest);
        var config = JsonSerializer.Deserialize(_store.ReadBlob(manifest.Config!.Digest!), OciJsonContext.Default.OciImageConfigFile)
            ?? throw new CocoonException(CocoonErrorCode.InvalidState, $"the config of image '{image.Reference}' is empty; pull it again");
        return ImageConfig.From(config);
    }

    /// <summary>The root file system image of a stored image (built if it is missing).</summary>
    public async Task<string> GetRootfsAsync(string reference, CancellationToken cancellationToken)
    {
        var image = Find(reference) ?? throw NotFound(reference);
        var manifest = _store.ReadManifest(image.Digest);
        return await BuildRootfsAsync(image.Reference, image.Digest, manifest, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads every image of an OCI layout tar or a <c>docker save</c> tar.</summary>
    public async Task<IReadOnlyList<ImageInfo>> LoadAsync(string archive, CancellationToken cancellationToken)
    {
        if (!File.Exists(archive))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"archive '{archive}' does not exist");
        }

        _store.EnsureCreated();
        var directory = _store.NewTempPath("load");
        Directory.CreateDirectory(directory);
        try
        {
            var unpacked = new LayerApplier(directory, Limits, privileged: false);
            using (var file = File.OpenRead(archive))
            {
                var gzip = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
                file.Position = 0;
                using var tar = gzip ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true) : (Stream)file;
                unpacked.Apply(tar, $"archive '{archive}'");
            }

            var loaded = File.Exists(Path.Combine(directory, "oci-layout")) && File.Exists(Path.Combine(directory, "index.json"))
                ? await LoadOciLayoutAsync(archive, unpacked, cancellationToken).ConfigureAwait(false)
                : File.Exists(Path.Combine(directory, "manifest.json"))
                    ? await LoadDockerArchiveAsync(archive, unpacked, cancellationToken).ConfigureAwait(false)
                    : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}' is neither an OCI layout (oci-layout, index.json) nor a docker save archive (manifest.json)");

            var result = new List<ImageInfo>();
            foreach (var (reference, digest) in loaded)
            {
                await BuildRootfsAsync(reference, digest, _store.ReadManifest(digest), null, cancellationToken).ConfigureAwait(false);
                _store.Tag(reference, digest, _time.GetUtcNow());
                result.Add(Describe(_store.Find(reference)!));
            }

            return result;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _registry.Dispose();

    /// <summary>The error for an image the store does not hold.</summary>
    internal static CocoonException NotFound(string reference) =>
        new(CocoonErrorCode.NotFound, $"image '{reference}' is not in the local store; see 'cocoon images', or 'cocoon pull {reference}'");

    private async Task<List<(string Reference, string Digest)>> LoadOciLayoutAsync(string archive, LayerApplier layout, CancellationToken cancellationToken)
    {
        var index = ReadJson(layout.ResolveExisting("index.json", $"archive '{archive}'"), OciJsonContext.Default.OciIndex, archive);
        var loaded = new List<(string, string)>();
        foreach (var descriptor in index.Manifests ?? [])
        {
            var name = descriptor.Annotations?.GetValueOrDefault("io.containerd.image.name")
                ?? descriptor.Annotations?.GetValueOrDefault("org.opencontainers.image.ref.name");
            if (name is null || !(name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)))
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidArgument,
                    $"archive '{archive}': manifest {descriptor.Digest} has no image name (annotation org.opencontainers.image.ref.name or io.containerd.image.name with a full name such as localhost/app:1, found '{name}')");
            }

            var image = ImageReference.Parse(name);
            var manifestDescriptor = descriptor;
            if (MediaTypes.IsIndex(descriptor.MediaType))
            {
                var nested = ReadJson(await ImportLayoutBlobAsync(layout, descriptor, $"the index of {image}", archive, cancellationToken).ConfigureAwait(false), OciJsonContext.Default.OciIndex, archive);
                manifestDescriptor = nested.Manifests?.FirstOrDefault(m => m.Platform is { Os: "linux", Architecture: "amd64" })
                    ?? throw new CocoonException(CocoonErrorCode.Unsupported, $"image {image} in '{archive}' has no linux/amd64 variant; Cocoon boxes run linux/amd64 images only");
            }

            var manifestPath = await ImportLayoutBlobAsync(layout, manifestDescriptor, $"the manifest of {image}", archive, cancellationToken).ConfigureAwait(false);
            var manifest = ReadJson(manifestPath, OciJsonContext.Default.OciManifest, archive);
            var layers = ImagePuller.ValidateManifest(image, manifest);
            var configPath = await ImportLayoutBlobAsync(layout, manifest.Config!, $"the config of {image}", archive, cancellationToken).ConfigureAwait(false);
            var config = ReadJson(configPath, OciJsonContext.Default.OciImageConfigFile, archive);
            ImagePuller.RequireLinuxAmd64(image, config.Os, config.Architecture);
            for (var i = 0; i < layers.Count; i++)
            {
                await ImportLayoutBlobAsync(layout, layers[i], $"layer {i + 1} of {image}", archive, cancellationToken).ConfigureAwait(false);
            }

            loaded.Add((image.ToString(), manifestDescriptor.Digest!));
        }

        return loaded.Count > 0 ? loaded : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}' holds no images (its index.json lists no manifests)");
    }

    private async Task<string> ImportLayoutBlobAsync(LayerApplier layout, OciDescriptor descriptor, string what, string archive, CancellationToken cancellationToken)
    {
        var digest = OciDigest.Require(descriptor.Digest, what);
        if (!_store.HasBlob(digest, descriptor.Size))
        {
            var source = layout.ResolveExisting("blobs/sha256/" + OciDigest.Hex(digest), $"archive '{archive}' ({what})");
            using var stream = File.OpenRead(source);
            await _store.WriteBlobAsync(stream, digest, descriptor.Size, $"{what} in '{archive}'", null, cancellationToken).ConfigureAwait(false);
        }

        return _store.BlobPath(digest);
    }

    private async Task<List<(string Reference, string Digest)>> LoadDockerArchiveAsync(string archive, LayerApplier unpacked, CancellationToken cancellationToken)
    {
        var images = ReadJson(unpacked.ResolveExisting("manifest.json", $"archive '{archive}'"), OciJsonContext.Default.ListDockerArchiveImage, archive);
        var loaded = new List<(string, string)>();
        foreach (var entry in images)
        {
            var tags = entry.RepoTags ?? [];
            if (tags.Count == 0 || entry.Config is null || entry.Layers is null)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}': an image in manifest.json lacks RepoTags, Config or Layers; Cocoon loads tagged images only");
            }

            var image = ImageReference.Parse(tags[0]);
            var (configDigest, configSize) = await ImportFileAsync(unpacked.ResolveExisting(entry.Config, $"archive '{archive}'"), $"the config of {image}", cancellationToken).ConfigureAwait(false);
            var config = ReadJson(_store.BlobPath(configDigest), OciJsonContext.Default.OciImageConfigFile, archive);
            ImagePuller.RequireLinuxAmd64(image, config.Os, config.Architecture);
            var diffIds = config.Rootfs?.DiffIds ?? [];
            if (diffIds.Count != entry.Layers.Count)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}': {image} lists {entry.Layers.Count} layers but its config has {diffIds.Count} diff_ids; the archive is corrupt");
            }

            var layers = new List<OciDescriptor>();
            for (var i = 0; i < entry.Layers.Count; i++)
            {
                var path = unpacked.ResolveExisting(entry.Layers[i], $"archive '{archive}'");
                var (digest, size) = await ImportFileAsync(path, $"layer {i + 1} of {image}", cancellationToken).ConfigureAwait(false);
                var gzip = IsGzip(path);
                if (!gzip && digest != diffIds[i])
                {
                    throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}': layer {i + 1} of {image} has digest {digest}, not the diff_id {diffIds[i]} its config declares; the archive is corrupt");
                }

                layers.Add(new OciDescriptor { MediaType = gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayer, Digest = digest, Size = size });
            }

            var manifest = new OciManifest
            {
                MediaType = MediaTypes.OciManifest,
                Config = new OciDescriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest, Size = configSize },
                Layers = layers,
            };
            var manifestDigest = _store.WriteBlob(JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.OciManifest));
            loaded.AddRange(tags.Select(tag => (ImageReference.Parse(tag).ToString(), manifestDigest)));
        }

        return loaded.Count > 0 ? loaded : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"archive '{archive}' holds no images (its manifest.json is empty)");
    }

    private async Task<(string Digest, long Size)> ImportFileAsync(string path, string what, CancellationToken cancellationToken)
    {
        string digest;
        using (var hashing = File.OpenRead(path))
        {
            digest = OciDigest.FromHash(await SHA256.HashDataAsync(hashing, cancellationToken).ConfigureAwait(false));
        }

        var size = new FileInfo(path).Length;
        if (!_store.HasBlob(digest, size))
        {
            using var stream = File.OpenRead(path);
            await _store.WriteBlobAsync(stream, digest, size, what, null, cancellationToken).ConfigureAwait(false);
        }

        return (digest, size);
    }

    private static bool IsGzip(string path)
    {
        Span<byte> magic = stackalloc byte[2];
        using var file = File.OpenRead(path);
        return file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static T ReadJson<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string archive)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type) ?? throw new JsonException("the document is 'null'");
        }
        catch (JsonException e)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{archive}': {Path.GetFileName(path)} is not valid JSON ({e.Message})", e);
        }
    }

    private Task<string> BuildRootfsAsync(string reference, string digest, OciManifest manifest, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        var layers = manifest.Layers!.Select((layer, i) => new LayerFile(
            _store.BlobPath(layer.Digest!),
            MediaTypes.LayerCompressionOf(layer.MediaType)!.Value,
            $"layer {i + 1} ({OciDigest.Short(layer.Digest!)}) of {reference}")).ToList();
        return Task.Run(
            () =>
            {
                var (path, _) = _store.EnsureRootfs(digest, output =>
                {
                    progress?.Report(new PullProgress(reference, PullStatus.BuildingRootfs, 0, 0));
                    RootfsBuilder.Build(layers, output, output + ".d", Limits);
                });
                return path;
            },
            cancellationToken);
    }

    private ImageInfo Describe(ImageRecord record)
    {
        long size = 0;
        foreach (var blob in _store.BlobsOf(record.Digest).Skip(1))
        {
            var info = new FileInfo(_store.BlobPath(blob));
            size += info.Exists ? info.Length : 0;
        }

        return new ImageInfo(record.Reference, record.Digest, size, record.Created);
    }
}
