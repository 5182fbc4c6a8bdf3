// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Shim;

/// <summary>
/// One directory per pod, shared into the pod's box when it boots, under which every container's
/// rootfs appears while the box runs. A box's virtio-fs shares are fixed at boot, so a later
/// container's rootfs reaches the box as a mount beneath the share:
/// <code>
///  &lt;sandbox bundle&gt;/cocoon-pod            bind-mounted on itself, shared propagation
///        └─ &lt;task id&gt;                    the task's rootfs, mounted read-only
///  &lt;sandbox bundle&gt;/cocoon-stage          bind-mounted on itself, private propagation
/// </code>
/// The box's virtiofsd runs in a slave mount namespace of the host's
/// (<see cref="VolumeMount.FollowsHostMounts"/>), so a mount made beneath the share appears in it,
/// and the guest sees it at <see cref="GuestPath"/>/&lt;task id&gt;. The guest stays inside the share:
/// virtiofsd pivots its root into it. Each rootfs must be read-only before it reaches the share,
/// because a remount does not propagate: it is bind-mounted read-only in the private staging
/// directory first, then moved beneath the share (the moved mount carries its flags).
/// </summary>
internal sealed class PodShare
{
    /// <summary>Where the box sees the share.</summary>
    public const string GuestPath = "/run/cocoon-pod";

    private PodShare(string root, string staging)
    {
        Root = root;
        Staging = staging;
    }

    /// <summary>The shared host directory.</summary>
    public string Root { get; }

    /// <summary>The private directory rootfs mounts are made read-only in before they move beneath <see cref="Root"/>.</summary>
    public string Staging { get; }

    /// <summary>The box volume that shares <see cref="Root"/>.</summary>
    public VolumeMount Volume => new(Root, GuestPath, ReadOnly: true) { FollowsHostMounts = true };

    /// <summary>The share of the sandbox whose bundle is <paramref name="sandboxBundle"/>, as it is (to clean up after a shim that died).</summary>
    public static PodShare Open(string sandboxBundle) => new(Path.Combine(sandboxBundle, "cocoon-pod"), Path.Combine(sandboxBundle, "cocoon-stage"));

    /// <summary>Makes the share and staging directories in <paramref name="sandboxBundle"/> and their mounts.</summary>
    /// <exception cref="CocoonException">Internal with mount's words when a mount fails (what was made is undone).</exception>
    public static PodShare Create(string sandboxBundle, ILogger logger)
    {
        var share = Open(sandboxBundle);
        try
        {
            SelfBind(share.Root, "--make-shared");
            SelfBind(share.Staging, "--make-private");
        }
        catch
        {
            share.Dispose(logger);
            throw;
        }

        return share;
    }

    /// <summary>The guest path of task <paramref name="id"/>'s rootfs.</summary>
    public static string GuestRootfs(string id) => GuestPath + "/" + id;

    /// <summary>Brings the rootfs mounted on <paramref name="rootfs"/> beneath the share as <paramref name="id"/>, read-only.</summary>
    /// <exception cref="CocoonException">InvalidArgument for an id that is no single path part; Internal when a mount fails.</exception>
    public void Add(string id, string rootfs)
    {
        if (id is "." or ".." || id.Contains('/', StringComparison.Ordinal) || id.Contains('\0', StringComparison.Ordinal))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"task id '{id}' cannot name a directory; containerd ids are letters, digits and . _ -");
        }

        var staged = Path.Combine(Staging, id);
        var target = Path.Combine(Root, id);
        Directory.CreateDirectory(staged);
        Directory.CreateDirectory(target);
        RootfsMount.Run(["--bind", "-o", "ro", rootfs, staged], $"binding {rootfs} read-only on {staged}");
        try
        {
            RootfsMount.Run(["--move", staged, target], $"moving {staged} to {target}");
        }
        catch
        {
            RootfsMount.Unmount(staged, NullLogger.Instance);
            throw;
        }
        finally
        {
            TryRemoveDirectory(staged);
        }
    }

    /// <summary>Takes task <paramref name="id"/>'s rootfs out of the share (lazily: the box may still hold files in it).</summary>
    public void Remove(string id, ILogger logger)
    {
        var target = Path.Combine(Root, id);
        if (RootfsMount.IsMountPoint(target))
        {
            RootfsMount.Unmount(target, logger, lazy: true);
        }

        TryRemoveDirectory(target);
    }

    /// <summary>Unmounts the share (and anything left beneath it) and the staging directory; failures are logged.</summary>
    public void Dispose(ILogger logger)
    {
        foreach (var directory in (string[])[Root, Staging])
        {
            if (RootfsMount.IsMountPoint(directory))
            {
                RootfsMount.Unmount(directory, logger, lazy: true);
            }

            TryRemoveDirectory(directory);
        }
    }

    private static void SelfBind(string directory, string propagation)
    {
        Directory.CreateDirectory(directory);
        RootfsMount.Run(["--bind", directory, directory], $"binding {directory} on itself");
        RootfsMount.Run([propagation, directory], $"mount {propagation} {directory}");
    }

    private static void TryRemoveDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory);
        }
        catch (IOException)
        {
            // Not empty or already gone: the bundle's owner removes the rest.
        }
    }
}
