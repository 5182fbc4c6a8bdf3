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

    /// <summary>
    /// The box path of <paramref name="path"/> for a copy in the container whose root is
    /// <paramref name="root"/>. Its directories resolve inside the root (links followed with the root as
    /// <c>/</c>, so none leads to the box's own files). A final link is resolved the same way when the
    /// copy goes into what it points at: the path ends in <c>/</c> or <c>/.</c>, or, with
    /// <paramref name="into"/>, it points at a directory (as <c>docker cp</c> copies into a linked
    /// directory); otherwise it is kept, so it is archived or replaced as a link, never followed.
    /// A trailing <c>/</c> or <c>/.</c> is kept. Null when links loop.
    /// </summary>
    /// <param name="root">The container's root as the box sees it (<c>/proc/PID/root</c>).</param>
    /// <param name="path">The absolute path in the container.</param>
    /// <param name="into">True for a copy into the container.</param>
    public static string? ForCopy(string root, string path, bool into)
    {
        var contents = path.EndsWith("/.", StringComparison.Ordinal);
        var slashEnd = !contents && path.Length > 1 && path.EndsWith('/');
        var trimmed = (contents ? path[..^2] : path).TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        if (Resolve(root, slash <= 0 ? "/" : trimmed[..slash]) is not { } parent)
        {
            return null;
        }

        var name = trimmed[(slash + 1)..];
        var inside = (parent == "/" ? string.Empty : parent) + (name.Length == 0 ? string.Empty : "/" + name);
        if (name.Length > 0 && new FileInfo(root + inside).LinkTarget is not null)
        {
            if (Resolve(root, inside) is not { } target)
            {
                return null;
            }

            if (contents || slashEnd || (into && Directory.Exists(Path.Join(root, target))))
            {
                inside = target == "/" ? string.Empty : target;
            }
        }

        return root + inside + (contents ? "/." : slashEnd ? "/" : string.Empty);
    }

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
