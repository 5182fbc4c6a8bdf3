// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias oci;
using System.Net;
using Cocoon.State;
using oci::Cocoon.Oci;
using oci::Cocoon.Oci.Registry;

namespace Cocoon;

/// <summary>
/// The images of a <see cref="CocoonRuntime"/>'s state root (<c>images/</c>, docs/architecture.md §2.6): pull from
/// an OCI registry, load from an archive, list and remove. Every image gets a read-only ext4 root
/// file system, built once per manifest, which boxes mount.
/// </summary>
/// <remarks>
/// Registry credentials come from Docker's <c>~/.docker/config.json</c> (<c>auths</c>), which
/// <see cref="LoginAsync"/> writes. Plain HTTP is used only for loopback registries and those in
/// <see cref="CocoonRuntimeOptions.InsecureRegistries"/>, and only after HTTPS failed.
/// </remarks>
public sealed class CocoonImages
{
    private readonly CocoonRuntime _runtime;
    private readonly IReadOnlyList<string> _insecure;

    internal CocoonImages(CocoonRuntime runtime, IReadOnlyList<string> insecureRegistries)
    {
        _runtime = runtime;
        _insecure = insecureRegistries;
    }

    /// <summary>
    /// Pulls an image (linux/amd64) and builds its root file system; blobs already stored are not
    /// fetched again.
    /// </summary>
    /// <param name="reference">A reference as Docker reads it: <c>busybox</c>, <c>localhost:5000/app:1</c>, <c>app@sha256:…</c>.</param>
    /// <param name="progress">Receives per-blob progress; null for none.</param>
    /// <param name="cancellationToken">Cancels the pull; what was verified stays, nothing is named.</param>
    /// <returns>The pulled image.</returns>
    /// <exception cref="CocoonException">
    /// InvalidArgument (a malformed reference, refused credentials, corrupt or hostile content),
    /// NotFound (no such repository or tag), Unavailable (registry unreachable), Unsupported (media
    /// type or platform).
    /// </exception>
    public async Task<ImageInfo> PullAsync(string reference, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ImageReference.Parse(reference);
        using var service = CreateService();
        return await service.PullAsync(reference, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every image in the store.</summary>
    public IReadOnlyList<ImageInfo> List()
    {
        using var service = CreateService();
        return service.List();
    }

    /// <summary>Finds an image by reference (normalised as a pull would) or by digest (or a 12+ digit prefix).</summary>
    /// <param name="reference">The image.</param>
    /// <returns>The image, or null when the store does not hold it.</returns>
    public ImageInfo? Find(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        using var service = CreateService();
        return service.Find(reference);
    }

    /// <summary>
    /// Removes an image reference. Its root file system and blobs are deleted when no other
    /// reference uses them. An image a box was created from is refused unless <paramref name="force"/>.
    /// </summary>
    /// <param name="reference">The image, as for <see cref="Find"/>.</param>
    /// <param name="force">Remove it even though boxes use it.</param>
    /// <returns>The removed image.</returns>
    /// <exception cref="CocoonException">NotFound: no such image; InvalidState: a box uses it.</exception>
    public ImageInfo Remove(string reference, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(reference);
        using var service = CreateService();
        var image = service.Find(reference) ?? throw ImageService.NotFound(reference);
        if (!force)
        {
            var users = _runtime.Boxes.List().Where(b => Uses(b.Config.Image, image)).Select(b => b.Name).ToList();
            if (users.Count > 0)
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidState,
                    $"image '{image.Reference}' is used by box{(users.Count > 1 ? "es" : string.Empty)} {string.Join(", ", users)}; remove {(users.Count > 1 ? "them" : "it")} first, or force with -f");
            }
        }

        return service.Remove(image.Reference);
    }

    /// <summary>Loads the images of an OCI layout tar or a <c>docker save</c> tar (optionally gzipped).</summary>
    /// <param name="archive">The tar file.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The loaded images.</returns>
    public async Task<IReadOnlyList<ImageInfo>> LoadAsync(string archive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        using var service = CreateService();
        return await service.LoadAsync(Path.GetFullPath(archive), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks credentials against a registry and, when it accepts them, stores them in Docker's
    /// <c>config.json</c> (<c>auths</c>, file mode 0600) for later pulls.
    /// </summary>
    /// <param name="registry">host[:port]; <c>docker.io</c> for Docker Hub.</param>
    /// <param name="user">The user name.</param>
    /// <param name="password">The password or token.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The config file written.</returns>
    /// <exception cref="CocoonException">InvalidArgument: the registry refused the credentials.</exception>
    public async Task<string> LoginAsync(string registry, string user, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        var probe = ImageReference.Parse(registry + "/probe");
        if (probe.Registry != registry && !(registry is "index.docker.io"))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{registry}' is not a registry host: give host[:port], e.g. localhost:5000 or docker.io");
        }

        var credential = new NetworkCredential(user, password);
        using (var client = new RegistryClient(_ => credential, _insecure))
        {
            await client.CheckLoginAsync(probe.Registry, cancellationToken).ConfigureAwait(false);
        }

        var config = DockerConfig.FromEnvironment();
        config.Save(probe.Registry, credential);
        return config.FilePath;
    }

    /// <summary>The root file system image (ext4) of a stored image, built if missing.</summary>
    internal Task<string> GetRootfsAsync(string reference, CancellationToken cancellationToken) =>
        GetRootfsAsync(_runtime.Paths, reference, cancellationToken);

    /// <summary>The root file system image (ext4) of an image stored under <paramref name="paths"/>, built if missing.</summary>
    internal static async Task<string> GetRootfsAsync(CocoonPaths paths, string reference, CancellationToken cancellationToken)
    {
        using var service = CreateService(paths, []);
        return await service.GetRootfsAsync(reference, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The config (ENTRYPOINT, CMD, Env, WorkingDir, User) of a stored image.</summary>
    internal ImageConfig GetConfig(string reference)
    {
        using var service = CreateService();
        return service.GetConfig(reference);
    }

    private static bool Uses(string? boxImage, ImageInfo image)
    {
        if (boxImage is null)
        {
            return false;
        }

        return (ImageReference.TryParse(boxImage, out var parsed, out _) && parsed.ToString() == image.Reference) ||
            boxImage == image.Digest;
    }

    private ImageService CreateService() => CreateService(_runtime.Paths, _insecure);

    private static ImageService CreateService(CocoonPaths paths, IReadOnlyList<string> insecure)
    {
        var config = DockerConfig.FromEnvironment();
        return new ImageService(paths.ImagesDirectory, StateFiles.Instance, new RegistryClient(config.Find, insecure));
    }
}
