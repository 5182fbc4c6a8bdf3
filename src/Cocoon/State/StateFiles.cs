// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias oci;

using System.Text.Json.Serialization.Metadata;
using oci::Cocoon.Oci.Content;

namespace Cocoon.State;

/// <summary>Hands <see cref="StateStore"/> to the image store, which cannot reference this library.</summary>
internal sealed class StateFiles : IStateFiles
{
    /// <summary>The one instance.</summary>
    public static readonly StateFiles Instance = new();

    private StateFiles()
    {
    }

    /// <inheritdoc/>
    public T? Read<T>(string path, JsonTypeInfo<T> typeInfo)
        where T : class => StateStore.Read(path, typeInfo);

    /// <inheritdoc/>
    public TResult Update<T, TResult>(string path, JsonTypeInfo<T> typeInfo, Func<T> whenMissing, Func<T, (T Value, TResult Result)> mutate)
        where T : class => StateStore.Update(path, typeInfo, whenMissing, mutate);

    /// <inheritdoc/>
    public IDisposable Lock(string path) => StateStore.Lock(path);

    /// <inheritdoc/>
    public void FsyncDirectory(string directory) => StateStore.FsyncDirectory(directory);
}
