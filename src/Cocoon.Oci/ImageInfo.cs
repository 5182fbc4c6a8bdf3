// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci;

/// <summary>An image in the local store.</summary>
/// <param name="Reference">The normalised reference it is known by (<c>docker.io/library/busybox:latest</c>).</param>
/// <param name="Digest">Its linux/amd64 manifest digest.</param>
/// <param name="Size">The bytes of its config and layers as stored (compressed layers count compressed).</param>
/// <param name="Created">When it was pulled or loaded under this reference.</param>
public sealed record ImageInfo(string Reference, string Digest, long Size, DateTimeOffset Created);

/// <summary>What a pull is doing with one of its blobs, or with the image as a whole.</summary>
public enum PullStatus
{
    /// <summary>Resolving the reference to a manifest.</summary>
    Resolving,

    /// <summary>Queued behind other downloads.</summary>
    Waiting,

    /// <summary>Bytes are arriving; <see cref="PullProgress.Current"/> counts them.</summary>
    Downloading,

    /// <summary>The blob was already in the store.</summary>
    AlreadyExists,

    /// <summary>The blob arrived and matched its digest and size.</summary>
    Complete,

    /// <summary>Applying the layers and building the image's root file system.</summary>
    BuildingRootfs,

    /// <summary>The image is pulled and its root file system is ready.</summary>
    Done,
}

/// <summary>One progress report of a pull.</summary>
/// <param name="Id">The blob's short digest (12 hex digits), or the image reference for image-wide steps.</param>
/// <param name="Status">What is happening.</param>
/// <param name="Current">Bytes done so far.</param>
/// <param name="Total">Bytes in all (0 when not known).</param>
public sealed record PullProgress(string Id, PullStatus Status, long Current, long Total);
