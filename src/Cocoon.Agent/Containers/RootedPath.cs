// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// Looks up files inside a container's root from outside it: symbolic links are followed with the
/// root as <c>/</c> (an image's <c>/bin -&gt; usr/bin</c> or <c>/usr/bin/sh -&gt; /bin/busybox</c>), so the
/// agent finds what the container's process would find, and never a file outside the root.
/// </summary>
internal static class RootedPath
{
    private const int MaxLinks = 40;

    /// <summary>
    /// Finds <paramref name="program"/> as execvp would inside <paramref name="root"/>: a name with a
    /// slash as it is (relative to <paramref name="workingDir"/>), else each directory of
    /// <paramref name="searchPath"/>. Returns the path inside the container, or null when there is no such file.
    /// </summary>
    public static string? FindExecutable(string root, string program, string searchPath, string workingDir)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var path = program.StartsWith('/') ? program : workingDir.TrimEnd('/') + "/" + program;
            return IsFile(root, path) ? path : null;
        }

        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = directory.TrimEnd('/') + "/" + program;
            if (IsFile(root, candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="path"/> inside <paramref name="root"/> names a file (not a directory), links followed.</summary>
    public static bool IsFile(string root, string path) =>
        Resolve(root, path) is { } resolved && File.Exists(Path.Join(root, resolved));

    /// <summary>The path inside <paramref name="root"/> that <paramref name="path"/> leads to, links followed; null for a loop.</summary>
    public static string? Resolve(string root, string path)
    {
        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = "/" + string.Join('/', resolved.Append(part));
            var target = new FileInfo(Path.Join(root, candidate)).LinkTarget;
            if (target is null)
            {
                resolved.Add(part);
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            if (target.StartsWith('/'))
            {
                resolved.Clear();
            }

            foreach (var next in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(next);
            }
        }

        return "/" + string.Join('/', resolved);
    }
}
