// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Oci.Content;

namespace Cocoon.Oci.Registry;

/// <summary>
/// Pulls an image into the <see cref="ImageStore"/>.
/// </summary>
/// <remarks>
/// <code>
///   1. GET the manifest by tag or digest (a pinned digest must match the bytes)
///   2. an index / manifest list → the linux/amd64 entry → GET it by digest (must match)
///   3. check the config and every layer: sha256 digests, media types Cocoon can unpack
///   4. config blob → its os/architecture must be linux/amd64
///   5. layers, concurrently (at most 4 at a time), each distinct digest once, skipping stored ones;
///      every byte hashed and counted on its way to the store
///   6. the manifest blob last, so a stored manifest implies its blobs are stored; then the tag
/// </code>
/// Every failure before step 6 leaves only complete, verified blobs behind, never a name.
/// </remarks>
internal sealed class ImagePuller(RegistryClient registry, ImageStore store)
{
    private const int MaxConcurrentDownloads = 4;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Pulls <paramref name="image"/>; returns its manifest digest and manifest.</summary>
    public async Task<(string Digest, OciManifest Manifest)> PullAsync(
        ImageReference image, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        store.EnsureCreated();
        progress?.Report(new PullProgress(image.ToString(), PullStatus.Resolving, 0, 0));

        // :: Steps 1–2
        var document = await registry.GetManifestAsync(image, image.ManifestReference, cancellationToken).ConfigureAwait(false);
        if (image.Digest is not null && document.Digest != image.Digest)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"registry {image.Registry} served a manifest with digest {document.Digest} for {image}; the content does not match the reference");
        }

        if (MediaTypes.IsIndex(document.MediaType))
        {
            var chosen = ChoosePlatform(image, Parse(document.Content, OciJsonContext.Default.OciIndex, image));
            var pinned = image.WithDigest(chosen.Digest!);
            document = await registry.GetManifestAsync(pinned, chosen.Digest!, cancellationToken).ConfigureAwait(false);
            if (document.Digest != chosen.Digest || document.Content.Length != chosen.Size)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the linux/amd64 manifest of {image} has digest {document.Digest} ({document.Content.Length} bytes), not the {chosen.Digest} ({chosen.Size} bytes) its index declares");
            }
        }

        if (!MediaTypes.IsManifest(document.MediaType))
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, $"the manifest of {image} has media type '{document.MediaType}'; Cocoon reads OCI image manifests and Docker schema 2 manifests");
        }

        // :: Step 3
        var manifest = Parse(document.Content, OciJsonContext.Default.OciManifest, image);
        var layers = ValidateManifest(image, manifest);

        // :: Step 4
        var config = manifest.Config!;
        await DownloadAsync(image, config, "the config", progress, cancellationToken).ConfigureAwait(false);
        var configFile = Parse(store.ReadBlob(config.Digest!), OciJsonContext.Default.OciImageConfigFile, image);
        RequireLinuxAmd64(image, configFile.Os, configFile.Architecture);

        // :: Step 5
        var distinct = layers.DistinctBy(l => l.Digest).ToList();
        foreach (var layer in distinct)
        {
            progress?.Report(new PullProgress(OciDigest.Short(layer.Digest!), PullStatus.Waiting, 0, layer.Size));
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentDownloads, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(distinct, options, async (layer, token) =>
        {
            var index = layers.IndexOf(layer) + 1;
            await DownloadAsync(image, layer, $"layer {index} of {image}", progress, token).ConfigureAwait(false);
        }).ConfigureAwait(false);

        // :: Step 6
        var digest = store.WriteBlob(document.Content);
        return (digest, manifest);
    }

    /// <summary>
    /// Checks what step 3 of the remarks lists and returns the layers; throws naming the first bad
    /// descriptor before anything is downloaded.
    /// </summary>
    internal static List<OciDescriptor> ValidateManifest(ImageReference image, OciManifest manifest)
    {
        if (manifest.Config is null || manifest.Layers is null)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the manifest of {image} lacks its config or its layers");
        }

        OciDigest.Require(manifest.Config.Digest, $"the config of {image}");
        for (var i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            OciDigest.Require(layer.Digest, $"layer {i + 1} of {image}");
            if (MediaTypes.LayerCompressionOf(layer.MediaType) is null)
            {
                throw new CocoonException(
                    CocoonErrorCode.Unsupported,
                    $"layer {i + 1} of {image} has media type '{layer.MediaType}', which Cocoon cannot unpack (supported: OCI tar, tar+gzip, tar+zstd and Docker tar.gzip layers)");
            }

            if (layer.Size < 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"layer {i + 1} of {image} declares a negative size");
            }
        }

        return manifest.Layers;
    }

    /// <summary>Refuses an image whose config names another platform than linux/amd64.</summary>
    internal static void RequireLinuxAmd64(ImageReference image, string? os, string? architecture)
    {
        if ((os is not null && os != "linux") || (architecture is not null && architecture != "amd64"))
        {
            throw new CocoonException(
                CocoonErrorCode.Unsupported,
                $"image {image} is for {os}/{architecture}; Cocoon boxes run linux/amd64 images only");
        }
    }

    private static OciDescriptor ChoosePlatform(ImageReference image, OciIndex index)
    {
        var manifests = index.Manifests ?? [];
        var chosen = manifests.FirstOrDefault(m => m.Platform is { Os: "linux", Architecture: "amd64" } && MediaTypes.IsManifest(m.MediaType ?? MediaTypes.OciManifest));
        if (chosen is null)
        {
            var platforms = manifests.Select(m => m.Platform is { } p ? $"{p.Os}/{p.Architecture}{(p.Variant is null ? string.Empty : "/" + p.Variant)}" : "unknown")
                .Distinct().ToList();
            throw new CocoonException(
                CocoonErrorCode.Unsupported,
                $"image {image} has no linux/amd64 variant (it has: {(platforms.Count == 0 ? "none" : string.Join(", ", platforms))}); Cocoon boxes run linux/amd64 images only");
        }

        OciDigest.Require(chosen.Digest, $"the linux/amd64 manifest of {image}");
        return chosen;
    }

    private static T Parse<T>(byte[] content, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, ImageReference image)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(content, type) ?? throw new JsonException("the document is 'null'");
        }
        catch (JsonException e)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"image {image}: a {typeof(T).Name} document is not valid JSON ({e.Message})", e);
        }
    }

    private async Task DownloadAsync(
        ImageReference image, OciDescriptor descriptor, string what, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        var digest = descriptor.Digest!;
        var id = OciDigest.Short(digest);
        if (store.HasBlob(digest, descriptor.Size))
        {
            progress?.Report(new PullProgress(id, PullStatus.AlreadyExists, descriptor.Size, descriptor.Size));
            return;
        }

        using var response = await registry.GetBlobAsync(image, digest, cancellationToken).ConfigureAwait(false);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var last = DateTime.UtcNow - ProgressInterval;
        Action<long>? report = progress is null ? null : current =>
        {
            var now = DateTime.UtcNow;
            if (now - last >= ProgressInterval)
            {
                last = now;
                progress.Report(new PullProgress(id, PullStatus.Downloading, current, descriptor.Size));
            }
        };
        await store.WriteBlobAsync(stream, digest, descriptor.Size, what, report, cancellationToken).ConfigureAwait(false);
        progress?.Report(new PullProgress(id, PullStatus.Complete, descriptor.Size, descriptor.Size));
    }
}
