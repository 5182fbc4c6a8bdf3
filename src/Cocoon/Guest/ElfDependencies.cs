// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest;

/// <summary>
/// Finds the shared libraries and the dynamic loader a host executable needs, by running
/// <c>ldd</c> on it. Statically linked executables need nothing. Libraries loaded with dlopen at run
/// time are not visible to ldd and must be added by the caller.
/// </summary>
internal static class ElfDependencies
{
    private static readonly TimeSpan LddTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Returns the absolute host paths of the libraries and loader of <paramref name="executablePath"/>, sorted.</summary>
    public static IReadOnlyList<string> Resolve(string executablePath)
    {
        if (!File.Exists(executablePath))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Executable '{executablePath}' does not exist.");
        }

        var result = HostTool.Run(
            "ldd",
            [executablePath],
            $"ldd finds the libraries of '{executablePath}'; install it with 'apt-get install libc-bin'",
            new Dictionary<string, string> { ["LC_ALL"] = "C" },
            LddTimeout);
        return Parse(executablePath, result.Stdout, result.Stderr, result.ExitCode);
    }

    /// <summary>Parses ldd output. Exposed for tests.</summary>
    internal static IReadOnlyList<string> Parse(string executablePath, string stdout, string stderr, int exitCode)
    {
        var all = stdout + "\n" + stderr;
        if (all.Contains("statically linked", StringComparison.Ordinal) || all.Contains("not a dynamic executable", StringComparison.Ordinal))
        {
            return [];
        }

        if (exitCode != 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'ldd {executablePath}' failed (exit {exitCode}): {all.Trim()}. Is it a Linux x86-64 executable?");
        }

        var libraries = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in stdout.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string? path;
            var arrow = line.IndexOf("=>", StringComparison.Ordinal);
            if (arrow >= 0)
            {
                var target = line[(arrow + 2)..].Trim();
                if (target.StartsWith("not found", StringComparison.Ordinal))
                {
                    throw new CocoonException(CocoonErrorCode.NotFound, $"'{executablePath}' needs '{line[..arrow].Trim()}', which is not installed on this host. Install the package that provides it.");
                }

                path = StripAddress(target);
            }
            else
            {
                // The loader line ("/lib64/ld-linux-x86-64.so.2 (0x...)") or the vDSO ("linux-vdso.so.1 (0x...)").
                path = StripAddress(line);
            }

            if (path is not null && path.StartsWith('/'))
            {
                libraries.Add(path);
            }
        }

        return [.. libraries];
    }

    private static string? StripAddress(string text)
    {
        var paren = text.IndexOf(" (", StringComparison.Ordinal);
        var path = (paren >= 0 ? text[..paren] : text).Trim();
        return path.Length == 0 ? null : path;
    }
}
