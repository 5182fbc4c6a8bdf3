// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common;

/// <summary>A fresh, short state root under /tmp (socket paths stay far from sun_path); deleted on dispose.</summary>
public sealed class TempStateRoot : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public TempStateRoot()
    {
        Path = Directory.CreateTempSubdirectory("cct-").FullName;
    }

    /// <summary>The root directory.</summary>
    public string Path { get; }

    /// <summary>Deletes the directory and everything in it.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
