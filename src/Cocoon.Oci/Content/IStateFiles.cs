// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization.Metadata;

namespace Cocoon.Oci.Content;

/// <summary>
/// The host's crash-safe state files (flock on a lock file, temp file, fsync, rename), as the image
/// store needs them. The one implementation is the host library's <c>StateStore</c>; this seam only
/// keeps <c>Cocoon.Oci</c> free of a dependency on <c>Cocoon</c>.
/// </summary>
internal interface IStateFiles
{
    /// <summary>Reads a state file without locking; null when it does not exist.</summary>
    T? Read<T>(string path, JsonTypeInfo<T> typeInfo)
        where T : class;

    /// <summary>Locks, reads, mutates and atomically rewrites a state file; returns the mutation's result.</summary>
    TResult Update<T, TResult>(string path, JsonTypeInfo<T> typeInfo, Func<T> whenMissing, Func<T, (T Value, TResult Result)> mutate)
        where T : class;

    /// <summary>Takes the exclusive lock guarding <paramref name="path"/> (a file next to it); dispose to release.</summary>
    IDisposable Lock(string path);

    /// <summary>Makes a rename or create in <paramref name="directory"/> durable.</summary>
    void FsyncDirectory(string directory);
}
