// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Oci.Tests.Infrastructure;

/// <summary>Reads an ext4 image with debugfs (e2fsprogs), without mounting it.</summary>
public static class Ext4Image
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Copies the image's tree to <paramref name="destination"/> (owners and modes kept; device nodes skipped).</summary>
    public static async Task DumpAsync(string image, string destination)
    {
        Directory.CreateDirectory(destination);
        await DebugfsAsync(image, $"rdump / {destination}");
    }

    /// <summary>debugfs's <c>stat</c> of one path.</summary>
    public static Task<string> StatAsync(string image, string path) => DebugfsAsync(image, $"stat {path}");

    /// <summary>Every path under <paramref name="directory"/>, sorted, symlinks as "path -> target".</summary>
    public static List<string> Tree(string directory)
    {
        var tree = new List<string>();
        Walk(directory);
        return tree.Order(StringComparer.Ordinal).ToList();

        void Walk(string current)
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(current))
            {
                var target = new FileInfo(path).LinkTarget;
                tree.Add(Path.GetRelativePath(directory, path) + (target is null ? string.Empty : " -> " + target));
                if (target is null && Directory.Exists(path))
                {
                    Walk(path);
                }
            }
        }
    }

    private static async Task<string> DebugfsAsync(string image, string request)
    {
        var result = await ProcessRunner.RunAsync("debugfs", ["-R", request, image], Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout;
    }
}
